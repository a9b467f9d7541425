import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { BlazeClient, BlazeRpcClientError } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { sleep } from '../helpers/time.js';

/** The error a call failed with (it must fail). */
const failure = async (call: Promise<unknown>): Promise<BlazeRpcClientError> => {
  try {
    await call;
  } catch (error) {
    return error as BlazeRpcClientError;
  }
  throw new Error('expected the call to fail');
};

/** Reads a stream to its end; the error it fails with, if any. */
const drain = async (replies: AsyncIterable<unknown>): Promise<{ seen: unknown[]; error?: BlazeRpcClientError }> => {
  const seen: unknown[] = [];
  try {
    for await (const reply of replies) seen.push(reply);
    return { seen };
  } catch (error) {
    return { seen, error: error as BlazeRpcClientError };
  }
};

/** Messages `{ text }` one per interval, forever; `stopped` tells that the client stopped pulling them. */
function endlessTexts(intervalMs: number) {
  const state = { pulled: 0, stopped: false };
  async function* texts() {
    try {
      for (;;) {
        state.pulled++;
        yield { text: 'word' };
        await sleep(intervalMs);
      }
    } finally {
      state.stopped = true;
    }
  }
  return { texts: texts(), state };
}

describe("BlazeClient with the sample's streaming-input models", () => {
  let running: RunningApp;
  let client: BlazeClient;

  beforeAll(async () => {
    running = await startApp({ imports: [AppModule.forRoot(testServerOptions)] });
    client = await BlazeClient.connect(running.address, { timeoutMs: 10_000 });
  });

  afterAll(async () => {
    client?.close();
    await running?.app.close();
  });

  it('learns over reflection how each model is called', () => {
    const kinds = Object.fromEntries(client.models().map((m) => [m.name, [m.kind, m.inputStreaming, m.streaming]]));
    expect(kinds).toMatchObject({
      Echo: ['unary', false, false],
      Tokens: ['server-stream', false, true],
      Tally: ['client-stream', true, false],
      Relay: ['bidi', true, true],
    });
    expect(client.model('tally').inputs).toEqual([
      { name: 'text', kind: 'other', repeated: false, protoType: 'TYPE_STRING' },
    ]);
  });

  it('upload: tally counts the words over every message, and 0 for no messages', async () => {
    await expect(
      client.upload('tally', [{ text: 'the quick' }, { text: 'brown fox jumps' }, { text: '' }]),
    ).resolves.toBe(5);
    await expect(client.upload('tally', [])).resolves.toBe(0);
  });

  it('upload: 10,000 messages from an async generator, all counted', async () => {
    let produced = 0;
    async function* sentences() {
      for (let i = 0; i < 10_000; i++) {
        produced++;
        yield { text: `word ${i}` };
      }
    }
    await expect(client.upload('tally', sentences(), { timeoutMs: 60_000 })).resolves.toBe(20_000);
    expect(produced).toBe(10_000);
  });

  it('duplex: relay answers each message upper-cased, in strict ping-pong', async () => {
    const relay = client.duplex('relay');
    const replies = relay[Symbol.asyncIterator]();
    for (const text of ['ping', 'pong', 'the quick brown fox', '']) {
      await relay.write({ text });
      // The next write waits for this reply: the server must answer each message before it reads the next.
      await expect(replies.next()).resolves.toEqual({ value: text.toUpperCase(), done: false });
    }
    relay.end();
    await expect(replies.next()).resolves.toEqual({ value: undefined, done: true });
    expect((await relay.details).status).toEqual({ code: grpc.status.OK, codeName: 'OK', details: expect.any(String) });
  });

  it('duplex: replies read in a loop while a writer streams, in order', async () => {
    const relay = client.duplex('relay');
    const texts = Array.from({ length: 200 }, (_, i) => `message ${i}`);
    const writing = (async () => {
      for (const text of texts) await relay.write({ text });
      relay.end();
    })();
    const { seen, error } = await drain(relay);
    await writing;
    expect(error).toBeUndefined();
    expect(seen).toEqual(texts.map((text) => text.toUpperCase()));
  });

  it('predict and stream refuse a streaming-input model at once, naming the method to use; upload and duplex refuse other kinds', async () => {
    const viaPredict = await failure(client.predict('tally', { text: 'x' }));
    expect(viaPredict).toBeInstanceOf(BlazeRpcClientError);
    expect(viaPredict.codeName).toBe('FAILED_PRECONDITION');
    expect(viaPredict.details).toBe(
      "Model 'tally' takes a stream of request messages and answers once; call upload() instead of predict()",
    );
    const viaStream = (await drain(client.stream('relay', { text: 'x' }))).error!;
    expect([viaStream.codeName, viaStream.details]).toEqual([
      'FAILED_PRECONDITION',
      "Model 'relay' streams both ways; call duplex() instead of stream()",
    ]);
    const uploadToEcho = await failure(client.upload('echo', [{ text: 'x' }]));
    expect([uploadToEcho.codeName, uploadToEcho.details]).toEqual([
      'FAILED_PRECONDITION',
      "Model 'echo' takes one request and answers once; call predict() instead of upload()",
    ]);
    expect(() => client.duplex('tally')).toThrow(
      "FAILED_PRECONDITION: Model 'tally' takes a stream of request messages and answers once; call upload() instead of duplex()",
    );
    expect(() => client.duplex('nope')).toThrow(expect.objectContaining({ codeName: 'NOT_FOUND' }));
  });

  it('aborting the signal mid-stream cancels: upload rejects CANCELLED and stops pulling messages', async () => {
    const { texts, state } = endlessTexts(5);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const cancelled = await failure(client.upload('tally', texts, { signal: controller.signal }));
    expect(cancelled.codeName).toBe('CANCELLED');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(state.pulled).toBeGreaterThan(1);
    await sleep(50);
    expect(state.stopped).toBe(true);
  });

  it('aborting the signal mid-stream cancels a duplex: the loop and later writes fail CANCELLED', async () => {
    const controller = new AbortController();
    const relay = client.duplex('relay', { signal: controller.signal });
    const replies = relay[Symbol.asyncIterator]();
    await relay.write({ text: 'first' });
    await expect(replies.next()).resolves.toEqual({ value: 'FIRST', done: false });
    controller.abort();
    expect((await failure(replies.next())).codeName).toBe('CANCELLED');
    expect((await failure(relay.write({ text: 'late' }))).codeName).toBe('CANCELLED');
    expect((await relay.details).status.codeName).toBe('CANCELLED');
  });

  it('leaving the reply loop early cancels the duplex call', async () => {
    const relay = client.duplex('relay');
    await relay.write({ text: 'one' });
    await relay.write({ text: 'two' });
    for await (const reply of relay) {
      expect(reply).toBe('ONE');
      break;
    }
    expect((await relay.details).status.codeName).toBe('CANCELLED');
    expect((await failure(relay.write({ text: 'three' }))).codeName).toBe('CANCELLED');
  });

  it('a deadline passes while the request stream is held open: DEADLINE_EXCEEDED, for upload and duplex', async () => {
    let held = false;
    async function* oneThenHold() {
      yield { text: 'only one' };
      held = true;
      await new Promise(() => undefined);
    }
    const started = Date.now();
    const uploaded = await failure(client.upload('tally', oneThenHold(), { timeoutMs: 300 }));
    expect(uploaded.codeName).toBe('DEADLINE_EXCEEDED');
    expect(held).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);

    const relay = client.duplex('relay', { timeoutMs: 300 });
    const replies = relay[Symbol.asyncIterator]();
    await relay.write({ text: 'hold' });
    await expect(replies.next()).resolves.toEqual({ value: 'HOLD', done: false });
    expect((await failure(replies.next())).codeName).toBe('DEADLINE_EXCEEDED');
  });

  it('tells the status, headers and trailers of every kind of call', async () => {
    const unary = await client.predict('echo', { text: 'hi' }, { withDetails: true });
    expect(unary).toEqual({
      result: 'hi',
      metadata: expect.any(grpc.Metadata),
      trailers: expect.any(grpc.Metadata),
      status: expect.objectContaining({ code: 0, codeName: 'OK' }),
    });
    const uploaded = await client.upload('tally', [{ text: 'a b c' }], { withDetails: true });
    expect([uploaded.result, uploaded.status.codeName]).toEqual([3, 'OK']);
    const tokens = client.stream('tokens', { prompt: 'a b' });
    expect((await drain(tokens)).seen).toEqual(['a', 'b']);
    expect((await tokens.details).status.codeName).toBe('OK');
    const denied = client.stream('secure', { text: 'x' });
    expect((await drain(denied)).error?.codeName).toBe('UNAUTHENTICATED');
    const deniedDetails = await denied.details;
    expect(deniedDetails.status).toMatchObject({
      codeName: 'UNAUTHENTICATED',
      details: expect.stringContaining('authorization'),
    });
  });
});

/** The stand-in's contract: the same messages as the sample's tally and relay. */
const STANDIN_PROTO = `syntax = "proto3";
package blazerpc;
service InferenceService {
  rpc PredictTally(stream TallyRequest) returns (TallyResponse);
  rpc PredictRelay(stream RelayRequest) returns (stream RelayResponse);
}
message TallyRequest { string text = 1; }
message TallyResponse { uint32 result = 1; }
message RelayRequest { string text = 1; }
message RelayResponse { string result = 1; }
`;

interface Standin {
  readonly port: number;
  /** Request messages the relay has read so far. */
  readonly relayed: string[];
  /** While true, the relay reads nothing: flow control holds the client's messages back. */
  pauseRelay(paused: boolean): void;
  close(): Promise<void>;
}

/**
 * A raw grpc-js server with tally and relay as the sample has them, that also
 * sends headers and trailers and fails on request, to check what the client
 * shows of them; and a relay that can stop reading, to check backpressure.
 */
async function startStandin(port = 0): Promise<Standin> {
  const pkg = grpc.loadPackageDefinition(
    fromJSON(protobuf.parse(STANDIN_PROTO, { keepCase: true }).root.toJSON(), { keepCase: true, defaults: true }),
  );
  const service = ((pkg.blazerpc as grpc.GrpcObject).InferenceService as grpc.ServiceClientConstructor).service;
  const relayed: string[] = [];
  let relayCall: grpc.ServerDuplexStream<{ text: string }, { result: string }> | undefined;
  let paused = false;
  const server = new grpc.Server();
  server.addService(service, {
    PredictTally(
      call: grpc.ServerReadableStream<{ text: string }, { result: number }>,
      callback: grpc.sendUnaryData<{ result: number }>,
    ) {
      const headers = new grpc.Metadata();
      headers.set('x-served-by', 'standin');
      call.sendMetadata(headers);
      let words = 0;
      let messages = 0;
      call.on('data', ({ text }) => {
        messages++;
        words += text.split(/\s+/).filter(Boolean).length;
      });
      call.on('end', () => {
        const trailers = new grpc.Metadata();
        trailers.set('x-messages', String(messages));
        if (words > 100)
          callback({
            code: grpc.status.RESOURCE_EXHAUSTED,
            details: `${words} words is over the limit of 100`,
            metadata: trailers,
          });
        else callback(null, { result: words }, trailers);
      });
    },
    PredictRelay(call: grpc.ServerDuplexStream<{ text: string }, { result: string }>) {
      relayCall = call;
      if (paused) call.pause();
      call.on('data', ({ text }) => {
        relayed.push(text);
        call.write({ result: text.toUpperCase() });
      });
      call.on('end', () => call.end());
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return {
    port: bound,
    relayed,
    pauseRelay(value) {
      paused = value;
      if (value) relayCall?.pause();
      else relayCall?.resume();
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

describe('BlazeClient streaming calls against a raw grpc-js stand-in', () => {
  let standin: Standin;
  let client: BlazeClient;

  beforeAll(async () => {
    standin = await startStandin();
    client = await BlazeClient.connect(`127.0.0.1:${standin.port}`, { proto: STANDIN_PROTO, timeoutMs: 10_000 });
  });

  afterAll(async () => {
    client?.close();
    await standin?.close();
  });

  it("shows the server's headers, trailers and status through withDetails, and on failures", async () => {
    const counted = await client.upload('tally', [{ text: 'one two' }, { text: 'three' }], { withDetails: true });
    expect(counted.result).toBe(3);
    expect(counted.metadata.get('x-served-by')).toEqual(['standin']);
    expect(counted.trailers.get('x-messages')).toEqual(['2']);
    expect(counted.status).toEqual({ code: grpc.status.OK, codeName: 'OK', details: 'OK' });

    const refused = await failure(client.upload('tally', [{ text: 'word '.repeat(101) }], { withDetails: true }));
    expect([refused.codeName, refused.details]).toEqual(['RESOURCE_EXHAUSTED', '101 words is over the limit of 100']);
    expect(refused.metadata?.get('x-messages')).toEqual(['1']);
  });

  it('write() waits while the server does not read, and resumes when it does (backpressure)', async () => {
    standin.pauseRelay(true);
    const relay = client.duplex('relay');
    const big = 'x'.repeat(64 * 1024);
    let accepted = 0;
    let pending: Promise<void> | undefined;
    // Writes are accepted until HTTP/2 windows and buffers are full; then one stays pending.
    for (let i = 0; i < 2000 && !pending; i++) {
      const write = relay.write({ text: big });
      const state = await Promise.race([write.then(() => 'done'), sleep(200).then(() => 'waiting')]);
      if (state === 'waiting') pending = write;
      else accepted++;
    }
    expect(pending).toBeDefined();
    // Bounded: a few MiB in flight, not the 125 MiB of 2000 messages.
    expect(accepted).toBeLessThan(200);
    standin.pauseRelay(false);
    await pending;
    relay.end();
    const { seen, error } = await drain(relay);
    expect(error).toBeUndefined();
    expect(seen).toHaveLength(accepted + 1);
    expect(standin.relayed).toHaveLength(accepted + 1);
  });
});

describe('waitForReady, per call', () => {
  it('without it a call fails UNAVAILABLE while no server listens; with it, a call issued before the server starts succeeds once it does', async () => {
    const probe = await startStandin();
    const { port } = probe;
    await probe.close();
    const client = await BlazeClient.connect(`127.0.0.1:${port}`, { proto: STANDIN_PROTO });
    try {
      const early = await failure(client.upload('tally', [{ text: 'too early' }], { timeoutMs: 2000 }));
      expect(early.codeName).toBe('UNAVAILABLE');

      const waiting = client.upload('tally', [{ text: 'worth the wait' }], { waitForReady: true, timeoutMs: 10_000 });
      const relay = client.duplex('relay', { waitForReady: true, timeoutMs: 10_000 });
      await sleep(300);
      const standin = await startStandin(port);
      try {
        await expect(waiting).resolves.toBe(3);
        await relay.write({ text: 'late' });
        relay.end();
        expect((await drain(relay)).seen).toEqual(['LATE']);
      } finally {
        await standin.close();
      }
    } finally {
      client.close();
    }
  });
});
