import { status } from '@grpc/grpc-js';
import { readIrisCsv } from '../../sample/iris/iris-data.js';
import { AppModule } from '../../sample/app.module.js';
import { failureOf } from '../helpers/model-client.js';
import { serveForSuite, testServerOptions } from '../helpers/start-app.js';
import { readTensor, tensorMessage } from '../helpers/tensor-message.js';

describe('the iris sample over a real connection (ONNX Runtime)', () => {
  const suite = serveForSuite({ imports: [AppModule.forRoot(testServerOptions)] });
  const samples = readIrisCsv('sample/iris/iris.csv');

  const predict = (features: Float32Array, rows: number) =>
    suite.client.unary('PredictIris', { features: tensorMessage('float32', [rows, 4], features) });

  it('classifies the shipped iris data with accuracy >= 0.9, probabilities summing to 1 per row', async () => {
    const features = Float32Array.from(samples.flatMap((s) => s.features));
    const probabilities = readTensor((await predict(features, samples.length)).result);
    expect(probabilities.dtype).toBe('float');
    expect(probabilities.shape).toEqual([150, 3]);
    const rows = probabilities.rows() as number[][];
    for (const row of rows) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const correct = rows.filter((row, i) => row.indexOf(Math.max(...row)) === samples[i].label).length;
    expect(correct / samples.length).toBeGreaterThanOrEqual(0.9);
  });

  it('answers one row per request row, for any batch size', async () => {
    const single = readTensor((await predict(Float32Array.from(samples[0].features), 1)).result);
    expect(single.shape).toEqual([1, 3]);
    const empty = readTensor((await predict(new Float32Array(0), 0)).result);
    expect(empty.shape).toEqual([0, 3]);
  });

  it.each([
    [
      'a wrong dtype',
      { shape: ['1', '4'], dtype: 'float64', data: Buffer.alloc(32) },
      "Input 'features': expected dtype float, got double",
    ],
    [
      'a wrong shape',
      { shape: ['1', '5'], dtype: 'float32', data: Buffer.alloc(20) },
      "Input 'features': dimension 1 of [batch, 4] must be 4, got 5",
    ],
    [
      'a wrong rank',
      { shape: ['4'], dtype: 'float32', data: Buffer.alloc(16) },
      "Input 'features': expected shape [batch, 4] (rank 2), got [4] (rank 1)",
    ],
    [
      'short data',
      { shape: ['2', '4'], dtype: 'float32', data: Buffer.alloc(16) },
      "Input 'features': data has 16 bytes, but shape [2, 4] of float needs 32",
    ],
    [
      'an unknown dtype',
      { shape: ['1', '4'], dtype: 'complex', data: Buffer.alloc(16) },
      "Input 'features': unknown dtype, got dtype 'complex'",
    ],
    [
      'a negative dimension',
      { shape: ['-1', '4'], dtype: 'float32', data: Buffer.alloc(16) },
      "Input 'features': dimension 0 of shape [-1, 4] is -1",
    ],
    ['a missing tensor', undefined, "Input 'features' is missing"],
  ])('refuses %s with INVALID_ARGUMENT naming the field, and keeps serving', async (_case, features, message) => {
    const error = await failureOf(suite.client.unary('PredictIris', features === undefined ? {} : { features }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain(message);
    const ok = readTensor((await predict(Float32Array.from(samples[100].features), 1)).result);
    expect(ok.shape).toEqual([1, 3]);
  });
});
