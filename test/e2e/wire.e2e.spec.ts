import * as grpc from '@grpc/grpc-js';
import { BlazeRpcModule } from '../../lib/index.js';
import { TypedModels } from '../fixtures/typed.models.js';
import { failureOf } from '../helpers/model-client.js';
import { serveForSuite, testServerOptions } from '../helpers/start-app.js';
import { readTensor, tensorMessage } from '../helpers/tensor-message.js';

describe('wire format and bad input', () => {
  const suite = serveForSuite({
    imports: [BlazeRpcModule.forRoot({ ...testServerOptions, maxReceiveMessageLength: 1024 })],
    providers: [TypedModels],
  });

  const rawCall = (path: string, bytes: Buffer) =>
    new Promise<Buffer>((resolve, reject) =>
      suite.client.raw.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        (error, response) => (error ? reject(error) : resolve(response!)),
      ),
    );

  it('carries int64 beyond 2^53 exactly, as bigint in the handler', async () => {
    await expect(suite.client.unary('PredictNextId', { id: '9007199254740993' })).resolves.toEqual({
      result: '9007199254740994',
    });
  });

  it('passes list and bytes fields through', async () => {
    await expect(suite.client.unary('PredictJoin', { words: ['a', 'b', 'c'], separator: '-' })).resolves.toEqual({
      result: 'a-b-c',
    });
    const { result } = await suite.client.unary('PredictReverse', { payload: Buffer.from([1, 2, 3]) });
    expect([...result]).toEqual([3, 2, 1]);
  });

  it('answers named outputs as one field each', async () => {
    const response = await suite.client.unary('PredictStats', { values: [1, 2, 3, 6] });
    expect(response).toEqual({ count: 4, mean: 3, labels: ['low', 'low', 'high', 'high'] });
  });

  it('mixes tensors, scalars and lists in one model, with named outputs', async () => {
    const response = await suite.client.unary('PredictWeigh', {
      points: tensorMessage('float32', [2, 2], new Float32Array([1, 2, 3, 4])),
      weights: tensorMessage('float32', [2], new Float32Array([10, 100])),
      scale: 0.5,
      tags: ['a', 'b'],
    });
    expect(Array.from(readTensor(response.weighted).data as Float32Array)).toEqual([5, 10, 150, 200]);
    expect(response.summary).toBe('2 rows: a,b');
  });

  it("refuses tensors whose shared 'batch' dimension disagrees, naming both fields", async () => {
    const error = await failureOf(
      suite.client.unary('PredictWeigh', {
        points: tensorMessage('float32', [2, 2], new Float32Array(4)),
        weights: tensorMessage('float32', [3], new Float32Array(3)),
        scale: 1,
        tags: [],
      }),
    );
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toBe("Input 'weights': dimension 'batch' is 3, but 'points' has 'batch' = 2");
  });

  it("answers INTERNAL rather than send an output whose 'batch' differs from the request's", async () => {
    const error = await failureOf(
      suite.client.unary('PredictDropRow', { points: tensorMessage('float32', [3, 2], new Float32Array(6)) }),
    );
    expect(error.code).toBe(grpc.status.INTERNAL);
    expect(error.details).toBe('Internal server error');
  });

  it('answers malformed request bytes with INVALID_ARGUMENT naming the message, and keeps serving', async () => {
    const error = await failureOf(
      rawCall('/blazerpc.InferenceService/PredictJoin', Buffer.from([0x0a, 0xff, 0xff, 0xff])),
    );
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^Malformed JoinRequest message/);
    await expect(suite.client.unary('PredictJoin', { words: ['still', 'up'], separator: ' ' })).resolves.toEqual({
      result: 'still up',
    });
  });

  it('answers an unknown method with UNIMPLEMENTED', async () => {
    const error = await failureOf(rawCall('/blazerpc.InferenceService/PredictNothing', Buffer.alloc(0)));
    expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('answers an oversized message with RESOURCE_EXHAUSTED, and keeps serving', async () => {
    const error = await failureOf(suite.client.unary('PredictJoin', { words: ['x'.repeat(4096)], separator: '' }));
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    await expect(suite.client.unary('PredictJoin', { words: ['ok'], separator: '' })).resolves.toEqual({
      result: 'ok',
    });
  });

  it('never sends a result that breaks its declared type: INTERNAL instead', async () => {
    const error = await failureOf(suite.client.unary('PredictLiar', {}));
    expect(error.code).toBe(grpc.status.INTERNAL);
  });
});

describe('client input quoted in errors stays short', () => {
  const suite = serveForSuite({ imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [TypedModels] });
  const weigh = (points: object) =>
    failureOf(
      suite.client.unary('PredictWeigh', {
        points,
        weights: tensorMessage('float32', [2], new Float32Array(2)),
        scale: 1,
      }),
    );

  it('a 3 MB dtype gets INVALID_ARGUMENT with a short message, not a trailer the client refuses', async () => {
    const failure = await weigh({ shape: ['1', '2'], dtype: 'f'.repeat(3_000_000), data: Buffer.alloc(8) });
    expect(failure.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(failure.details.length).toBeLessThan(400);
    expect(failure.details).toContain('more characters');
  });

  it('a 1,000-dimension shape is summarised', async () => {
    const failure = await weigh({
      shape: Array.from({ length: 1000 }, () => '1'),
      dtype: 'float',
      data: Buffer.alloc(8),
    });
    expect(failure.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(failure.details).toContain('... (1000 dimensions)]');
    expect(failure.details.length).toBeLessThan(400);
  });
});
