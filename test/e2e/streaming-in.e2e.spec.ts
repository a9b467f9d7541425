import * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import { BlazeRpcModule } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { StreamingInModels } from '../fixtures/streaming-in.models.js';
import { collect, failureOf, ModelClient } from '../helpers/model-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { sleep, until } from '../helpers/time.js';

/** Waits for 'drain', or `ms` at most (then stops listening). */
function drainedOrLater(call: grpc.ClientWritableStream<any>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      call.off('drain', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    call.once('drain', done);
  });
}

/** Reads the next message of a duplex call. */
function nextMessage(call: grpc.ClientDuplexStream<any, any>): Promise<any> {
  return new Promise((resolve, reject) => {
    const onData = (message: unknown) => {
      call.off('error', onError);
      resolve(message);
    };
    const onError = (error: Error) => {
      call.off('data', onData);
      reject(error);
    };
    call.once('data', onData);
    call.once('error', onError);
  });
}

describe("the sample's streaming-input models, tally and relay", () => {
  let running: RunningApp;
  let client: ModelClient;

  beforeAll(async () => {
    running = await startApp({ imports: [AppModule.forRoot(testServerOptions)] });
    client = new ModelClient(running.address, running.registry.protoText);
  });
  afterAll(async () => {
    client?.close();
    await running?.app.close();
  });

  it('declares them in the generated proto as client-streaming and bidirectional rpcs', () => {
    expect(running.registry.protoText).toContain('rpc PredictTally(stream TallyRequest) returns (TallyResponse);');
    expect(running.registry.protoText).toContain(
      'rpc PredictRelay(stream RelayRequest) returns (stream RelayResponse);',
    );
  });

  it('tally counts the words over every message, and 0 for none', async () => {
    const counted = client.upload('PredictTally');
    for (const text of ['the quick', 'brown fox jumps', '']) counted.call.write({ text });
    counted.call.end();
    await expect(counted.response).resolves.toEqual({ result: 5 });
    const empty = client.upload('PredictTally');
    empty.call.end();
    await expect(empty.response).resolves.toEqual({ result: 0 });
  });

  it('tally takes 10,000 messages', async () => {
    const { call, response } = client.upload('PredictTally');
    for (let i = 0; i < 10_000; i++) {
      if (!call.write({ text: 'two words' })) await once(call, 'drain');
    }
    call.end();
    await expect(response).resolves.toEqual({ result: 20_000 });
  });

  it('relay answers each message before the next is sent (strict ping-pong)', async () => {
    const call = client.duplex('PredictRelay');
    const replies: string[] = [];
    for (const text of ['hello', 'streaming', 'world']) {
      call.write({ text });
      replies.push((await nextMessage(call)).result);
    }
    call.end();
    await once(call, 'end');
    expect(replies).toEqual(['HELLO', 'STREAMING', 'WORLD']);
  });
});

describe('streaming-input calls: validation, guards, pipes, interceptors, cancellation, backpressure', () => {
  let running: RunningApp;
  let client: ModelClient;
  let models: StreamingInModels;

  beforeAll(async () => {
    running = await startApp(
      { imports: [BlazeRpcModule.forRoot({ ...testServerOptions, metrics: true })], providers: [StreamingInModels] },
      { http: true },
    );
    client = new ModelClient(running.address, running.registry.protoText);
    models = running.app.get(StreamingInModels);
  });
  beforeEach(() => {
    models.events.length = 0;
  });
  afterAll(async () => {
    client?.close();
    await running?.app.close();
  });

  it('a malformed 3rd message ends the call INVALID_ARGUMENT naming text[2]; the first two were read; the server keeps serving', async () => {
    const request = running.registry.protoText.includes('message WatchRequest') ? 'WatchRequest' : '';
    expect(request).toBe('WatchRequest');
    // A raw call, so the third message can be bytes no encoder would write: field 1 as a varint instead of a string.
    const raw = new grpc.Client(running.address, grpc.credentials.createInsecure());
    const failure = await new Promise<grpc.ServiceError>((resolve) => {
      const call = raw.makeClientStreamRequest(
        '/blazerpc.InferenceService/PredictWatch',
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        (error) => resolve(error!),
      );
      call.write(Buffer.from([0x0a, 0x01, 0x61])); // text: 'a'
      call.write(Buffer.from([0x0a, 0x01, 0x62])); // text: 'b'
      call.write(Buffer.from([0x08, 0x01])); // field 1 with wire type 0
      call.write(Buffer.from([0x0a, 0x01, 0x63]));
      call.end();
    });
    raw.close();
    expect(failure.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(failure.details).toMatch(/^text\[2\]: Malformed WatchRequest message/);
    expect(models.events.filter((e) => e.startsWith('read:'))).toEqual(['read:a', 'read:b']);
    const ok = client.upload('PredictWatch');
    ok.call.write({ text: 'again' });
    ok.call.end();
    await expect(ok.response).resolves.toEqual({ result: 1 });
  });

  it('a guard denies before any message is read', async () => {
    const { call, response } = client.upload('PredictDenied');
    call.write({ text: 'secret' });
    call.end();
    expect((await failureOf(response)).code).toBe(grpc.status.PERMISSION_DENIED);
    expect(models.events).toEqual([]);
  });

  it('pipes run on each message, and an interceptor can map the replies', async () => {
    const shout = client.duplex('PredictShout');
    ['a', 'b'].forEach((text) => shout.write({ text }));
    shout.end();
    expect((await collect(shout)).map((m) => m.result)).toEqual(['A', 'B']);
    const bracket = client.duplex('PredictBracket');
    ['a', 'b'].forEach((text) => bracket.write({ text }));
    bracket.end();
    expect((await collect(bracket)).map((m) => m.result)).toEqual(['[a]', '[b]']);
  });

  it("a cancel mid-stream ends the handler's reading, and its finally runs", async () => {
    const { call, response } = client.upload('PredictWatch');
    call.write({ text: 'one' });
    await until(() => models.events.includes('read:one'));
    call.cancel();
    expect((await failureOf(response)).code).toBe(grpc.status.CANCELLED);
    await until(() => models.events.includes('finally'));
    // A grpc-js client half-closes before it resets the stream, so the handler may see the end of its input first.
    expect(models.events.filter((event) => event !== `aborted:${grpc.status.CANCELLED}`)).toEqual([
      'read:one',
      'finally',
    ]);
  });

  it('a cancel while the handler writes replies stops its generator: finally runs and the signal fires', async () => {
    const call = client.duplex('PredictFlood');
    call.on('error', () => undefined);
    call.write({ count: 100_000 });
    await until(() => models.produced > 10);
    call.cancel();
    await until(() => models.events.includes('flood finally'));
    expect(models.events).toContain(`flood aborted:${grpc.status.CANCELLED}`);
  });

  it('a deadline ends a call whose request stream is still open', async () => {
    const { call, response } = client.upload('PredictWatch', { deadlineMs: 100 });
    call.write({ text: 'one' });
    expect((await failureOf(response)).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await until(() => models.events.includes('finally'));
    // Whichever fires first: the server's own deadline (the signal fires, the read throws), or the grpc-js
    // client's, which half-closes before it resets, so the handler may see the end of its input first.
    expect(models.events.filter((event) => event !== `aborted:${grpc.status.DEADLINE_EXCEEDED}`)).toEqual([
      'read:one',
      'finally',
    ]);
  });

  it('a slow reader holds a fast sender back: messages sent ahead of the handler stay within the HTTP/2 windows', async () => {
    const { call, response } = client.upload('PredictSlowSink');
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    let stop = false;
    const sending = (async () => {
      while (!stop && sent < 2000) {
        sent++;
        if (!call.write({ chunk })) await drainedOrLater(call, 100);
      }
    })();
    await sleep(1500);
    stop = true;
    await sending;
    const ahead = sent - models.pulled;
    call.cancel();
    await failureOf(response);
    // 16 MiB server window (256 such messages) + the client's own window and buffers: a few windows, not 2,000 messages.
    expect(models.pulled).toBeLessThan(100);
    expect(ahead).toBeLessThan(700);
  });

  it('a slow reader of replies holds a fast producer back', async () => {
    const call = client.duplex('PredictFlood');
    call.on('error', () => undefined);
    call.on('data', () => call.pause());
    call.write({ count: 5000 });
    await sleep(500);
    const produced = models.produced;
    call.cancel();
    // 5,000 x 64 KiB = 312 MiB; with the reader paused, only a few windows' worth may be produced.
    expect(produced).toBeGreaterThan(0);
    expect(produced).toBeLessThan(100);
  });

  it('counts messages in and out per call, and the time to the first reply', async () => {
    const shout = client.duplex('PredictShout');
    ['a', 'b', 'c'].forEach((text) => shout.write({ text }));
    shout.end();
    await collect(shout);
    const metrics = await (await fetch(`${running.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/blazerpc_stream_messages_total\{method="PredictShout",direction="in"\} [3-9]/);
    expect(metrics).toMatch(/blazerpc_stream_messages_total\{method="PredictShout",direction="out"\} [3-9]/);
    expect(metrics).toMatch(/blazerpc_time_to_first_response_seconds_count\{method="PredictShout"\} [1-9]/);
  });

  it('lets open streams finish within the grace period on shutdown', async () => {
    const { call, response } = client.upload('PredictWatch');
    call.write({ text: 'before' });
    await until(() => models.events.includes('read:before'));
    const closing = running.app.close();
    await sleep(50);
    call.write({ text: 'during' });
    call.end();
    await expect(response).resolves.toEqual({ result: 2 });
    await closing;
    running = undefined as never;
  });
});
