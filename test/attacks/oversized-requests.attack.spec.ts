import * as grpc from '@grpc/grpc-js';
import { asIs, rawClient, startAttackTarget, underAttack, type AttackTarget } from '../helpers/attack-target.js';
import { field } from '../helpers/protobuf-pieces.js';
import { expectSurvived } from '../helpers/attack-expectations.js';
import { sleep } from '../helpers/time.js';

/**
 * Requests as large as the default maximum message (4 MiB) allows, each
 * built so that decoding it element by element would cost the event loop
 * a second or more, sent by three clients at once over connections of
 * their own for a few seconds: each is refused with the status and message
 * its bound gives, and the server, with a 384 MB heap, keeps answering
 * health checks and a well-behaved client throughout.
 */
const MAX_MESSAGE = 4 * 1024 * 1024;
const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';
const ATTACKERS = 3;
const ATTACK_MS = 3000;
const WARM_UP_MS = 1000;

const repeat = (piece: Buffer, count: number) => Buffer.concat(new Array<Buffer>(count).fill(piece));
/** As many `piece`s as fit in one maximum message beside `rest` bytes. */
const fill = (piece: Buffer, rest = 64) => repeat(piece, Math.floor((MAX_MESSAGE - rest) / piece.length));
/** The attack target's `echo` input over OIP: `text`, BYTES of shape [1]. */
const textInput = field(5, Buffer.concat([field(1, 'text'), field(2, 'BYTES'), field(3, Buffer.from([1]))]));
const rawText = (text: string) => {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(Buffer.byteLength(text));
  return field(7, Buffer.concat([length, Buffer.from(text)]));
};

/** Sends `request` from `ATTACKERS` clients in a loop until the signal; resolves with how often each answer came. */
function flood(address: string, request: Buffer) {
  return async (signal: AbortSignal): Promise<Record<string, number>> => {
    const answers: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: ATTACKERS }, async () => {
        const client = rawClient(address);
        try {
          while (!signal.aborted) {
            const answer = await new Promise<string>((resolve) =>
              client.makeUnaryRequest(MODEL_INFER, asIs, asIs, request, { deadline: Date.now() + 10_000 }, (error) =>
                resolve(error ? `${grpc.status[error.code]}: ${error.details}` : 'OK'),
              ),
            );
            answers[answer] = (answers[answer] ?? 0) + 1;
          }
        } finally {
          client.close();
        }
      }),
    );
    return answers;
  };
}

describe('attacks with oversized requests', () => {
  let target: AttackTarget;

  beforeAll(async () => {
    target = await startAttackTarget();
  });

  afterAll(async () => {
    await target?.stop();
  });

  it.each<[string, () => Buffer, string]>([
    [
      'a 4 MB raw BYTES tensor of a million zero-length elements for shape [1]',
      () => Buffer.concat([field(1, 'echo'), textInput, field(7, Buffer.alloc(MAX_MESSAGE - 64))]),
      "INVALID_ARGUMENT: Input 'text': raw BYTES holds more than 1 elements, but the shape has 1",
    ],
    [
      '50,000 request parameters',
      () => {
        const parameter = (i: number) =>
          field(4, Buffer.concat([field(1, `p${String(i).padStart(6, '0')}`), field(2, field(3, 'x'))]));
        return Buffer.concat([
          ...Array.from({ length: 50_000 }, (_, i) => parameter(i)),
          field(1, 'echo'),
          textInput,
          rawText('hi'),
        ]);
      },
      'RESOURCE_EXHAUSTED: request has more than 64 parameters; at most 64 are accepted (limits.maxParameters)',
    ],
    [
      'hundreds of thousands of inputs',
      () => Buffer.concat([field(1, 'echo'), fill(textInput)]),
      'RESOURCE_EXHAUSTED: request has more than 64 inputs; at most 64 are accepted (limits.maxInputs)',
    ],
    [
      'hundreds of thousands of requested outputs',
      () => Buffer.concat([field(1, 'echo'), textInput, rawText('hi'), fill(field(6, field(1, 'result')))]),
      'RESOURCE_EXHAUSTED: request asks for more than 64 outputs; at most 64 are accepted (limits.maxOutputs)',
    ],
    [
      'a model name of 4 MB',
      () => Buffer.concat([field(1, 'e'.repeat(MAX_MESSAGE - 64)), textInput, rawText('hi')]),
      `NOT_FOUND: Model '${'e'.repeat(128)}... (${MAX_MESSAGE - 64 - 128} more characters)' is not registered`,
    ],
    [
      'a model version of 4 MB, all digits',
      () => Buffer.concat([field(1, 'echo'), field(2, '9'.repeat(MAX_MESSAGE - 64)), textInput, rawText('hi')]),
      `NOT_FOUND: Model 'echo' version '${'9'.repeat(128)}... (${MAX_MESSAGE - 64 - 128} more characters)' is not registered`,
    ],
  ])(
    `three clients sending %s for ${(WARM_UP_MS + ATTACK_MS) / 1000} s are each refused, and the server survives`,
    async (_, build, expected) => {
      const request = build();
      expect(request.length).toBeLessThanOrEqual(MAX_MESSAGE);
      // V8 frees dead Buffers once some 64 MB of them have piled up, so the first second of any flood of 4 MiB messages lifts RSS
      // by about that much, whatever the server does with them; the flood runs that long before RSS is first measured, and on
      // through the measured attack, so the bound holds what the attack adds from there on.
      const flooding = new AbortController();
      const answered = flood(target.address, request)(flooding.signal);
      await sleep(WARM_UP_MS);
      const report = await underAttack(
        target,
        async (signal) => {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          flooding.abort();
          return answered;
        },
        { durationMs: ATTACK_MS },
      );
      expectSurvived(report);
      const answers = report.attackResult;
      expect(Object.keys(answers)).toEqual([expected]);
      expect(answers[expected]).toBeGreaterThanOrEqual(ATTACKERS);
    },
  );
  it('64 concurrent 4 MB requests on one connection: those past limits.maxRequestBytesInFlight are refused before their bodies arrive', async () => {
    const request = Buffer.concat([field(1, 'no-such-model'), field(7, Buffer.alloc(MAX_MESSAGE - 64))]);
    const answers: Record<string, number> = {};
    const client = rawClient(target.address);
    const calling = new AbortController();
    const loop = async () => {
      while (!calling.signal.aborted) {
        const answer = await new Promise<string>((resolve) =>
          client.makeUnaryRequest(MODEL_INFER, asIs, asIs, request, { deadline: Date.now() + 10_000 }, (error) =>
            resolve(error ? `${grpc.status[error.code]}: ${error.details.replace(/[\d.]+ MiB/g, 'N MiB')}` : 'OK'),
          ),
        );
        answers[answer] = (answers[answer] ?? 0) + 1;
      }
    };
    const loops = Promise.all(Array.from({ length: 64 }, loop));
    // As above: the first second of a 4 MiB flood lifts RSS by what V8 lets pile up before it frees Buffers.
    await sleep(WARM_UP_MS);
    const report = await underAttack(
      target,
      (signal) => new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
      {
        durationMs: ATTACK_MS,
      },
    );
    calling.abort();
    await loops;
    client.close();
    expectSurvived(report);
    expect(Object.keys(answers).sort()).toEqual([
      "NOT_FOUND: Model 'no-such-model' is not registered",
      'RESOURCE_EXHAUSTED: Server is busy receiving N MiB of requests; this one (N MiB) would pass N MiB (limits.maxRequestBytesInFlight): retry later',
    ]);
  });
});
