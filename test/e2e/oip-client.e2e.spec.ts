import { status as GrpcStatus } from '@grpc/grpc-js';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BlazeRpcClientError,
  getOipClientToken,
  InjectOipClient,
  OipClient,
  OipClientModule,
  OipStreamError,
  type OipStreamResponse,
} from '../../lib/client/index.js';
import { Tensor } from '../../lib/core/tensor/tensor.js';
import { AppModule } from '../../sample/app.module.js';
import { createTestCertificates } from '../helpers/certificates.js';
import { startOipStandin, type OipStandin } from '../helpers/oip-standin-server.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';

/** The error a promise (or an async iteration) failed with, as BlazeRpcClientError. */
async function failure(work: Promise<unknown> | (() => Promise<unknown>)): Promise<BlazeRpcClientError> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    expect(error).toBeInstanceOf(BlazeRpcClientError);
    return error as BlazeRpcClientError;
  }
  throw new Error('expected the call to fail');
}

async function collect(responses: AsyncIterable<OipStreamResponse>): Promise<OipStreamResponse[]> {
  const items: OipStreamResponse[] = [];
  for await (const item of responses) items.push(item);
  return items;
}

const f32 = (shape: number[], values: number[]) => new Tensor('float32', shape, Float32Array.from(values));

describe('OipClient against an independent OIP server', () => {
  let standin: OipStandin;
  let client: OipClient;

  beforeAll(async () => {
    standin = await startOipStandin();
    client = new OipClient(standin.address, { metadata: { 'x-tenant': 'acme' }, timeoutMs: 3000 });
  });

  afterAll(async () => {
    client.close();
    await standin.close();
  });

  const lastCall = (rpc: string) => standin.calls.filter((call) => call.rpc === rpc).at(-1)!;

  describe('health and metadata', () => {
    it('reports liveness, readiness and what the server is', async () => {
      expect(await client.serverLive()).toBe(true);
      expect(await client.serverReady()).toBe(true);
      standin.setServerReady(false);
      expect(await client.serverReady()).toBe(false);
      standin.setServerReady(true);
      expect(await client.serverMetadata()).toEqual({
        name: 'oip-standin',
        version: '0.0.1',
        extensions: ['model_repository', 'statistics', 'model_configuration'],
      });
    });

    it('reads model metadata, readiness, config and the repository index', async () => {
      expect(await client.modelMetadata('int64_inc')).toEqual({
        name: 'int64_inc',
        versions: ['1'],
        platform: 'standin',
        inputs: [{ name: 'x', datatype: 'INT64', shape: [-1, 2] }],
        outputs: [{ name: 'y', datatype: 'INT64', shape: [-1, 2] }],
        properties: { origin: 'stand-in' },
      });
      expect(await client.modelReady('double', '2')).toBe(true);
      expect(lastCall('ModelReady').request).toMatchObject({ name: 'double', version: '2' });
      expect(await client.modelReady('warming')).toBe(false);
      expect(await client.modelConfig('double')).toEqual({
        name: 'double',
        platform: 'standin',
        backend: 'python',
        maxBatchSize: 8,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
        outputs: [
          { name: 'y', datatype: 'FP32', shape: [-1] },
          { name: 'sum', datatype: 'FP32', shape: [1] },
        ],
      });
      expect((await client.modelConfig('echo_bytes')).inputs[0].datatype).toBe('BYTES');
      const index = await client.repositoryIndex();
      expect(index).toEqual(
        expect.arrayContaining([
          { name: 'double', version: '1', state: 'READY', reason: '' },
          { name: 'double', version: '2', state: 'READY', reason: '' },
          { name: 'warming', version: '1', state: 'LOADING', reason: 'warming up' },
        ]),
      );
    });

    it('fails with NOT_FOUND for a model the server does not have', async () => {
      const error = await failure(client.modelMetadata('nope'));
      expect(error.code).toBe(GrpcStatus.NOT_FOUND);
      expect(error.details).toContain("'nope'");
      expect((await failure(client.infer('nope', {}))).codeName).toBe('NOT_FOUND');
    });

    it('counts inferences in the statistics, nanosecond totals past 2^53 exact', async () => {
      const before = Date.now();
      for (let i = 0; i < 3; i++) await client.infer('int64_inc', { x: Tensor.from('int64', [1, 2], [1n, 2n]) });
      const [stats] = await client.modelStatistics('int64_inc');
      expect(stats).toMatchObject({ name: 'int64_inc', inferenceCount: 3, executionCount: 3 });
      expect(stats.inferenceStats.success).toEqual({ count: 3, ns: 3n * 2n ** 55n });
      expect(stats.lastInference).toBeGreaterThanOrEqual(before);
      expect((await client.modelStatistics()).map((s) => s.name)).toEqual(
        expect.arrayContaining(['double', 'echo_bytes', 'int64_inc']),
      );
    });
  });

  describe('infer', () => {
    it('sends a FP32 tensor as raw bytes and returns tensors with their values, shapes and dtypes', async () => {
      const result = await client.infer('double', { x: f32([2, 2], [1, 2, 3, 4.5]) });
      expect(result).toMatchObject({ modelName: 'double', modelVersion: '1', id: '' });
      const y = result.outputs.y as Tensor;
      expect(y).toBeInstanceOf(Tensor);
      expect(y.dtype).toBe('float');
      expect(y.shape).toEqual([2, 2]);
      expect(Array.from(y.data as Float32Array)).toEqual([2, 4, 6, 9]);
      expect(Array.from((result.outputs.sum as Tensor).data as Float32Array)).toEqual([10.5]);
      expect(result.outputInfo.y).toEqual({ datatype: 'FP32', shape: [2, 2], parameters: {} });
      const { request } = lastCall('ModelInfer');
      expect(request.inputs).toEqual([
        expect.objectContaining({ name: 'x', datatype: 'FP32', shape: ['2', '2'], contents: null }),
      ]);
      expect(request.raw_input_contents).toHaveLength(1);
      expect(request.raw_input_contents[0].byteLength).toBe(16);
    });

    it('sends version, id, typed parameters and the requested outputs, and reads them back', async () => {
      const parameters = { flag: false, count: 3, ratio: 0.5, label: 'fast', big: 2n ** 60n, huge: 2n ** 63n };
      const result = await client.infer(
        'double',
        { x: f32([1], [7]) },
        { version: '2', id: 'req-7', parameters, outputs: ['sum'] },
      );
      expect(result).toMatchObject({ modelName: 'double', modelVersion: '2', id: 'req-7', parameters });
      expect(Object.keys(result.outputs)).toEqual(['sum']);
      const sent = lastCall('ModelInfer').request.parameters;
      expect(
        Object.fromEntries(
          Object.entries(sent).map(([name, p]) => [name, (p as { parameter_choice: string }).parameter_choice]),
        ),
      ).toEqual({
        flag: 'bool_param',
        count: 'int64_param',
        ratio: 'double_param',
        label: 'string_param',
        big: 'int64_param',
        huge: 'uint64_param',
      });
      expect((await failure(client.infer('double', { x: f32([1], [1]) }, { version: '9' }))).code).toBe(
        GrpcStatus.NOT_FOUND,
      );
    });

    it('reads servers that answer in typed contents instead of raw bytes', async () => {
      const result = await client.infer('double_typed', { x: f32([3], [0.25, -1, 8]) });
      expect(lastCall('ModelInfer').request.model_name).toBe('double_typed');
      const y = result.outputs.y as Tensor;
      expect([y.dtype, y.shape]).toEqual(['float', [3]]);
      expect(Array.from(y.data as Float32Array)).toEqual([0.5, -2, 16]);
      expect(Array.from((result.outputs.sum as Tensor).data as Float32Array)).toEqual([7.25]);
    });

    it('sends text as BYTES and returns strings, or Buffers when asked', async () => {
      const text = await client.infer('echo_bytes', { text: ['hello', 'wörld'] });
      expect(text.outputs.text).toEqual(['HELLO', 'WÖRLD']);
      expect(text.outputInfo.text).toMatchObject({ datatype: 'BYTES', shape: [2] });
      expect((await client.infer('echo_bytes', { text: 'one' })).outputs.text).toEqual(['ONE']);
      const binary = await client.infer(
        'echo_bytes',
        { text: [Buffer.from('ab'), new Uint8Array([0x63])] },
        { bytesAs: 'buffer' },
      );
      expect(binary.outputs.text).toEqual([Buffer.from('AB'), Buffer.from('C')]);
      const grid = await client.infer('echo_bytes', { text: { datatype: 'BYTES', shape: [2, 1], data: ['x', 'y'] } });
      expect(grid.outputs.text).toEqual(['X', 'Y']);
      expect(grid.outputInfo.text.shape).toEqual([2, 1]);
    });

    it('keeps INT64 values exact both ways, from tensors or from integer strings', async () => {
      const big = 2n ** 62n;
      const result = await client.infer('int64_inc', { x: Tensor.from('int64', [2, 2], [1n, big, -5n, 0n]) });
      const y = result.outputs.y as Tensor;
      expect([y.dtype, y.shape]).toEqual(['int64', [2, 2]]);
      expect(Array.from(y.data as BigInt64Array)).toEqual([2n, big + 1n, -4n, 1n]);
      const fromStrings = await client.infer('int64_inc', {
        x: { datatype: 'INT64', shape: [1, 2], data: ['9007199254740993', 1] },
      });
      expect(Array.from((fromStrings.outputs.y as Tensor).data as BigInt64Array)).toEqual([9007199254740994n, 2n]);
    });

    it('sends BF16 rounded from float values and returns it widened to a float tensor', async () => {
      const result = await client.infer('halve_bf16', { x: { datatype: 'BF16', data: [1.5, -3, 256, 1.00390625] } });
      const y = result.outputs.y as Tensor;
      expect(result.outputInfo.y.datatype).toBe('BF16');
      expect([y.dtype, y.shape]).toEqual(['float', [4]]);
      // 1.00390625 is halfway between two bfloat16 values and rounds to the even one, 1.
      expect(Array.from(y.data as Float32Array)).toEqual([0.75, -1.5, 128, 0.5]);
    });

    it('refuses inputs it cannot send with INVALID_ARGUMENT, before calling the server', async () => {
      const calls = standin.calls.length;
      const mismatch = await failure(
        client.infer('double', { x: { datatype: 'FP32', shape: [2, 2], data: [1, 2, 3] } }),
      );
      expect(mismatch.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(mismatch.details).toBe("Input 'x': shape [2, 2] has 4 elements but data has 3");
      const numbers = await failure(client.infer('double', { x: [1, 2] as never }));
      expect(numbers.details).toContain('pass numbers as a Tensor or { datatype, shape, data }');
      expect(
        (await failure(client.infer('double', { x: { datatype: 'FLOAT' as never, data: [1] } }))).details,
      ).toContain("'FLOAT' is not an OIP datatype");
      expect((await failure(client.infer('int64_inc', { x: { datatype: 'INT64', data: [1.5] } }))).details).toContain(
        '1.5 is not an integer',
      );
      expect(standin.calls.length).toBe(calls);
    });

    it('keeps the gRPC code of a server refusal', async () => {
      const decoupled = await failure(client.infer('tokens', { text: 'a b' }));
      expect(decoupled.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(decoupled.details).toContain('ModelStreamInfer');
      expect((await failure(client.infer('warming', {}))).codeName).toBe('UNAVAILABLE');
    });

    it('sends the client metadata with every call, and per-call metadata on top', async () => {
      await client.infer('double', { x: f32([1], [1]) }, { metadata: { authorization: 'Bearer t0ken' } });
      expect(lastCall('ModelInfer').metadata).toMatchObject({ 'x-tenant': 'acme', authorization: 'Bearer t0ken' });
      await client.serverLive();
      expect(lastCall('ServerLive').metadata['x-tenant']).toBe('acme');
      expect(lastCall('ServerLive').metadata.authorization).toBeUndefined();
    });

    it('ends a call that outlives its deadline with DEADLINE_EXCEEDED', async () => {
      const started = Date.now();
      expect((await failure(client.infer('slow', {}, { timeoutMs: 100 }))).code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(1000);
      expect((await failure(client.infer('slow', {}, { deadline: new Date(Date.now() + 50) }))).codeName).toBe(
        'DEADLINE_EXCEEDED',
      );
    });

    it('cancels the call on the server when the signal aborts', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();
      expect((await failure(client.infer('slow', {}, { signal: controller.signal }))).code).toBe(GrpcStatus.CANCELLED);
      expect(Date.now() - started).toBeLessThan(1000);
      for (let i = 0; i < 50 && !standin.cancelled.includes('slow'); i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(standin.cancelled).toContain('slow');
      const calls = standin.calls.length;
      expect((await failure(client.infer('slow', {}, { signal: AbortSignal.abort() }))).code).toBe(
        GrpcStatus.CANCELLED,
      );
      expect(standin.calls.length).toBe(calls);
    });
  });

  describe('streaming (ModelStreamInfer)', () => {
    it('yields every response of a decoupled model, the failed one as an OipStreamError, and goes on', async () => {
      const items = await collect(client.stream('tokens', { text: 'alpha <bad> gamma' }, { id: 's1' }));
      expect(items).toHaveLength(3);
      expect(items[0]).toMatchObject({ modelName: 'tokens', id: 's1', outputs: { token: ['alpha'] } });
      expect(items[1]).toBeInstanceOf(OipStreamError);
      expect(items[1]).toMatchObject({
        code: GrpcStatus.UNKNOWN,
        details: "cannot emit token '<bad>'",
        requestId: 's1',
      });
      expect(items[2]).toMatchObject({ id: 's1', outputs: { token: ['gamma'] } });
    });

    it('carries several requests over one call, answered in order and matched by id', async () => {
      const stream = client.streamInfer({ metadata: { 'x-stream': 'yes' } });
      stream.send('double', { x: f32([2], [1, 2]) }, { id: 'a' });
      stream.send('nope', {}, { id: 'b' });
      stream.send('int64_inc', { x: Tensor.from('int64', [1, 2], [10n, 20n]) }, { id: 'c' });
      stream.end();
      expect(() => stream.send('double', {}, {})).toThrow(/ended/);
      const [a, b, c] = await collect(stream);
      expect(a).toMatchObject({ id: 'a', modelName: 'double' });
      expect(Array.from((a as { outputs: Record<string, Tensor> }).outputs.y.data as Float32Array)).toEqual([2, 4]);
      expect(b).toBeInstanceOf(OipStreamError);
      expect((b as OipStreamError).requestId).toBe('b');
      expect((b as OipStreamError).details).toContain("unknown model: 'nope'");
      expect(Array.from((c as { outputs: Record<string, Tensor> }).outputs.y.data as BigInt64Array)).toEqual([
        11n,
        21n,
      ]);
      expect(lastCall('ModelStreamInfer').metadata).toMatchObject({ 'x-tenant': 'acme', 'x-stream': 'yes' });
    });

    it('throws DEADLINE_EXCEEDED or CANCELLED from the iteration when the call itself ends', async () => {
      const late = client.streamInfer({ timeoutMs: 100 });
      late.send('slow', {});
      expect((await failure(() => collect(late))).code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      const controller = new AbortController();
      const aborted = client.streamInfer({ signal: controller.signal });
      aborted.send('slow', {});
      setTimeout(() => controller.abort(), 50);
      expect((await failure(() => collect(aborted))).code).toBe(GrpcStatus.CANCELLED);
    });
  });

  describe('waitUntilReady', () => {
    it('waits for a model to become ready, and names it when it does not in time', async () => {
      const timeout = await failure(client.waitUntilReady({ model: 'warming', timeoutMs: 150, intervalMs: 20 }));
      expect(timeout.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      expect(timeout.details).toContain("model 'warming' is not ready");
      setTimeout(() => standin.setModelReady('warming', true), 100);
      const started = Date.now();
      await client.waitUntilReady({ model: 'warming', timeoutMs: 2000, intervalMs: 20 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(await client.modelReady('warming')).toBe(true);
      standin.setModelReady('warming', false);
    });

    it('times out with DEADLINE_EXCEEDED when nothing answers', async () => {
      const nowhere = new OipClient('127.0.0.1:1');
      try {
        const error = await failure(nowhere.waitUntilReady({ timeoutMs: 200, intervalMs: 20 }));
        expect(error.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
        expect(error.details).toMatch(/^Not ready after 200 ms \(last: UNAVAILABLE: /);
      } finally {
        nowhere.close();
      }
    });
  });

  it('talks TLS to a server whose CA it trusts; a plaintext client cannot', async () => {
    const certs = createTestCertificates();
    const secure = await startOipStandin({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    // The certificate names localhost too; naming it avoids Node's warning about IP addresses as TLS server names.
    const trusting = new OipClient(secure.address, {
      tls: { rootCerts: certs.caCert },
      timeoutMs: 2000,
      channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
    });
    const plaintext = new OipClient(secure.address, { timeoutMs: 500 });
    try {
      expect((await trusting.serverMetadata()).name).toBe('oip-standin');
      const result = await trusting.infer('double', { x: f32([1], [21]) });
      expect(Array.from((result.outputs.y as Tensor).data as Float32Array)).toEqual([42]);
      expect((await failure(plaintext.serverLive())).code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      trusting.close();
      plaintext.close();
      await secure.close();
    }
  });

  describe('OipClientModule', () => {
    @Injectable()
    class Gateway {
      constructor(@InjectOipClient() readonly oip: OipClient) {}
    }

    let app: INestApplication;

    afterEach(async () => {
      await app?.close();
    });

    it('injects a client with its options, and closes it when the app shuts down', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          OipClientModule.register({ address: standin.address, metadata: { 'x-app': 'gateway' }, timeoutMs: 2000 }),
        ],
        providers: [Gateway],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      const { oip } = app.get(Gateway);
      expect(await oip.serverLive()).toBe(true);
      expect(lastCall('ServerLive').metadata['x-app']).toBe('gateway');
      await app.close();
      const closed = await failure(oip.serverLive());
      expect(closed.code).toBe(GrpcStatus.FAILED_PRECONDITION);
      expect(closed.details).toContain('is closed');
    });

    it('registers named clients from a factory', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          OipClientModule.registerAsync({ name: 'triton', useFactory: async () => ({ address: standin.address }) }),
        ],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      const triton = app.get<OipClient>(getOipClientToken('triton'));
      expect(triton).toBeInstanceOf(OipClient);
      expect(await triton.modelReady('double')).toBe(true);
    });
  });
});

describe("OipClient against the sample app's own OIP endpoint", () => {
  let running: RunningApp;
  let client: OipClient;

  beforeAll(async () => {
    running = await startApp({ imports: [AppModule.forRoot(testServerOptions)] });
    client = new OipClient(running.address, { timeoutMs: 5000 });
  });

  afterAll(async () => {
    client?.close();
    await running?.app.close();
  });

  it('describes iris as FP32 [-1, 4] -> result and echo as BYTES [1] -> result', async () => {
    await client.waitUntilReady({ model: 'iris', timeoutMs: 2000 });
    expect(await client.modelMetadata('iris')).toMatchObject({
      name: 'iris',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'result', datatype: 'FP32' }],
    });
    expect(await client.modelMetadata('echo')).toMatchObject({
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
      outputs: [{ name: 'result', datatype: 'BYTES' }],
    });
  });

  it('classifies iris flowers and echoes text over ModelInfer', async () => {
    const setosaAndVirginica = f32([2, 4], [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]);
    const iris = await client.infer('iris', { features: setosaAndVirginica });
    const result = iris.outputs.result as Tensor;
    expect([result.dtype, result.shape]).toEqual(['float', [2, 3]]);
    const [setosa, virginica] = result.rows() as number[][];
    expect(setosa[0]).toBeGreaterThan(0.9);
    expect(virginica[2]).toBeGreaterThan(0.9);
    expect((await client.infer('echo', { text: 'hi there' })).outputs.result).toEqual(['hi there']);
  });
});
