/**
 * Attacks on streams, as the attack suite runs them (test/attacks), and
 * concurrent 4 MiB requests on one connection, with
 * figures instead of pass/fail: for each, what the attacker got the server
 * to take, the server's RSS growth, the slowest health `Check` from another
 * connection, and the well-behaved client's answers meanwhile. The target
 * is a real server process with a 384 MB heap (test/fixtures/attack).
 *
 *   npm run bench:attacks                          (BENCH_SECONDS=4 per attack)
 *   BENCH_TARGET_ROOT=<other checkout> npm run bench:attacks    (the same attacks on another release)
 */
import { oipEchoRequest, startAttackTarget, underAttack, type AttackReport } from '../test/helpers/attack-target.js';
import { field } from '../test/helpers/protobuf-pieces.js';
import {
  concurrentUnaryCalls,
  MODEL_STREAM_INFER,
  modelStreamInferFlood,
  packedStream,
  unreadBidiFlood,
  unreadServerStream,
  word,
  type Attack,
} from '../test/helpers/stream-attacks.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROOT = process.env.BENCH_TARGET_ROOT;

/** An OIP request for a model no server has, as large as the default maximum message: refused NOT_FOUND once received. */
const unknownModel4MiB = Buffer.concat([field(1, 'no-such-model'), field(7, Buffer.alloc(4 * 1024 * 1024 - 64))]);
const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';

const attacks: Array<[string, (address: string) => Attack<unknown>]> = [
  [
    'ModelStreamInfer flood, never reads',
    (address) => packedStream(address, MODEL_STREAM_INFER, oipEchoRequest('1', 'x'), { read: false }),
  ],
  [
    'ModelStreamInfer flood (grpc-js client), never reads',
    (address) => modelStreamInferFlood(address, { read: false }),
  ],
  ['ModelStreamInfer flood, reads every response', (address) => modelStreamInferFlood(address, { read: true })],
  [
    'ModelStreamInfer into a client-streaming model',
    (address) => modelStreamInferFlood(address, { read: true, model: 'tally', input: 'word', text: 'w' }),
  ],
  [
    'ModelStreamInfer into a bidi model, never reads',
    (address) => modelStreamInferFlood(address, { read: false, model: 'parrot', input: 'word', text: 'w'.repeat(100) }),
  ],
  [
    'client stream of 1M messages',
    (address) => packedStream(address, '/blazerpc.InferenceService/PredictTally', word('w'), { count: 1_000_000 }),
  ],
  [
    'bidi model, never reads',
    (address) => unreadBidiFlood(address, '/blazerpc.InferenceService/PredictParrot', word('w'.repeat(100))),
  ],
  [
    '16 concurrent 4 MiB requests on one connection, refused at once',
    (address) => concurrentUnaryCalls(address, MODEL_INFER, unknownModel4MiB, 16),
  ],
  [
    '64 concurrent 4 MiB requests on one connection, refused at once',
    (address) => concurrentUnaryCalls(address, MODEL_INFER, unknownModel4MiB, 64),
  ],
  [
    'Observable stream, not read for 3 s',
    (address) =>
      unreadServerStream(
        address,
        '/blazerpc.InferenceService/PredictBurst',
        Buffer.from([0x08, 0x80, 0xc2, 0xd7, 0x2f]),
        3000,
      ),
  ],
];

const rows: string[][] = [
  [
    'attack',
    'messages the server took',
    'RSS before -> peak (MB)',
    'growth',
    'worst health Check',
    'well-behaved calls (wrong)',
    'alive',
  ],
];

for (const [name, attack] of attacks) {
  const target = await startAttackTarget({}, ROOT);
  let report: AttackReport | undefined;
  let failure: string | undefined;
  try {
    report = await underAttack(target, attack(target.address), {
      durationMs: SECONDS * 1000 + (name.includes('1M') ? 11_000 : 0),
    });
  } catch (error) {
    failure = (error as Error).message;
  } finally {
    await target.stop();
  }
  if (!report) {
    rows.push([name, `failed: ${failure}`, '', '', '', '', '']);
    continue;
  }
  const result = report.attackResult as { sent?: number } | undefined;
  rows.push([
    name,
    result?.sent === undefined ? '-' : result.sent.toLocaleString('en-US'),
    `${report.rssBeforeMb.toFixed(0)} -> ${report.rssPeakMb.toFixed(0)}`,
    `${report.rssGrowthMb.toFixed(0)} MB`,
    `${report.healthWorstMs.toFixed(0)} ms${report.healthFailures.length > 0 ? ` (${report.healthFailures.length} failed)` : ''}`,
    `${report.wellBehavedAnswered} (${report.wellBehavedWrong.length})`,
    report.alive ? 'yes' : 'no',
  ]);
  console.error(`${name}: done`);
}

console.log(rows.map((row) => `| ${row.join(' | ')} |`).join('\n'));
