import * as grpc from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { BlazeRpcModule } from '../../lib/index.js';
import { BatchModels } from '../fixtures/batch.models.js';
import { EnhancedModels, useTestGlobalEnhancers } from '../fixtures/enhanced.models.js';
import { SlowModels } from '../fixtures/slow.models.js';
import { failureOf, ModelClient } from '../helpers/model-client.js';
import { OipSpecClient, rawBytes, readBytes } from '../helpers/oip-spec-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';

/** What the app logs, by level. */
class CapturedLog implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log = (message: unknown) => this.lines.push({ level: 'log', message: String(message) });
  error = (message: unknown) => this.lines.push({ level: 'error', message: String(message) });
  warn = (message: unknown) => this.lines.push({ level: 'warn', message: String(message) });
  debug = () => undefined;
  verbose = () => undefined;
}

type Field = string | number;

/** An OIP request for string (BYTES [1]) and Int32 (INT32 [1]) inputs, all raw. */
function oipRequest(model: string, inputs: Record<string, Field>) {
  const entries = Object.entries(inputs);
  return {
    model_name: model,
    inputs: entries.map(([name, value]) => ({
      name,
      datatype: typeof value === 'string' ? 'BYTES' : 'INT32',
      shape: [1],
    })),
    raw_input_contents: entries.map(([, value]) =>
      typeof value === 'string' ? rawBytes(value) : Buffer.from(new Int32Array([value]).buffer),
    ),
  };
}

/** The outcome a user sees: the result, or the status and its message. */
async function outcome(call: Promise<string>): Promise<string> {
  return call.then(
    (result) => `OK ${result}`,
    (error: grpc.ServiceError) => `${grpc.status[error.code]} ${error.details}`,
  );
}

describe('the pipeline behaves the same over OIP as over BlazeRPC', () => {
  let running: RunningApp;
  let oip: OipSpecClient;
  let blaze: ModelClient;
  const log = new CapturedLog();

  beforeAll(async () => {
    running = await startApp(
      {
        imports: [BlazeRpcModule.forRoot({ ...testServerOptions, logCalls: true })],
        providers: [EnhancedModels, BatchModels, SlowModels],
      },
      {
        logger: log,
        hybrid: { inheritAppConfig: true },
        configure: useTestGlobalEnhancers,
      },
    );
    oip = new OipSpecClient(running.address);
    blaze = new ModelClient(running.address, running.registry.protoText);
  });
  afterAll(async () => {
    oip?.close();
    blaze?.close();
    await running?.app.close();
  });

  const both = (model: string, inputs: Record<string, Field>, metadata: Record<string, string> = {}) => {
    const rpc = `Predict${model.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}`;
    const viaBlaze = blaze.unary(rpc, inputs, { metadata }).then((r) => String(r.result));
    const viaOip = oip
      .call('ModelInfer', oipRequest(model, inputs), metadata)
      .then((r) => readBytes(r.raw_output_contents[0])[0]!);
    return Promise.all([outcome(viaBlaze), outcome(viaOip)]);
  };

  it.each<[string, Record<string, Field>, Record<string, string>, string]>([
    ['tagged', { text: 'x' }, {}, 'OK x|method|class|global'],
    ['tagged', { text: 'x' }, { 'x-deny': '1' }, 'PERMISSION_DENIED Forbidden resource'],
    ['repeat', { text: 'ab', times: 2 }, {}, 'OK AB AB|class|global'],
    ['repeat', { text: 'ab', times: -1 }, {}, 'INVALID_ARGUMENT times must be positive, got -1'],
    ['repeat', { text: 'forbidden-word', times: 1 }, {}, 'INVALID_ARGUMENT text contains a forbidden word'],
    ['order', { item: 'unicorn' }, {}, 'NOT_FOUND No unicorn left'],
    ['brew', { drink: 'coffee' }, {}, 'FAILED_PRECONDITION I am a teapot'],
    ['greet', { text: 'hi' }, { 'x-user': 'ada' }, 'OK ada@greet: hi|class|global'],
    ['forbidden-dependency', { text: 'hi' }, {}, 'PERMISSION_DENIED dependency said no'],
    ['fail', { kind: 'not-found' }, {}, 'NOT_FOUND no such thing'],
    ['fail', { kind: 'unauthorized' }, {}, 'UNAUTHENTICATED who are you'],
    ['fail', { kind: 'rpc' }, {}, 'FAILED_PRECONDITION precondition failed: warm up first'],
    ['fail', { kind: 'other' }, {}, 'INTERNAL Internal server error'],
  ])('%s %j %j: both protocols answer %s', async (model, inputs, metadata, expected) => {
    const [viaBlaze, viaOip] = await both(model, inputs, metadata);
    expect(viaBlaze).toBe(expected);
    expect(viaOip).toBe(expected);
  });

  it('refuses a full queue RESOURCE_EXHAUSTED and a request whose deadline passes DEADLINE_EXCEEDED', async () => {
    const models = running.app.get(BatchModels);
    const release = models.hold();
    const label = (id: number) =>
      oip.call('ModelInfer', {
        model_name: 'label',
        inputs: [{ name: 'ids', datatype: 'INT32', shape: [1] }],
        raw_input_contents: [Buffer.from(new Int32Array([id]).buffer)],
      });
    const held = label(1);
    await new Promise((resolve) => setTimeout(resolve, 25));
    const queued = [2, 3, 4, 5].map(label);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const full = await failureOf(label(6));
    release();
    await Promise.all([held, ...queued]);
    expect(full.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const late = await failureOf(
      new Promise((resolve, reject) =>
        (oip as any).stub.ModelInfer(
          oipRequest('nap', { ms: 2000 }),
          new grpc.Metadata(),
          { deadline: Date.now() + 50 },
          (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)),
        ),
      ),
    );
    expect(late.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it('logs each OIP call in the call log, and refusals at no error level', async () => {
    log.lines.length = 0;
    await oip.call('ModelInfer', oipRequest('tagged', { text: 'x' }));
    await failureOf(oip.call('ModelInfer', oipRequest('nope', {})));
    await failureOf(oip.call('ModelInfer', oipRequest('tagged', { text: 'x' }), { 'x-deny': '1' }));
    // (The previous test's expired call may log its end in the meantime.)
    const calls = log.lines.filter(
      (line) => line.message.startsWith('inference.ModelInfer') && !line.message.includes('DEADLINE_EXCEEDED'),
    );
    expect(calls.map((line) => line.message.split(' ')[2])).toEqual(['OK', 'NOT_FOUND', 'PERMISSION_DENIED']);
    expect(log.lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});
