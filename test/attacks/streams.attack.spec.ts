import type * as grpc from '@grpc/grpc-js';
import {
  asIs,
  expectSurvived,
  framed,
  oipEchoRequest,
  oipStreamAnswer,
  rawClient,
  rawGrpcCall,
  rawGrpcStream,
  sleep,
  startAttackTarget,
  stringField,
  underAttack,
  type AttackTarget,
} from '../helpers/attack-target.js';

/**
 * Streams that a careless or hostile client floods, from another process
 * over real connections, against a server with a 384 MB heap: none may
 * grow the server's memory with the number of messages, stall health, or
 * lose an answer to a request it accepted.
 */
describe('attacks on streams', () => {
  let target: AttackTarget;
  let client: grpc.Client;

  beforeEach(async () => {
    target = await startAttackTarget();
    client = rawClient(target.address);
  });

  afterEach(async () => {
    client.close();
    await target.stop();
  });

  /** Writes `next()` messages as fast as the server takes them until `signal` fires, then half-closes; resolves with the count. */
  async function flood(call: grpc.ClientWritableStream<Buffer>, next: (index: number) => Buffer, signal: AbortSignal, max = Infinity): Promise<number> {
    let sent = 0;
    while (!signal.aborted && sent < max) {
      if (!call.write(next(sent++))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            signal.removeEventListener('abort', done);
            call.off('drain', done);
            resolve();
          };
          call.once('drain', done);
          signal.addEventListener('abort', done, { once: true });
        });
      }
    }
    return sent;
  }

  it('an OIP ModelStreamInfer flood that never reads its responses is held back, not buffered', async () => {
    const call = client.makeBidiStreamRequest('/inference.GRPCInferenceService/ModelStreamInfer', asIs, asIs);
    call.on('error', () => undefined);
    const report = await underAttack(target, (signal) => flood(call, (i) => oipEchoRequest(String(i), 'x'), signal), { durationMs: 4000 });
    call.cancel();
    expectSurvived(report);
    // Flow control stopped the writer long before the 233k requests that used to fill a 384 MB heap.
    expect(report.attackResult).toBeLessThan(50_000);
  });

  it('an OIP ModelStreamInfer flood that reads every response gets every answer, in order', async () => {
    const call = client.makeBidiStreamRequest('/inference.GRPCInferenceService/ModelStreamInfer', asIs, asIs);
    const answered: string[] = [];
    call.on('data', (response: Buffer) => answered.push(oipStreamAnswer(response).id ?? `error: ${oipStreamAnswer(response).error}`));
    const ended = new Promise<void>((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    const report = await underAttack(
      target,
      async (signal) => {
        const sent = await flood(call, (i) => oipEchoRequest(String(i), 'x'), signal);
        call.end();
        await ended;
        return sent;
      },
      { durationMs: 4000 },
    );
    expectSurvived(report);
    const sent = report.attackResult as number;
    expect(sent).toBeGreaterThan(1000);
    expect(answered.length).toBe(sent);
    expect(answered.every((id, index) => id === String(index))).toBe(true);
  });

  it('a client stream of a million messages is counted in full at flat memory', async () => {
    // Packed 8,192 to a write, as an attacker would send them: grpc-js's own client could not keep up.
    const chunk = Buffer.concat(Array.from({ length: 8192 }, () => framed(stringField(1, 'w'))));
    const report = await underAttack(
      target,
      async (signal) => {
        const call = rawGrpcStream(target.address, '/blazerpc.InferenceService/PredictTally');
        let sent = 0;
        while (sent < 1_000_000 && !signal.aborted) {
          await call.write(chunk);
          sent += 8192;
        }
        const { status, responses } = await call.end();
        return { sent, status, counted: responses[0] && varintAfterKey(responses[0]) };
      },
      { durationMs: 15_000 },
    );
    expectSurvived(report);
    const { sent, status, counted } = report.attackResult as { sent: number; status: string; counted: number };
    expect({ status, counted }).toEqual({ status: '0', counted: sent });
    expect(sent).toBeGreaterThanOrEqual(1_000_000);
  }, 30_000);

  it('a bidi caller that sends without ever reading is held back', async () => {
    const call = client.makeBidiStreamRequest('/blazerpc.InferenceService/PredictParrot', asIs, asIs);
    call.on('error', () => undefined);
    const word = stringField(1, 'w'.repeat(100));
    const report = await underAttack(target, (signal) => flood(call, () => word, signal), { durationMs: 4000 });
    call.cancel();
    expectSurvived(report);
  });

  it('an Observable that outruns a client that never reads ends the call with RESOURCE_EXHAUSTED', async () => {
    const call = client.makeServerStreamRequest('/blazerpc.InferenceService/PredictBurst', asIs, asIs, varintField(1, 100_000_000));
    call.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    const report = await underAttack(
      target,
      async (signal) => {
        await sleep(3000);
        if (signal.aborted) return;
        // Read what is left: the results before the overflow, then the status.
        call.on('data', () => undefined);
        return (await status).code;
      },
      { durationMs: 8000 },
    );
    expectSurvived(report);
    const { code, details } = await status;
    expect({ code, details }).toEqual({ code: 8, details: expect.stringContaining('limits.maxBufferedResults') });
  });

  it('refuses a message flagged compressed without grpc-encoding, and reserved flag bits, with INTERNAL', async () => {
    const hello = stringField(1, 'hello');
    const echoCall = (flags: number) => rawGrpcCall(target.address, '/blazerpc.InferenceService/PredictEcho', framed(hello, flags));
    expect(await echoCall(0)).toEqual({ status: '0', message: 'OK', responses: [hello] });
    expect(await echoCall(1)).toEqual({ status: '13', message: 'Message is flagged compressed, but the call declared no grpc-encoding', responses: [] });
    expect(await echoCall(0x80)).toEqual({ status: '13', message: 'Message has reserved flag bits set (0x80)', responses: [] });
    const streamed = await rawGrpcCall(target.address, '/inference.GRPCInferenceService/ModelStreamInfer', framed(oipEchoRequest('1', 'x'), 1));
    expect(streamed).toMatchObject({ status: '13', message: 'Message is flagged compressed, but the call declared no grpc-encoding' });
    expect(await rawGrpcCall(target.address, '/blazerpc.InferenceService/PredictTally', framed(stringField(1, 'w'), 2))).toMatchObject({
      status: '13',
      message: 'Message has reserved flag bits set (0x02)',
    });
    expect(await rawGrpcCall(target.address, '/blazerpc.InferenceService/PredictBurst', framed(varintField(1, 1), 4))).toMatchObject({ status: '13' });
    // The server goes on serving, and logged none of it as an error.
    expect(await echoCall(0)).toMatchObject({ status: '0' });
    expect(target.output()).not.toMatch(/ERROR/);
  });
});

/** A uint32 field. */
function varintField(field: number, value: number): Buffer {
  const bytes = [field << 3];
  while (value > 127) {
    bytes.push((value & 127) | 128);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** The value of a message's first (varint) field. */
function varintAfterKey(message: Buffer): number {
  let value = 0;
  let shift = 0;
  for (let at = 1; ; at++) {
    const byte = message[at]!;
    value += (byte & 127) * 2 ** shift;
    shift += 7;
    if (byte < 128) return value;
  }
}
