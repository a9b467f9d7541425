import { status } from '@grpc/grpc-js';
import * as ort from 'onnxruntime-node';
import { BlazeRpcModule, Tensor } from '../../lib/index.js';
import { getOnnxModelToken, OnnxModel, OnnxModule } from '../../lib/runtimes/onnx/index.js';
import { writeHeavyModel } from '../fixtures/heavy-onnx.model.js';
import { exportIrisOnnx, irisSamples, trainedIris, uniformIris, writeTempModel } from '../fixtures/iris-models.js';
import { HealthClient } from '../helpers/health-client.js';
import { failureOf, ModelClient } from '../helpers/model-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { readTensor, tensorMessage } from '../helpers/tensor-message.js';
import { sleep } from '../helpers/time.js';

const oneThread = { sessionOptions: { intraOpNumThreads: 1 } };
/** `rows` rows of a [rows, 8, 512] input, different for every `seed`. */
function heavyInput(rows: number, seed: number): Float32Array {
  return Float32Array.from({ length: rows * 8 * 512 }, (_, i) => Math.sin(seed * 31 + i * 0.37));
}

describe('ONNX model instances in worker threads', () => {
  const smallPath = writeTempModel(writeHeavyModel({ rows: 8, layers: 3 }));
  const slowPath = writeTempModel(writeHeavyModel());
  const trainedPath = writeTempModel(exportIrisOnnx(trainedIris));
  const uniformPath = writeTempModel(exportIrisOnnx(uniformIris));
  let running: RunningApp;
  let client: ModelClient;
  let health: HealthClient;

  beforeAll(async () => {
    running = await startApp({
      imports: [
        BlazeRpcModule.forRoot(testServerOptions),
        OnnxModule.serve('small', smallPath, { instances: 2, ...oneThread }),
        OnnxModule.serve('slow', slowPath, oneThread),
        OnnxModule.serve('flowers', trainedPath, { instances: 2, ...oneThread }),
      ],
    });
    client = new ModelClient(running.address, running.registry.protoText);
    health = new HealthClient(running.address);
  });

  afterAll(async () => {
    client.close();
    health.close();
    await running.app.close();
  });

  it('runs two instances and batches for both; concurrent mixed batches get exactly what bare onnxruntime gives', async () => {
    expect(running.app.get<OnnxModel>(getOnnxModelToken('small')).instances).toBe(2);
    expect(running.registry.get('small').batching).toMatchObject({ maxConcurrentBatches: 2, batchTimeoutMs: 0 });
    const bare = await ort.InferenceSession.create(smallPath, { intraOpNumThreads: 1 });
    const requests = Array.from({ length: 24 }, (_, i) => ({ rows: 1 + (i % 3), seed: i }));
    const served = await Promise.all(
      requests.map(({ rows, seed }) =>
        client.unary('PredictSmall', { x: tensorMessage('float', [rows, 8, 512], heavyInput(rows, seed)) }),
      ),
    );
    for (const [i, { rows, seed }] of requests.entries()) {
      const { y } = await bare.run({ x: new ort.Tensor('float32', heavyInput(rows, seed), [rows, 8, 512]) });
      const result = readTensor(served[i].result);
      expect(result.shape).toEqual([rows, 8, 4]);
      const expected = y.data as Float32Array;
      (result.data as Float32Array).forEach((value, k) => expect(value).toBeCloseTo(expected[k], 4));
    }
    await bare.release();
  });

  it('answers a health check while the only instance runs a long inference, before that inference ends', async () => {
    const order: string[] = [];
    const inference = client
      .unary('PredictSlow', { x: tensorMessage('float', [1, 256, 512], new Float32Array(256 * 512)) })
      .then(() => order.push('inference'));
    await sleep(15);
    expect(await health.check('')).toBe('SERVING');
    order.push('health');
    await inference;
    expect(order).toEqual(['health', 'inference']);
  });

  it('a call cancelled while its inference runs leaves the instance serving the next calls', async () => {
    const x = { x: tensorMessage('float', [1, 256, 512], new Float32Array(256 * 512)) };
    const call = (client.raw as any).PredictSlow(x, () => undefined);
    const cancelled = new Promise<number>((resolve) => call.on('status', (s: { code: number }) => resolve(s.code)));
    await sleep(15);
    call.cancel();
    expect(await cancelled).toBe(status.CANCELLED);
    const after = await client.unary('PredictSlow', x);
    expect(readTensor(after.result).shape).toEqual([1, 256, 4]);
  });

  it('reload() under load: every call succeeds, and calls after it use the new model', async () => {
    const model = running.app.get<OnnxModel>(getOnnxModelToken('flowers'));
    const features = { features: tensorMessage('float', [1, 4], Float32Array.from(irisSamples[0].features)) };
    let stop = false;
    const codes: (number | 'ok')[] = [];
    const caller = async () => {
      while (!stop)
        codes.push(
          await client.unary('PredictFlowers', features).then(
            () => 'ok' as const,
            (e) => e.code,
          ),
        );
    };
    const callers = Array.from({ length: 6 }, caller);
    await sleep(30);
    await model.reload(uniformPath);
    await sleep(30);
    stop = true;
    await Promise.all(callers);
    expect(codes.length).toBeGreaterThan(20);
    expect(codes.filter((c) => c !== 'ok')).toEqual([]);
    const { result } = await client.unary('PredictFlowers', features);
    (readTensor(result).data as Float32Array).forEach((p) => expect(p).toBeCloseTo(1 / 3, 5));
    expect(model.source).toBe(`'${uniformPath}'`);
  });

  it('a model that fails to reload keeps serving the old one', async () => {
    const model = running.app.get<OnnxModel>(getOnnxModelToken('small'));
    await expect(model.reload(writeTempModel(new Uint8Array([1, 2, 3])))).rejects.toThrow(/Cannot load ONNX model/);
    const response = await client.unary('PredictSmall', { x: tensorMessage('float', [1, 8, 512], heavyInput(1, 1)) });
    expect(readTensor(response.result).shape).toEqual([1, 8, 4]);
  });

  it('a bad input is refused with INVALID_ARGUMENT before it reaches an instance', async () => {
    const failure = await failureOf(
      client.unary('PredictSmall', { x: tensorMessage('float', [1, 8, 511], new Float32Array(8 * 511)) }),
    );
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain("'x'");
  });
});

describe('ONNX execution metrics', () => {
  it('time session.run() in the instance only: time spent waiting for a free instance counts as queue wait', async () => {
    const running = await startApp(
      {
        imports: [
          BlazeRpcModule.forRoot({ ...testServerOptions, metrics: true }),
          OnnxModule.serve('slow', writeTempModel(writeHeavyModel()), { ...oneThread, batching: false }),
        ],
      },
      { http: true },
    );
    const client = new ModelClient(running.address, running.registry.protoText);
    try {
      const x = { x: tensorMessage('float', [1, 256, 512], new Float32Array(256 * 512)) };
      const started = performance.now();
      await Promise.all([1, 2, 3].map(() => client.unary('PredictSlow', x)));
      const wallSeconds = (performance.now() - started) / 1000;
      const text = await (await fetch(`${running.httpUrl}/metrics`)).text();
      const value = (name: string) =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(`${name}{model="slow"}`))!
            .split(' ')
            .pop(),
        );
      expect(value('blazerpc_inference_duration_seconds_count')).toBe(3);
      expect(value('blazerpc_inference_executions_total')).toBe(3);
      // Three runs one after another on one instance: together about the whole wall time. Timed
      // per call from dispatch they would sum to about twice that (the later calls wait for the instance).
      const inference = value('blazerpc_inference_duration_seconds_sum');
      expect(inference).toBeLessThanOrEqual(wallSeconds);
      expect(inference).toBeGreaterThan(wallSeconds * 0.5);
      // The third call waited in the queue for about one run while two were on the instance.
      expect(value('blazerpc_queue_wait_seconds_sum')).toBeGreaterThan(0.03);
    } finally {
      client.close();
      await running.app.close();
    }
  });
});

describe('ONNX instances at shutdown', () => {
  it('stop with the app, after its gRPC server has drained', async () => {
    const running = await startApp({
      imports: [
        BlazeRpcModule.forRoot(testServerOptions),
        OnnxModule.serve('flowers', writeTempModel(exportIrisOnnx(trainedIris))),
      ],
    });
    const model = running.app.get<OnnxModel>(getOnnxModelToken('flowers'));
    const features = Tensor.from('float32', [1, 4], irisSamples[0].features);
    await expect(model.predict(features)).resolves.toHaveLength(1);
    await running.app.close();
    await expect(model.predict(features)).rejects.toThrow('is closed');
  });
});

describe('OnnxModel used directly', () => {
  it('predict() leaves the caller’s tensors intact and returns results as tensors', async () => {
    const model = await OnnxModel.load(writeTempModel(exportIrisOnnx(trainedIris)), { instances: 2, ...oneThread });
    try {
      const features = Tensor.from('float32', [2, 4], [...irisSamples[0].features, ...irisSamples[60].features]);
      const [probabilities] = await model.predict(features);
      expect(probabilities.shape).toEqual([2, 3]);
      expect(features.data.length).toBe(8);
      expect(Array.from(features.data as Float32Array).slice(0, 4)).toEqual(
        Array.from(Float32Array.from(irisSamples[0].features)),
      );
    } finally {
      await model.dispose();
    }
  });

  it("refuses 'instances' that is not a positive integer, saying so", async () => {
    await expect(OnnxModel.load(writeTempModel(exportIrisOnnx(trainedIris)), { instances: 0 })).rejects.toThrow(
      "'instances' must be a positive integer, got 0",
    );
  });
});

describe('what a served ONNX model shows clients', () => {
  it('the generated .proto (served by reflection) names the model file, never its directories', async () => {
    const path = writeTempModel(exportIrisOnnx(trainedIris), 'flowers.onnx');
    const running = await startApp({
      imports: [BlazeRpcModule.forRoot(testServerOptions), OnnxModule.serve('flowers', path)],
    });
    try {
      expect(running.registry.protoText).toContain("ONNX model 'flowers.onnx'");
      expect(running.registry.protoText).not.toContain(path.slice(0, path.lastIndexOf('/')));
    } finally {
      await running.app.close();
    }
  });
});
