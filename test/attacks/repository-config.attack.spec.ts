import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlazeClient, Tensor } from '../../lib/index.js';
import { exportIrisOnnx, irisSamples, trainedIris, uniformIris } from '../fixtures/iris-models.js';
import { startAttackTarget, underAttack, type AttackTarget } from '../helpers/attack-target.js';
import { expectSurvived } from '../helpers/attack-expectations.js';
import { publishVersion } from '../helpers/model-repository.js';
import { OipSpecClient } from '../helpers/oip-spec-client.js';
import { sleep } from '../helpers/time.js';

/*
 * Someone who can write to the model repository of a running replica (a
 * deploy job gone wrong, or worse) writes settings meant to exhaust it:
 * 10,000 instances (which used to start 10,000 threads in one go: 1.8 GB in 6 s),
 * a billion threads, a billion-deep queue, a config.json of megabytes, a
 * version number no integer type holds. The replica must refuse each before
 * it costs anything, keep serving the version it served, and say so once.
 */

const trained = exportIrisOnnx(trainedIris);
const uniform = exportIrisOnnx(uniformIris);
const POLL_MS = 50;
const setosa = Tensor.from('float32', [1, 4], irisSamples[0].features);

describe('attack: abusive model repository settings written while the server runs', () => {
  let dir: string;
  let target: AttackTarget;
  let oip: OipSpecClient;
  let client: BlazeClient;

  /** Replaces iris's config.json in one step, as a poll must never read half of it. */
  const writeConfig = (text: string) => {
    writeFileSync(join(dir, 'iris', '.config.json.next'), text);
    renameSync(join(dir, 'iris', '.config.json.next'), join(dir, 'iris', 'config.json'));
  };
  /** How many times the target logged `text`. */
  const logged = (text: string) => target.output().split(text).length - 1;
  /** Which iris answers by default: version 1 (trained) must, throughout. */
  const iris = async () => {
    const result = (await client.predict('iris', { features: setosa }, { timeoutMs: 3000 })) as Tensor;
    return (result.data as Float32Array)[0]! > 0.9 ? 'trained' : 'uniform';
  };

  /**
   * Writes, then calls iris in a loop until every `expected` text has been
   * logged and a dozen more polls have passed; resolves with what iris answered.
   */
  const attack = (write: () => void, expected: string[]) => async (signal: AbortSignal) => {
    write();
    const answers = new Set<string>();
    let settledAt: number | undefined;
    while (!signal.aborted) {
      try {
        answers.add(await iris());
      } catch (error) {
        answers.add(`failed: ${(error as Error).message}`);
      }
      if (settledAt === undefined && expected.every((text) => logged(text) > 0)) settledAt = Date.now();
      if (settledAt !== undefined && Date.now() - settledAt > POLL_MS * 12) break;
      await sleep(20);
    }
    return [...answers];
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blazerpc-attack-repo-'));
    publishVersion(dir, 'iris', '1', trained);
    target = await startAttackTarget({ MODEL_REPOSITORY: dir, POLL_MS: String(POLL_MS) });
    oip = new OipSpecClient(target.address);
    client = await BlazeClient.connect(target.address);
  }, 30_000);

  afterAll(async () => {
    oip?.close();
    client?.close();
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('"instances": 10000, then a new version under it: refused before a thread starts, one line each, version 1 serves on', async () => {
    const served = "'instances' must be a positive integer, got 10000; allowed: 1 to 64";
    const v1 = `Model 'iris' version 1 cannot be served, so the model keeps serving what it served: Model repository: iris/config.json ${served}`;
    const v2 = `Model 'iris' version 2 cannot be served, so the model keeps serving what it served: Model repository: iris/config.json ${served}`;
    const first = await underAttack(
      target,
      attack(() => writeConfig('{"instances": 10000}'), [v1]),
      { durationMs: 4000 },
    );
    expectSurvived(first);
    const second = await underAttack(
      target,
      attack(() => publishVersion(dir, 'iris', '2', uniform), [v2]),
      { durationMs: 4000 },
    );
    expectSurvived(second);
    expect([first.attackResult, second.attackResult]).toEqual([['trained'], ['trained']]);
    expect([logged(v1), logged(v2)]).toEqual([1, 1]);
    const index = (await oip.call('RepositoryIndex', {})).models.filter((m: { name: string }) => m.name === 'iris');
    expect(index).toEqual([
      { name: 'iris', version: '1', state: 'READY', reason: '' },
      {
        name: 'iris',
        version: '2',
        state: 'UNAVAILABLE',
        reason: expect.stringContaining(`iris/config.json ${served}`),
      },
    ]);
    expect(JSON.stringify(index)).not.toContain(dir);
  }, 20_000);

  it('a billion threads, a billion-deep queue, a 16 MB config.json: one line each, version 1 serves on', async () => {
    const threads = "iris/config.json key 'intraOpNumThreads' is unknown. Known: instances, batching,";
    const queue =
      "iris/config.json 'batching.maxQueueSize' must be a positive integer, got 1000000000; allowed: 1 to 65536";
    const hugeConfig = `{"description": "${'x'.repeat(16 * 1024 * 1024)}"}`;
    const huge = `iris/config.json is ${Buffer.byteLength(hugeConfig)} bytes; a config.json holds at most 65536 bytes of settings`;
    const report = await underAttack(
      target,
      async (signal) => [
        ...(await attack(() => writeConfig('{"intraOpNumThreads": 1e9, "interOpNumThreads": 1e9}'), [threads])(signal)),
        ...(await attack(() => writeConfig('{"batching": {"maxQueueSize": 1e9}}'), [queue])(signal)),
        // Never read: before, each poll (20 a second) read and parsed all of it.
        ...(await attack(() => writeConfig(hugeConfig), [huge])(signal)),
      ],
      { durationMs: 6000 },
    );
    expectSurvived(report);
    expect(new Set(report.attackResult as string[])).toEqual(new Set(['trained']));
    expect([logged(threads), logged(queue), logged(huge)]).toEqual([1, 1, 1]);
  }, 20_000);

  it('a version directory named with 200 digits: ignored with one warning, never served', async () => {
    const version = '9'.repeat(200);
    const warning = `Model repository: ignoring 'iris/${version}': version numbers have at most 19 digits and go up to 9223372036854775807`;
    // Version 2 goes first: under good settings it would load.
    rmSync(join(dir, 'iris', '2'), { recursive: true });
    writeConfig('{}');
    const report = await underAttack(
      target,
      attack(() => publishVersion(dir, 'iris', version, uniform), [warning]),
      { durationMs: 4000 },
    );
    expectSurvived(report);
    expect(report.attackResult).toEqual(['trained']);
    expect(logged(warning)).toBe(1);
    await expect(oip.call('ModelReady', { name: 'iris', version })).resolves.toEqual({ ready: false });
  }, 20_000);
});
