import * as grpc from '@grpc/grpc-js';
import { BlazeHealthService, BlazeRpcModule } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { OipModels } from '../fixtures/oip.models.js';
import { TypedModels } from '../fixtures/typed.models.js';
import { failureOf, ModelClient } from '../helpers/model-client.js';
import { OipSpecClient, rawBytes, rawFloat32, readBytes, readFloat32 } from '../helpers/oip-spec-client.js';
import type { ModuleMetadata } from '@nestjs/common';
import { startApp, testServerOptions, type RunningApp, type StartOptions } from '../helpers/start-app.js';

/** Starts an app for the enclosing describe, with a spec-only OIP client and a BlazeRPC client on it. */
function serveBothProtocols(metadata: ModuleMetadata, options?: StartOptions) {
  const suite = {} as { running: RunningApp; oip: OipSpecClient; blaze: ModelClient };
  beforeAll(async () => {
    suite.running = await startApp(metadata, options);
    suite.oip = new OipSpecClient(suite.running.address);
    suite.blaze = new ModelClient(suite.running.address, suite.running.registry.protoText);
  });
  afterAll(async () => {
    suite.oip?.close();
    suite.blaze?.close();
    await suite.running?.app.close();
  });
  return suite;
}

const IRIS_ROWS = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3];
const features = (values = IRIS_ROWS) => ({ name: 'features', datatype: 'FP32', shape: [values.length / 4, 4] });

describe('the Open Inference Protocol (KServe v2) on the sample app, called by a client that knows only the spec', () => {
  const suite = serveBothProtocols({ imports: [AppModule.forRoot(testServerOptions)] });
  let running: RunningApp;
  let oip: OipSpecClient;
  let blaze: ModelClient;
  beforeAll(() => ({ running, oip, blaze } = suite));

  it('answers ServerLive, ServerReady and ServerMetadata', async () => {
    await expect(oip.call('ServerLive', {})).resolves.toEqual({ live: true });
    await expect(oip.call('ServerReady', {})).resolves.toEqual({ ready: true });
    const metadata = await oip.call('ServerMetadata', {});
    expect(metadata).toMatchObject({
      name: 'nestjs-blazerpc',
      extensions: ['model_configuration', 'statistics', 'parameters'],
    });
    expect(metadata.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('describes iris and echo in ModelMetadata, with OIP datatypes and -1 for symbolic dimensions', async () => {
    await expect(oip.call('ModelMetadata', { name: 'iris' })).resolves.toMatchObject({
      name: 'iris',
      versions: ['1'],
      inputs: [{ name: 'features', datatype: 'FP32', shape: ['-1', '4'] }],
      outputs: [{ name: 'result', datatype: 'FP32', shape: ['-1', '3'] }],
    });
    await expect(oip.call('ModelMetadata', { name: 'echo' })).resolves.toMatchObject({
      inputs: [{ name: 'text', datatype: 'BYTES', shape: ['1'] }],
      outputs: [{ name: 'result', datatype: 'BYTES', shape: ['1'] }],
    });
    await expect(oip.call('ModelMetadata', { name: 'tokens' })).resolves.toMatchObject({
      properties: { streaming: 'true' },
    });
  });

  it('runs iris from raw_input_contents and answers in raw_output_contents, the same probabilities as over BlazeRPC', async () => {
    const response = await oip.call('ModelInfer', {
      model_name: 'iris',
      id: 'req-7',
      inputs: [features()],
      raw_input_contents: [rawFloat32(IRIS_ROWS)],
    });
    expect(response).toMatchObject({
      model_name: 'iris',
      model_version: '1',
      id: 'req-7',
      outputs: [{ name: 'result', datatype: 'FP32', shape: ['2', '3'] }],
    });
    const probabilities = readFloat32(response.raw_output_contents[0]);
    const overBlaze = await blaze.unary('PredictIris', {
      features: { shape: [2, 4], dtype: 'float', data: rawFloat32(IRIS_ROWS) },
    });
    expect(probabilities).toEqual(readFloat32(overBlaze.result.data));
    expect(probabilities[0]).toBeGreaterThan(0.9); // setosa
  });

  it('takes typed contents as well', async () => {
    const typed = await oip.call('ModelInfer', {
      model_name: 'iris',
      inputs: [{ ...features(), contents: { fp32_contents: IRIS_ROWS } }],
    });
    const raw = await oip.call('ModelInfer', {
      model_name: 'iris',
      inputs: [features()],
      raw_input_contents: [rawFloat32(IRIS_ROWS)],
    });
    expect(readFloat32(typed.raw_output_contents[0])).toEqual(readFloat32(raw.raw_output_contents[0]));
  });

  it('echoes BYTES, raw and typed', async () => {
    const raw = await oip.call('ModelInfer', {
      model_name: 'echo',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [rawBytes('héllo')],
    });
    expect(raw.outputs).toEqual([expect.objectContaining({ name: 'result', datatype: 'BYTES', shape: ['1'] })]);
    expect(readBytes(raw.raw_output_contents[0])).toEqual(['héllo']);
    const typed = await oip.call('ModelInfer', {
      model_name: 'echo',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('hi')] } }],
    });
    expect(readBytes(typed.raw_output_contents[0])).toEqual(['hi']);
  });

  it('guards secure exactly as over BlazeRPC: metadata authorization: Bearer <token>', async () => {
    const request = {
      model_name: 'secure',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [rawBytes('hi')],
    };
    expect((await failureOf(oip.call('ModelInfer', request))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await failureOf(oip.call('ModelInfer', request, { authorization: 'Bearer wrong' }))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    const allowed = await oip.call('ModelInfer', request, { authorization: 'Bearer demo-token' });
    expect(readBytes(allowed.raw_output_contents[0])[0]).toMatch(/^Hello .+, you said: hi$/);
  });

  it('streams tokens over ModelStreamInfer, one response per word; a bad request in the stream gets an error_message and the stream goes on', async () => {
    const prompt = (text: string) => ({
      model_name: 'tokens',
      inputs: [{ name: 'prompt', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [rawBytes(text)],
    });
    const responses = await oip.stream([prompt('one two three'), { model_name: 'nope' }, prompt('four')]);
    const words = responses.map((r) =>
      r.error_message ? `error: ${r.error_message}` : readBytes(r.infer_response.raw_output_contents[0])[0],
    );
    expect(words).toEqual(['one', 'two', 'three', "error: NOT_FOUND: Model 'nope' is not registered", 'four']);
  });

  it('serves streaming-input models over ModelStreamInfer: each request naming the model is one message of one call', async () => {
    const text = (model: string, value: string) => ({
      model_name: model,
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [rawBytes(value)],
    });
    const relayed = await oip.stream([text('relay', 'hello'), text('relay', 'streaming'), text('relay', 'world')]);
    expect(relayed.map((r) => readBytes(r.infer_response.raw_output_contents[0])[0])).toEqual([
      'HELLO',
      'STREAMING',
      'WORLD',
    ]);
    const tallied = await oip.stream([text('tally', 'the quick'), text('tally', 'brown fox jumps'), text('tally', '')]);
    expect(tallied).toHaveLength(1);
    expect(tallied[0].infer_response.raw_output_contents[0].readUInt32LE(0)).toBe(5);
    const failure = await failureOf(oip.call('ModelInfer', text('tally', 'one')));
    expect(failure.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(failure.details).toMatch(/takes a stream of requests: call it with ModelStreamInfer/);
  });

  it('answers ModelReady, RepositoryIndex, ModelConfig and ModelStatistics', async () => {
    await expect(oip.call('ModelReady', { name: 'iris' })).resolves.toEqual({ ready: true });
    const index = await oip.call('RepositoryIndex', {});
    expect(index.models.map((m: any) => `${m.name}@${m.version}:${m.state}`).sort()).toEqual([
      'echo@1:READY',
      'info@1:READY',
      'iris@1:READY',
      'relay@1:READY',
      'secure@1:READY',
      'tally@1:READY',
      'tokens@1:READY',
    ]);
    const { config } = await oip.call('ModelConfig', { name: 'iris' });
    expect(config).toMatchObject({
      name: 'iris',
      max_batch_size: 32,
      input: [{ name: 'features', data_type: 'TYPE_FP32', dims: ['4'] }],
      output: [{ name: 'result', data_type: 'TYPE_FP32', dims: ['3'] }],
    });
    const {
      model_stats: [stats],
    } = await oip.call('ModelStatistics', { name: 'iris' });
    expect(Number(stats.inference_count)).toBeGreaterThanOrEqual(3);
    expect(Number(stats.execution_count)).toBeGreaterThanOrEqual(1);
    expect(Number(stats.inference_stats.success.count)).toBeGreaterThanOrEqual(3);
    expect(Number(stats.inference_stats.compute_infer.ns)).toBeGreaterThan(0);
  });

  it('reports a model that is not SERVING as not ready, and refuses its calls UNAVAILABLE', async () => {
    const health = running.app.get(BlazeHealthService);
    health.setStatus('echo', 'NOT_SERVING');
    try {
      await expect(oip.call('ModelReady', { name: 'echo' })).resolves.toEqual({ ready: false });
      const failure = await failureOf(
        oip.call('ModelInfer', {
          model_name: 'echo',
          inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
          raw_input_contents: [rawBytes('x')],
        }),
      );
      expect(failure.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      health.setStatus('echo', 'SERVING');
    }
  });

  describe('refusals name the tensor', () => {
    const cases: Array<[string, object, number, RegExp]> = [
      ['an unknown model', { model_name: 'nope' }, grpc.status.NOT_FOUND, /Model 'nope' is not registered/],
      [
        'an unknown version',
        { model_name: 'iris', model_version: '9' },
        grpc.status.NOT_FOUND,
        /Model 'iris' version '9'/,
      ],
      [
        'a wrong datatype',
        { model_name: 'iris', inputs: [{ ...features(), datatype: 'FP64' }], raw_input_contents: [Buffer.alloc(64)] },
        grpc.status.INVALID_ARGUMENT,
        /'features': expected datatype FP32, got FP64/,
      ],
      [
        'a wrong shape',
        { model_name: 'iris', inputs: [{ ...features(), shape: [2, 5] }], raw_input_contents: [Buffer.alloc(40)] },
        grpc.status.INVALID_ARGUMENT,
        /features/,
      ],
      [
        'a wrong byte length',
        { model_name: 'iris', inputs: [features()], raw_input_contents: [Buffer.alloc(30)] },
        grpc.status.INVALID_ARGUMENT,
        /'features': shape \[2, 4\] of FP32 needs 32 bytes, raw_input_contents has 30/,
      ],
      [
        'a missing input',
        { model_name: 'iris', inputs: [] },
        grpc.status.INVALID_ARGUMENT,
        /Input 'features' is missing/,
      ],
      [
        'an unknown input',
        {
          model_name: 'iris',
          inputs: [features(), { name: 'extra', datatype: 'FP32', shape: [1] }],
          raw_input_contents: [rawFloat32(IRIS_ROWS), rawFloat32([1])],
        },
        grpc.status.INVALID_ARGUMENT,
        /Input 'extra' is not an input of this model/,
      ],
      [
        'raw and typed contents mixed',
        {
          model_name: 'iris',
          inputs: [{ ...features(), contents: { fp32_contents: IRIS_ROWS } }],
          raw_input_contents: [rawFloat32(IRIS_ROWS)],
        },
        grpc.status.INVALID_ARGUMENT,
        /'features': data both in raw_input_contents and in contents/,
      ],
      [
        'an unknown requested output',
        {
          model_name: 'iris',
          inputs: [features()],
          raw_input_contents: [rawFloat32(IRIS_ROWS)],
          outputs: [{ name: 'logits' }],
        },
        grpc.status.INVALID_ARGUMENT,
        /Requested output 'logits' is not an output of 'iris'/,
      ],
      [
        'too few typed values',
        { model_name: 'iris', inputs: [{ ...features(), contents: { fp32_contents: [1, 2] } }] },
        grpc.status.INVALID_ARGUMENT,
        /'features': the shape has 8 elements, contents.fp32_contents has 2/,
      ],
      [
        'a streaming model on ModelInfer',
        {
          model_name: 'tokens',
          inputs: [{ name: 'prompt', datatype: 'BYTES', shape: [1] }],
          raw_input_contents: [rawBytes('a b')],
        },
        grpc.status.FAILED_PRECONDITION,
        /call it with ModelStreamInfer/,
      ],
    ];
    it.each(cases)('%s', async (_, request, code, message) => {
      const failure = await failureOf(oip.call('ModelInfer', request));
      expect(failure.code).toBe(code);
      expect(failure.details).toMatch(message);
    });
  });
});

describe('OIP beside BlazeRPC on every kind of field, versions, parameters and shared batches', () => {
  const suite = serveBothProtocols(
    { imports: [BlazeRpcModule.forRoot({ ...testServerOptions, metrics: true })], providers: [OipModels, TypedModels] },
    { http: true },
  );
  let running: RunningApp;
  let oip: OipSpecClient;
  let blaze: ModelClient;
  beforeAll(() => ({ running, oip, blaze } = suite));

  it('routes model_version, and the default version when it is empty', async () => {
    const call = (model_version: string) =>
      oip.call('ModelInfer', {
        model_name: 'versioned',
        model_version,
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [rawBytes('x')],
      });
    expect(readBytes((await call('1')).raw_output_contents[0])).toEqual(['v1:x']);
    expect(readBytes((await call('')).raw_output_contents[0])).toEqual(['v2:x']);
    expect((await call('')).model_version).toBe('2');
  });

  it('hands request parameters to the handler through its context', async () => {
    const response = await oip.call('ModelInfer', {
      model_name: 'params',
      parameters: {
        temperature: { double_param: 0.5 },
        seed: { int64_param: '9007199254740993' },
        greedy: { bool_param: true },
        mode: { string_param: 'fast' },
      },
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [rawBytes('hi')],
    });
    expect(JSON.parse(readBytes(response.raw_output_contents[0])[0]!)).toEqual({
      text: 'hi',
      protocol: 'oip',
      parameters: { temperature: 0.5, seed: '9007199254740993n', greedy: true, mode: 'fast' },
    });
  });

  it('maps scalars to shape [1], lists to [-1], and keeps named outputs; output selection returns only what is asked', async () => {
    const metadata = await oip.call('ModelMetadata', { name: 'weigh' });
    expect(metadata.inputs).toEqual([
      { name: 'points', datatype: 'FP32', shape: ['-1', '2'] },
      { name: 'weights', datatype: 'FP32', shape: ['-1'] },
      { name: 'scale', datatype: 'FP32', shape: ['1'] },
      { name: 'tags', datatype: 'BYTES', shape: ['-1'] },
    ]);
    const response = await oip.call('ModelInfer', {
      model_name: 'weigh',
      inputs: [
        { name: 'points', datatype: 'FP32', shape: [2, 2] },
        { name: 'weights', datatype: 'FP32', shape: [2] },
        { name: 'scale', datatype: 'FP32', shape: [1] },
        { name: 'tags', datatype: 'BYTES', shape: [2] },
      ],
      raw_input_contents: [rawFloat32([1, 2, 3, 4]), rawFloat32([1, 10]), rawFloat32([2]), rawBytes('a', 'b')],
      outputs: [{ name: 'summary' }],
    });
    expect(response.outputs).toEqual([expect.objectContaining({ name: 'summary', datatype: 'BYTES', shape: ['1'] })]);
    expect(readBytes(response.raw_output_contents[0])).toEqual(['2 rows: a,b']);
    const both = await oip.call('ModelInfer', {
      model_name: 'next-id',
      inputs: [{ name: 'id', datatype: 'INT64', shape: [1], contents: { int64_contents: ['9007199254740993'] } }],
    });
    expect(both.raw_output_contents[0].readBigInt64LE(0)).toBe(9007199254740994n);
  });

  it('carries FP16 as raw bits both ways', async () => {
    const bits = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x7bff]).buffer);
    const response = await oip.call('ModelInfer', {
      model_name: 'half',
      inputs: [{ name: 'x', datatype: 'FP16', shape: [3] }],
      raw_input_contents: [bits],
    });
    expect(response.outputs[0]).toMatchObject({ datatype: 'FP16', shape: ['3'] });
    expect(Buffer.compare(response.raw_output_contents[0], bits)).toBe(0);
  });

  it('32 concurrent OIP and 32 concurrent BlazeRPC calls share one batch, each getting its own rows', async () => {
    const models = running.app.get(OipModels);
    models.executions.length = 0;
    const oipCalls = Array.from({ length: 32 }, (_, i) =>
      oip
        .call('ModelInfer', {
          model_name: 'mix',
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }],
          raw_input_contents: [rawFloat32([i, -i])],
        })
        .then((r) => readFloat32(r.raw_output_contents[0])),
    );
    const blazeCalls = Array.from({ length: 32 }, (_, i) =>
      blaze
        .unary('PredictMix', { x: { shape: [1, 2], dtype: 'float', data: rawFloat32([100 + i, -100 - i]) } })
        .then((r) => readFloat32(r.result.data)),
    );
    const [viaOip, viaBlaze] = await Promise.all([Promise.all(oipCalls), Promise.all(blazeCalls)]);
    viaOip.forEach((rows, i) => expect(rows).toEqual([2 * i, -2 * i]));
    viaBlaze.forEach((rows, i) => expect(rows).toEqual([2 * (100 + i), -2 * (100 + i)]));
    expect(models.executions).toEqual([64]);
    const metrics = await (await fetch(`${running.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/blazerpc_batch_size_count\{model="mix"\} 1\b/);
    expect(metrics).toMatch(/blazerpc_batch_size_sum\{model="mix"\} 64\b/);
    expect(metrics).toMatch(/blazerpc_requests_total\{method="ModelInfer",status="OK",protocol="oip"\} \d+/);
  });
});
