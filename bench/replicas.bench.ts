/**
 * Replicas on loopback, as a Deployment behind a headless Service runs them:
 * real server processes of a small app (test/fixtures/replica), one
 * BlazeClient balancing round_robin over their addresses with retries on
 * UNAVAILABLE. Reports throughput of 1 vs 3 replicas, each replica's share,
 * and failed calls through a SIGTERM drain, a rolling restart and a model
 * version rollout (published to every replica's repository) under load.
 *
 *   npm run bench:replicas            (BENCH_SECONDS=5 per phase by default)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlazeClient, Tensor } from '../lib/index.js';
import { exportIrisOnnx, irisSamples, trainedIris, uniformIris } from '../test/fixtures/iris-models.js';
import { OipClient } from '../lib/client/oip/oip-client.js';
import { publishVersion } from '../test/helpers/model-repository.js';
import { setReplicaPool } from '../test/helpers/replica-resolver.js';
import { driveLoad, startReplica, type Replica } from '../test/helpers/replicas.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const rows: string[][] = [];

async function throughput(count: number): Promise<number> {
  const replicas = await Promise.all(Array.from({ length: count }, (_, i) => startReplica(`r${i}`)));
  const client = await BlazeClient.connect(replicas.map((r) => r.address));
  try {
    const warm = driveLoad(client, CONCURRENCY, 0);
    await sleep(1000);
    await warm.stop();
    const load = driveLoad(client, CONCURRENCY, 0);
    await sleep(SECONDS * 1000);
    const tally = await load.stop();
    if (tally.failures.length > 0) throw new Error(`${tally.failures.length} calls failed: ${tally.failures[0]}`);
    return tally.total() / SECONDS;
  } finally {
    client.close();
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

function shares(counts: Map<string, number>): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name} ${((100 * n) / total).toFixed(1)}%`)
    .join(', ');
}

async function lifecycle(): Promise<void> {
  const replicas: Replica[] = await Promise.all(['a', 'b', 'c'].map((name) => startReplica(name)));
  const client = await BlazeClient.connect(replicas.map((r) => r.address));
  // 2 ms of pretend work per call, so calls are in flight when a replica is told to stop.
  const load = driveLoad(client, 16, 2);
  try {
    await sleep(1000);
    let mark = load.snapshot();
    let failuresBefore = 0;
    const phase = async (name: string, run: () => Promise<void>) => {
      const started = Date.now();
      await run();
      const counts = new Map([...load.snapshot()].map(([k, v]) => [k, v - (mark.get(k) ?? 0)]));
      const calls = [...counts.values()].reduce((a, b) => a + b, 0);
      rows.push([
        name,
        String(calls),
        String(load.tally.failures.length - failuresBefore),
        shares(counts),
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
      ]);
      mark = load.snapshot();
      failuresBefore = load.tally.failures.length;
    };
    await phase('steady, 3 replicas', () => sleep(SECONDS * 1000));
    await phase('SIGTERM drain of b', async () => {
      await replicas[1].stop();
      await sleep(SECONDS * 500);
    });
    await phase('b back', async () => {
      replicas[1] = await startReplica('b', replicas[1].port);
      await sleep(SECONDS * 1000);
    });
    await phase('rolling restart of a, b, c', async () => {
      for (let i = 0; i < replicas.length; i++) {
        await replicas[i].stop();
        replicas[i] = await startReplica(replicas[i].name, replicas[i].port);
        await sleep(500);
      }
    });
    await phase('after the restart', () => sleep(SECONDS * 1000));
  } finally {
    const tally = await load.stop();
    client.close();
    await Promise.all(replicas.map((r) => r.stop()));
    if (tally.failures.length > 0) console.log(`failures: ${[...new Set(tally.failures)].join('; ')}`);
  }
}

/** Three replicas behind a name (as a headless Service's DNS), connections aged at 2 s; a 4th joins the name mid-run. */
async function scaleOut(): Promise<string> {
  const env = { MAX_CONNECTION_AGE_MS: '2000' };
  const pool = await Promise.all(['a', 'b', 'c'].map((name) => startReplica(name, 0, env)));
  const client = await BlazeClient.connect(
    setReplicaPool(
      'bench',
      pool.map((r) => r.port),
    ),
  );
  const load = driveLoad(client, 16, 2);
  try {
    await sleep(1000);
    pool.push(await startReplica('d', 0, env));
    setReplicaPool(
      'bench',
      pool.map((r) => r.port),
    );
    const added = Date.now();
    const before = load.snapshot();
    while ((load.snapshot().get('d') ?? 0) === 0 && Date.now() - added < 15_000) await sleep(20);
    const firstCallMs = Date.now() - added;
    await sleep(SECONDS * 1000);
    const counts = new Map([...load.snapshot()].map(([k, v]) => [k, v - (before.get(k) ?? 0)]));
    return `| 4th replica added (maxConnectionAge 2 s) | first call on it after ${(firstCallMs / 1000).toFixed(1)} s | ${load.tally.failures.length} failed | ${shares(counts)} |`;
  } finally {
    await load.stop();
    client.close();
    await Promise.all(pool.map((r) => r.stop()));
  }
}

/** Version 2 of iris published to each replica's repository (polled every 1 s) while 16 callers call it. */
async function rollout(): Promise<string> {
  const dirs = ['a', 'b', 'c'].map((name) => mkdtempSync(join(tmpdir(), `blazerpc-bench-${name}-`)));
  dirs.forEach((dir) => publishVersion(dir, 'iris', '1', exportIrisOnnx(trainedIris)));
  const replicas = await Promise.all(
    ['a', 'b', 'c'].map((name, i) => startReplica(name, 0, { MODEL_REPOSITORY: dirs[i]!, POLL_MS: '1000' })),
  );
  const client = await BlazeClient.connect(replicas.map((r) => r.address));
  const features = Tensor.from('float32', [1, 4], irisSamples[0].features);
  const calls: { startedAt: number; version?: 1 | 2; failed?: string }[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const call: (typeof calls)[number] = { startedAt: performance.now() };
      try {
        call.version = ((await client.predict('iris', { features })) as Tensor).data[0]! > 0.9 ? 1 : 2;
      } catch (error) {
        call.failed = (error as Error).message;
      }
      calls.push(call);
    }
  };
  const loops = Array.from({ length: 16 }, loop);
  try {
    await sleep(SECONDS * 500);
    const published = performance.now();
    dirs.forEach((dir) => publishVersion(dir, 'iris', '2', exportIrisOnnx(uniformIris)));
    const oip = replicas.map((r) => new OipClient(r.address));
    const onVersion2 = async (replica: OipClient) =>
      (await replica.repositoryIndex())
        .filter((m) => m.name === 'iris')
        .map((m) => m.version)
        .join() === '2';
    while (!(await Promise.all(oip.map(onVersion2))).every(Boolean)) await sleep(10);
    const rolledOut = performance.now();
    oip.forEach((c) => c.close());
    await sleep(SECONDS * 500);
    running = false;
    await Promise.all(loops);
    const after = calls.filter((c) => c.startedAt > rolledOut);
    const failed = calls.filter((c) => c.failed);
    if (failed.length > 0) console.log(`failures: ${[...new Set(failed.map((c) => c.failed))].join('; ')}`);
    return (
      `| version 1 -> 2 on a, b, c | ${calls.length} | ${failed.length} | ${((rolledOut - published) / 1000).toFixed(2)} s | ` +
      `${after.length} calls, ${after.filter((c) => c.version === 1).length} on version 1 |`
    );
  } finally {
    running = false;
    await Promise.all(loops);
    client.close();
    await Promise.all(replicas.map((r) => r.stop()));
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  }
}

const one = await throughput(1);
const three = await throughput(3);
console.log(
  `\n${availableParallelism()} CPUs; load client in the bench process; echo-sized unary calls, concurrency ${CONCURRENCY}, ${SECONDS} s per run\n`,
);
console.log('| replicas | calls/s | vs 1 replica |\n|---|---|---|');
console.log(`| 1 | ${one.toFixed(0)} | 1.00x |`);
console.log(`| 3 | ${three.toFixed(0)} | ${(three / one).toFixed(2)}x |`);
await lifecycle();
console.log('\nUnder load (16 concurrent callers, 2 ms of work per call), round_robin with retries on UNAVAILABLE:\n');
console.log('| phase | calls | failed | share per replica | took |\n|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log('\nScale-out: clients resolve the name again when the server ages their connections out:\n');
console.log('| phase | when | failed | share per replica (from the addition on) |\n|---|---|---|---|');
console.log(await scaleOut());
console.log('\nModel version rollout: each replica polls its own repository every 1 s; iris, 16 callers:\n');
console.log('| phase | calls | failed | publish to every replica on it | after the rollout |\n|---|---|---|---|---|');
console.log(await rollout());
