import {
  echo,
  framed,
  oipEchoRequest,
  oipStreamAnswer,
  rawClient,
  rawGrpcCall,
  startAttackTarget,
  underAttack,
  type AttackTarget,
} from '../helpers/attack-target.js';
import { expectSurvived } from '../helpers/attack-expectations.js';
import { bytesField, field, readFields, varintField } from '../helpers/protobuf-pieces.js';
import {
  MODEL_STREAM_INFER,
  modelStreamInferFlood,
  packedStream,
  unreadBidiFlood,
  unreadServerStream,
  word,
} from '../helpers/stream-attacks.js';
import { sleep } from '../helpers/time.js';

/** The default flow-control window (16 MiB), twice: for the stream's and for what grpc-js read ahead of the handler. */
const WINDOWS_BYTES = 2 * 16 * 1024 * 1024;

/**
 * Streams that a careless or hostile client floods, from another process
 * over real connections, against a server with a 384 MB heap: none may
 * grow the server's memory with the number of messages, stall health, or
 * lose an answer to a request it accepted.
 */
describe('attacks on streams', () => {
  let target: AttackTarget;

  beforeEach(async () => {
    target = await startAttackTarget();
  });

  afterEach(async () => {
    await target.stop();
  });

  it('an OIP ModelStreamInfer flood that never reads its responses is held back, not buffered', async () => {
    const report = await underAttack(
      target,
      packedStream(target.address, MODEL_STREAM_INFER, oipEchoRequest('1', 'x'), { read: false }),
      { durationMs: 4000 },
    );
    expectSurvived(report);
    // Flow control stopped the writer at what the server's HTTP/2 windows hold: about 16 MiB, not the 233k requests that once filled a 384 MB heap.
    expect(report.attackResult.sentBytes).toBeLessThan(WINDOWS_BYTES);
  });

  it('an OIP ModelStreamInfer flood that reads every response gets every answer, in order', async () => {
    const report = await underAttack(target, modelStreamInferFlood(target.address, { read: true }), {
      durationMs: 4000,
    });
    expectSurvived(report);
    const { sent, answers } = report.attackResult;
    expect(sent).toBeGreaterThan(1000);
    expect(answers!.length).toBe(sent);
    expect(answers!.every((id, index) => id === String(index))).toBe(true);
  });

  it('a ModelStreamInfer flood into a streaming-input model is held back, and every request counted', async () => {
    const report = await underAttack(
      target,
      modelStreamInferFlood(target.address, { read: true, model: 'tally', input: 'word', text: 'w' }),
      {
        durationMs: 4000,
      },
    );
    expectSurvived(report);
    // One model call fed by every request: its one answer is the count of them all.
    const { sent, answers, lastAnswer } = report.attackResult;
    expect(answers).toEqual(['0']);
    expect(sent).toBeGreaterThan(1000);
    expect(oipUint32Output(lastAnswer!)).toBe(sent);
  });

  it('a ModelStreamInfer caller of a bidirectional model that never reads is held back', async () => {
    const attack = modelStreamInferFlood(target.address, {
      read: false,
      model: 'parrot',
      input: 'word',
      text: 'w'.repeat(100),
    });
    const report = await underAttack(target, attack, { durationMs: 4000 });
    expectSurvived(report);
    expect(report.attackResult.sentBytes).toBeLessThan(WINDOWS_BYTES);
  });

  it('requests sent behind an open streamed input are answered at once, however many (no stall at the bound)', async () => {
    const client = rawClient(target.address);
    const call = client.makeBidiStreamRequest(
      '/inference.GRPCInferenceService/ModelStreamInfer',
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
    );
    const answers: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (response: Buffer) => answers.push(oipStreamAnswer(response).id ?? 'error'));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write(oipEchoRequest('tally-0', 'w', 'tally', 'word'));
    // Three times the bound of echo requests while the tally call still reads this stream.
    for (let i = 0; i < 192; i++) call.write(oipEchoRequest(`echo-${i}`, 'x'));
    while (answers.length < 192) await sleep(20);
    call.write(oipEchoRequest('tally-1', 'w', 'tally', 'word'));
    call.end();
    await ended;
    client.close();
    expect(answers).toEqual([...Array.from({ length: 192 }, (_, i) => `echo-${i}`), 'tally-0']);
  });

  it('a streamed-input model that stops reading early: every request still gets exactly one answer', async () => {
    const client = rawClient(target.address);
    const call = client.makeBidiStreamRequest(
      MODEL_STREAM_INFER,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
    );
    const answers: Array<{ id?: string; error?: string }> = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (response: Buffer) => answers.push(oipStreamAnswer(response)));
      call.on('end', resolve);
      call.on('error', reject);
    });
    for (let i = 0; i < 200; i++) call.write(oipEchoRequest(String(i), `w${i}`, 'first', 'word'));
    call.end();
    await ended;
    client.close();
    expect(answers).toHaveLength(200);
    // Each model call took one message; the requests it never read were told so.
    const refused = answers.filter((answer) => answer.error !== undefined);
    expect(new Set(refused.map((answer) => answer.error))).toEqual(
      new Set(["FAILED_PRECONDITION: Model 'first' ended its call before reading this request"]),
    );
    expect(answers.length - refused.length).toBeGreaterThanOrEqual(2);
  });

  it('cancelling a stream with requests still queued behind a blocked model loses nothing else and crashes nothing', async () => {
    for (let round = 0; round < 3; round++) {
      const client = rawClient(target.address);
      const call = client.makeBidiStreamRequest(
        MODEL_STREAM_INFER,
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
      );
      call.on('error', () => undefined);
      // The parrot's answers are never read, so it stops reading its input, and these requests wait in its feed.
      for (let i = 0; i < 2000; i++) call.write(oipEchoRequest(String(i), 'w'.repeat(1000), 'parrot', 'word'));
      await sleep(300);
      call.cancel();
      client.close();
    }
    await sleep(200);
    expect(target.alive()).toBe(true);
    const check = rawClient(target.address);
    await expect(echo(check, 'still serving')).resolves.toBe('still serving');
    check.close();
  });

  it('a client stream of a million messages is counted in full at flat memory', async () => {
    const report = await underAttack(
      target,
      packedStream(target.address, '/blazerpc.InferenceService/PredictTally', word('w'), { count: 1_000_000 }),
      {
        durationMs: 15_000,
      },
    );
    expectSurvived(report);
    const { sent, status, lastAnswer } = report.attackResult;
    expect({ status, counted: readFields(lastAnswer!).get(1) }).toEqual({ status: '0', counted: sent });
    expect(sent).toBeGreaterThanOrEqual(1_000_000);
  }, 30_000);

  it('a bidi caller that sends without ever reading is held back', async () => {
    const report = await underAttack(
      target,
      unreadBidiFlood(target.address, '/blazerpc.InferenceService/PredictParrot', word('w'.repeat(100))),
      {
        durationMs: 4000,
      },
    );
    expectSurvived(report);
    expect(report.attackResult.sentBytes).toBeLessThan(WINDOWS_BYTES);
  });

  it('an Observable that outruns a client that never reads ends the call with RESOURCE_EXHAUSTED', async () => {
    const attack = unreadServerStream(
      target.address,
      '/blazerpc.InferenceService/PredictBurst',
      varintField(1, 100_000_000),
      3000,
    );
    const report = await underAttack(target, attack, { durationMs: 8000 });
    expectSurvived(report);
    expect(report.attackResult).toMatchObject({
      code: 8,
      details: expect.stringContaining('limits.maxBufferedResults'),
    });
  });

  it('refuses a message flagged compressed without grpc-encoding, and reserved flag bits, with INTERNAL', async () => {
    const hello = field(1, 'hello');
    const echoCall = (flags: number) =>
      rawGrpcCall(target.address, '/blazerpc.InferenceService/PredictEcho', framed(hello, flags));
    expect(await echoCall(0)).toEqual({ status: '0', message: 'OK', responses: [hello] });
    expect(await echoCall(1)).toEqual({
      status: '13',
      message: 'Message is flagged compressed, but the call declared no grpc-encoding',
      responses: [],
    });
    expect(await echoCall(0x80)).toEqual({
      status: '13',
      message: 'Message has reserved flag bits set (0x80)',
      responses: [],
    });
    const streamed = await rawGrpcCall(
      target.address,
      '/inference.GRPCInferenceService/ModelStreamInfer',
      framed(oipEchoRequest('1', 'x'), 1),
    );
    expect(streamed).toMatchObject({
      status: '13',
      message: 'Message is flagged compressed, but the call declared no grpc-encoding',
    });
    expect(
      await rawGrpcCall(target.address, '/blazerpc.InferenceService/PredictTally', framed(field(1, 'w'), 2)),
    ).toMatchObject({
      status: '13',
      message: 'Message has reserved flag bits set (0x02)',
    });
    expect(
      await rawGrpcCall(target.address, '/blazerpc.InferenceService/PredictBurst', framed(varintField(1, 1), 4)),
    ).toMatchObject({ status: '13' });
    // The server goes on serving, and logged none of it as an error.
    expect(await echoCall(0)).toMatchObject({ status: '0' });
    expect(target.output()).not.toMatch(/ERROR/);
  });
});

/** The one UINT32 output of a `ModelStreamInferResponse` (its `infer_response.raw_output_contents`). */
function oipUint32Output(response: Buffer): number {
  return bytesField(bytesField(response, 2)!, 6)!.readUInt32LE(0);
}
