import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlazeClient, Tensor } from '../../lib/index.js';
import { exportIrisOnnx, irisSamples, trainedIris, uniformIris } from '../fixtures/iris-models.js';
import { OipSpecClient } from '../helpers/oip-spec-client.js';
import { publishVersion } from '../helpers/model-repository.js';
import { setReplicaPool } from '../helpers/replica-resolver.js';
import { driveLoad, startReplica, type Replica } from '../helpers/replicas.js';
import { sleep, until } from '../helpers/time.js';

const diff = (after: Map<string, number>, before: Map<string, number>) =>
  new Map([...after].map(([name, count]) => [name, count - (before.get(name) ?? 0)]));

/**
 * Several real server processes on loopback, one client balancing over them
 * (gRPC round_robin over their addresses, retries on UNAVAILABLE), as a
 * Kubernetes Deployment behind a headless Service runs them.
 */
describe('replicas: round_robin, drain and rolling restart with real server processes', () => {
  let replicas: Replica[] = [];
  let client: BlazeClient;

  beforeAll(async () => {
    replicas = await Promise.all(['a', 'b', 'c'].map((name) => startReplica(name, 0, { GRACE_MS: '3000' })));
    client = await BlazeClient.connect(replicas.map((r) => r.address));
  }, 60_000);

  // A failed expectation must not leave a load running into the next test.
  let afterStop: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await afterStop?.();
    afterStop = undefined;
  });

  afterAll(async () => {
    client?.close();
    await Promise.all(
      replicas.map((r) => (r.process.exitCode === null && r.process.signalCode === null ? r.stop() : undefined)),
    );
  });

  it('spreads calls evenly: each of 3 replicas answers within 10% of a third', async () => {
    const load = driveLoad(client, 6);
    afterStop = () => load.stop();
    await sleep(300); // every subchannel connected
    const before = load.snapshot();
    // A sample of 300 calls, however long a loaded machine takes to make them: this spec is about
    // how calls spread, not how fast they go (bench/replicas.bench.ts measures that).
    const sumOf = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
    await until(() => sumOf(diff(load.snapshot(), before)) >= 300, { what: '300 calls', timeoutMs: 20_000 });
    const counts = diff(load.snapshot(), before);
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    const total = sumOf(counts);
    for (const name of ['a', 'b', 'c']) {
      expect(Math.abs((counts.get(name) ?? 0) / total - 1 / 3)).toBeLessThan(0.1 / 3);
    }
  }, 30_000);

  it('drains a replica on SIGTERM under load with no failed call; the others take its share', async () => {
    const load = driveLoad(client, 8);
    afterStop = () => load.stop();
    await sleep(500);
    const b = replicas[1];
    expect(await b.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    const afterExit = load.snapshot();
    const served = (name: string) => diff(load.snapshot(), afterExit).get(name) ?? 0;
    await until(() => served('a') > 20 && served('c') > 20, { what: 'a and c taking the load', timeoutMs: 20_000 });
    const since = diff(load.snapshot(), afterExit);
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    expect(since.get('b') ?? 0).toBe(0);
    replicas[1] = await startReplica('b', b.port, { GRACE_MS: '3000' });
  }, 30_000);

  it('rolls a restart over all three under load with no failed call, and every replica serves again', async () => {
    const load = driveLoad(client, 8);
    afterStop = () => load.stop();
    await sleep(300);
    for (let i = 0; i < replicas.length; i++) {
      const old = replicas[i];
      expect(await old.stop()).toEqual({ code: null, signal: 'SIGTERM' });
      replicas[i] = await startReplica(old.name, old.port, { GRACE_MS: '3000' });
      await sleep(300);
    }
    // grpc reconnects to a restarted address with backoff (1 s, then 1.6x per failed attempt): wait for it, up to 10 s.
    const before = load.snapshot();
    const everyServing = () => ['a', 'b', 'c'].every((name) => (diff(load.snapshot(), before).get(name) ?? 0) > 20);
    await until(everyServing, { what: 'every restarted replica serving', timeoutMs: 10_000 });
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
  }, 60_000);

  it('a replica added mid-run gets traffic once connections reach maxConnectionAge and the client resolves the name again', async () => {
    // Connections live 1.5 s (±10%), then drain for up to 5 s: long-lived clients come back through name resolution.
    const env = { GRACE_MS: '3000', MAX_CONNECTION_AGE_MS: '1500' };
    const pool = await Promise.all(['p', 'q'].map((name) => startReplica(name, 0, env)));
    const target = setReplicaPool(
      'scale-out',
      pool.map((r) => r.port),
    );
    const scaling = await BlazeClient.connect(target);
    const load = driveLoad(scaling, 8);
    afterStop = async () => {
      await load.stop();
      scaling.close();
      await Promise.all(pool.map((r) => r.stop()));
    };
    await sleep(500);
    pool.push(await startReplica('r', 0, env));
    setReplicaPool(
      'scale-out',
      pool.map((r) => r.port),
    );
    const added = Date.now();
    const before = load.snapshot();
    const servedByR = () => diff(load.snapshot(), before).get('r') ?? 0;
    await until(() => servedByR() > 0, {
      what: 'a call reaching the added replica',
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const reachedAfterMs = Date.now() - added;
    await until(() => servedByR() > 20, { what: 'the added replica taking a share', timeoutMs: 10_000 });
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    // Within one connection age (1.5 s + 10% jitter) and a reconnect: the behaviour maxConnectionAge promises.
    expect(reachedAfterMs).toBeLessThan(3000);
  }, 60_000);
});

/**
 * A model version rolled out on every replica's repository under load, as a
 * deployment would publish it to each pod's volume.
 */
describe('replicas: a model version rollout under load', () => {
  const setosa = Tensor.from('float32', [1, 4], irisSamples[0].features);
  let replicas: Replica[] = [];
  let client: BlazeClient;
  let dirs: string[] = [];

  beforeAll(async () => {
    const trained = exportIrisOnnx(trainedIris);
    dirs = ['a', 'b', 'c'].map((name) => {
      const dir = mkdtempSync(join(tmpdir(), `blazerpc-replica-${name}-`));
      publishVersion(dir, 'iris', '1', trained);
      return dir;
    });
    replicas = await Promise.all(
      ['a', 'b', 'c'].map((name, i) => startReplica(name, 0, { MODEL_REPOSITORY: dirs[i]!, POLL_MS: '40' })),
    );
    client = await BlazeClient.connect(replicas.map((r) => r.address));
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await Promise.all(replicas.map((r) => r.stop()));
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });

  it('publishes version 2 to every replica: no call fails, and every call after the rollout gets version 2', async () => {
    const calls: { startedAt: number; probability?: number; error?: string }[] = [];
    let running = true;
    const loop = async () => {
      while (running) {
        const call: (typeof calls)[number] = { startedAt: performance.now() };
        try {
          call.probability = ((await client.predict('iris', { features: setosa })) as Tensor).data[0] as number;
        } catch (error) {
          call.error = (error as Error).message;
        }
        calls.push(call);
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    await sleep(300);
    const uniform = exportIrisOnnx(uniformIris);
    dirs.forEach((dir) => publishVersion(dir, 'iris', '2', uniform));
    const oip = replicas.map((r) => new OipSpecClient(r.address));
    const onlyVersion2 = async (replica: OipSpecClient) =>
      JSON.stringify(
        (await replica.call('RepositoryIndex', {})).models
          .filter((m: { name: string }) => m.name === 'iris')
          .map((m: { version: string; state: string }) => `${m.version} ${m.state}`),
      ) === '["2 READY"]';
    await until(async () => (await Promise.all(oip.map(onlyVersion2))).every(Boolean), {
      what: 'version 2 on every replica',
      timeoutMs: 20_000,
      intervalMs: 10,
    });
    const rolledOutAt = performance.now();
    await until(() => calls.filter((c) => c.startedAt > rolledOutAt).length > 50, {
      what: '50 calls after the rollout',
      timeoutMs: 20_000,
    });
    running = false;
    await Promise.all(loops);

    expect(calls.filter((c) => c.error)).toEqual([]);
    expect(calls.filter((c) => c.startedAt < rolledOutAt).some((c) => c.probability! > 0.9)).toBe(true); // version 1 answered before
    const after = calls.filter((c) => c.startedAt > rolledOutAt);
    expect(after.length).toBeGreaterThan(50);
    expect(after.every((c) => Math.abs(c.probability! - 1 / 3) < 0.01)).toBe(true); // version 2 only
  }, 60_000);
});
