import { status } from '@grpc/grpc-js';
import { Test } from '@nestjs/testing';
import { BlazeHealthService, BlazeRpcModule, Tensor } from '../../lib/index.js';
import { getOnnxModelToken, OnnxModel, OnnxModule } from '../../lib/runtimes/onnx/index.js';
import { exportIrisOnnx, irisSamples, trainedIris, uniformIris, writeTempModel } from '../fixtures/iris-models.js';
import { failureOf, ModelClient } from '../helpers/model-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { readTensor, tensorMessage } from '../helpers/tensor-message.js';

const firstRows = (n: number) => Float32Array.from(irisSamples.slice(0, n).flatMap((s) => s.features));

describe('ONNX models with no handler code (OnnxModule.serve)', () => {
  let running: RunningApp;
  let client: ModelClient;
  const trainedPath = writeTempModel(exportIrisOnnx(trainedIris));
  const labelledPath = writeTempModel(exportIrisOnnx(trainedIris, { withLabel: true }));

  beforeAll(async () => {
    running = await startApp({
      imports: [
        BlazeRpcModule.forRoot(testServerOptions),
        OnnxModule.serve('flowers', trainedPath),
        OnnxModule.serve('flowers-labelled', labelledPath, { description: 'probabilities and label' }),
      ],
    });
    client = new ModelClient(running.address, running.registry.protoText);
  });

  afterAll(async () => {
    client.close();
    await running.app.close();
  });

  it('declares fields, dtypes and shapes from the model metadata (dynamic first dimension -> batch)', () => {
    const model = running.registry.get('flowers');
    expect(model.inputs.map((i) => [i.name, String((i.type as any).spec)])).toEqual([
      ['features', 'Tensor<float>[batch, 4]'],
    ]);
    expect(model.outputs.map((o) => [o.name, String((o.type as any).spec)])).toEqual([
      ['result', 'Tensor<float>[batch, 3]'],
    ]);
    const labelled = running.registry.get('flowers-labelled');
    expect(labelled.namedOutputs).toBe(true);
    expect(labelled.outputs.map((o) => [o.name, String((o.type as any).spec)])).toEqual([
      ['probabilities', 'Tensor<float>[batch, 3]'],
      ['label', 'Tensor<int64>[batch]'],
    ]);
    expect(running.registry.protoText).toContain(
      'rpc PredictFlowersLabelled(FlowersLabelledRequest) returns (FlowersLabelledResponse);',
    );
  });

  it('serves the model over gRPC', async () => {
    const { result } = await client.unary('PredictFlowers', {
      features: tensorMessage('float32', [2, 4], firstRows(2)),
    });
    const probabilities = readTensor(result);
    expect(probabilities.shape).toEqual([2, 3]);
    expect((probabilities.rows()[0] as number[])[0]).toBeGreaterThan(0.5);
  });

  it('answers a model with two outputs with one named field each', async () => {
    const response = await client.unary('PredictFlowersLabelled', {
      features: tensorMessage('float32', [3, 4], firstRows(3)),
    });
    expect(readTensor(response.probabilities).shape).toEqual([3, 3]);
    const label = readTensor(response.label);
    expect(label.dtype).toBe('int64');
    expect(Array.from(label.data as BigInt64Array)).toEqual([0n, 0n, 0n]);
  });

  it('validates tensors against the metadata-derived spec', async () => {
    const error = await failureOf(
      client.unary('PredictFlowers', { features: tensorMessage('float32', [1, 3], new Float32Array(3)) }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toBe("Input 'features': dimension 1 of [batch, 4] must be 4, got 3");
  });

  it('reloads the model while calls stream in, with none failing', async () => {
    const model = running.app.get<OnnxModel>(getOnnxModelToken('flowers'));
    const uniformBytes = exportIrisOnnx(uniformIris);
    const trainedBytes = exportIrisOnnx(trainedIris);
    let stop = false;
    const failures: unknown[] = [];
    let completed = 0;
    const caller = async () => {
      while (!stop) {
        try {
          const { result } = await client.unary('PredictFlowers', {
            features: tensorMessage('float32', [4, 4], firstRows(4)),
          });
          expect(readTensor(result).shape).toEqual([4, 3]);
          completed++;
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const callers = Array.from({ length: 8 }, caller);
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await model.reload(i % 2 === 0 ? uniformBytes : trainedBytes);
    }
    await model.reload(uniformBytes);
    await new Promise((resolve) => setTimeout(resolve, 30));
    stop = true;
    await Promise.all(callers);
    expect(failures).toEqual([]);
    expect(completed).toBeGreaterThan(50);
    const { result } = await client.unary('PredictFlowers', {
      features: tensorMessage('float32', [1, 4], firstRows(1)),
    });
    for (const p of readTensor(result).rows()[0] as number[]) expect(p).toBeCloseTo(1 / 3, 6);
  });
});

describe('OnnxModel and OnnxModule.register', () => {
  const labelledBytes = exportIrisOnnx(trainedIris, { withLabel: true });

  it('predicts by position and by name, with metadata for inputs and outputs', async () => {
    const model = await OnnxModel.load(labelledBytes);
    expect(model.inputNames).toEqual(['features']);
    expect(model.outputNames).toEqual(['probabilities', 'label']);
    expect(model.inputs).toEqual([{ name: 'features', dtype: 'float', shape: ['batch', 4] }]);
    const features = new Tensor('float32', [2, 4], firstRows(2));
    const [probabilities, label] = await model.predict(features);
    expect(probabilities.shape).toEqual([2, 3]);
    expect(label.dtype).toBe('int64');
    const named = await model.predictDict({ features });
    expect(Object.keys(named).sort()).toEqual(['label', 'probabilities']);
    await expect(model.predict()).rejects.toThrow('takes 1 input(s) (features), got 0');
    await model.dispose();
  });

  it('reports NOT_SERVING while the model loads, SERVING once loaded', async () => {
    let duringLoad: string | undefined;
    const moduleRef = await Test.createTestingModule({
      imports: [
        BlazeRpcModule.forRoot({ protoFile: false }),
        OnnxModule.registerAsync({
          name: 'flowers',
          inject: [BlazeHealthService],
          useFactory: (health: BlazeHealthService) => {
            duringLoad = health.getStatus('flowers');
            return { source: labelledBytes };
          },
        }),
      ],
    }).compile();
    expect(duringLoad).toBe('NOT_SERVING');
    expect(moduleRef.get(BlazeHealthService).getStatus('flowers')).toBe('SERVING');
    expect(moduleRef.get<OnnxModel>(getOnnxModelToken('flowers')).outputNames).toEqual(['probabilities', 'label']);
    await moduleRef.close();
  });

  it('fails startup naming the file and the reason when a model cannot load', async () => {
    await expect(
      Test.createTestingModule({
        imports: [OnnxModule.register({ name: 'gone', source: 'models/missing.onnx' })],
      }).compile(),
    ).rejects.toThrow("Cannot load ONNX model 'models/missing.onnx': the file does not exist");
    const corrupt = writeTempModel(Buffer.from('not an onnx model'));
    await expect(
      Test.createTestingModule({ imports: [OnnxModule.register({ name: 'bad', source: corrupt })] }).compile(),
    ).rejects.toThrow(`Cannot load ONNX model '${corrupt}': `);
  });
});
