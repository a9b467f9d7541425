import { BlazeClient } from '../../lib/index.js';
import { driveLoad, startReplica, type Replica } from '../helpers/replicas.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const diff = (after: Map<string, number>, before: Map<string, number>) => new Map([...after].map(([name, count]) => [name, count - (before.get(name) ?? 0)]));

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
    await Promise.all(replicas.map((r) => (r.process.exitCode === null && r.process.signalCode === null ? r.stop() : undefined)));
  });

  it('spreads calls evenly: each of 3 replicas answers within 10% of a third', async () => {
    const load = driveLoad(client, 6);
    afterStop = () => load.stop();
    await sleep(300); // every subchannel connected
    const before = load.snapshot();
    await sleep(1500);
    const counts = diff(load.snapshot(), before);
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(150);
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
    await sleep(800);
    const since = diff(load.snapshot(), afterExit);
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    expect(since.get('b') ?? 0).toBe(0);
    expect(since.get('a')).toBeGreaterThan(20);
    expect(since.get('c')).toBeGreaterThan(20);
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
    let tail = diff(load.snapshot(), before);
    for (let waited = 0; waited < 10_000 && ['a', 'b', 'c'].some((name) => (tail.get(name) ?? 0) <= 20); waited += 200) {
      await sleep(200);
      tail = diff(load.snapshot(), before);
    }
    const tally = await load.stop();
    expect(tally.failures).toEqual([]);
    for (const name of ['a', 'b', 'c']) expect(tail.get(name)).toBeGreaterThan(20);
  }, 60_000);
});
