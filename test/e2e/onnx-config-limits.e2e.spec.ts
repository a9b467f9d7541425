import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BlazeClient, BlazeRpcModule, ModelRegistry, Tensor } from '../../lib/index.js';
import { OnnxModelRepository, OnnxModule } from '../../lib/runtimes/onnx/index.js';
import { serveForTesting, type TestingServer } from '../../lib/testing/index.js';
import { exportIrisOnnx, irisSamples, trainedIris, uniformIris } from '../fixtures/iris-models.js';
import { HealthClient } from '../helpers/health-client.js';
import { publishVersion } from '../helpers/model-repository.js';
import { OipSpecClient } from '../helpers/oip-spec-client.js';
import { testServerOptions } from '../helpers/start-app.js';
import { sleep, until } from '../helpers/time.js';

/*
 * A live repository (read every 25 ms) given settings out of bounds and
 * version directories that are not versions: what served keeps serving, the
 * operator reads one line per problem however many polls pass, and clients
 * see why in health and OIP RepositoryIndex. Two iris models tell versions
 * apart: trained answers setosa with p > 0.9, uniform with 1/3 each.
 */

const trained = exportIrisOnnx(trainedIris);
const uniform = exportIrisOnnx(uniformIris);
const setosa = Tensor.from('float32', [1, 4], irisSamples[0].features);
const POLL_MS = 25;

/** Replaces iris's config.json in one step, as a poll must never read half of it. */
function writeConfig(text: string): void {
  writeFileSync(join(dir, 'iris', '.config.json.next'), text);
  renameSync(join(dir, 'iris', '.config.json.next'), join(dir, 'iris', 'config.json'));
}

/** Worker threads alive in this process. */
function liveThreads(): number {
  return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

let dir: string;

describe('OnnxModule.repository read while serving: out-of-bounds config.json and version directories that are not versions', () => {
  let served: TestingServer<any>;
  let registry: ModelRegistry;
  let health: HealthClient;
  let oip: OipSpecClient;
  let logged: string[];

  const versions = () =>
    registry
      .list()
      .filter((m) => m.name === 'iris')
      .map((m) => m.version);
  /** Which iris answers; a version is asked for by a client connected now, which sees the versions served now. */
  const which = async (version?: string) => {
    const client: BlazeClient = version === undefined ? served.client : await BlazeClient.connect(served.address);
    try {
      return ((await client.predict('iris', { features: setosa }, { version })) as Tensor).data[0]! > 0.9
        ? 'trained'
        : 'uniform';
    } finally {
      if (client !== served.client) client.close();
    }
  };
  const index = async () =>
    (await oip.call('RepositoryIndex', {})).models.filter((m: { name: string }) => m.name === 'iris');
  const lines = (text: string) => logged.filter((line) => line.includes(text));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blazerpc-limits-live-'));
    publishVersion(dir, 'iris', '1', trained);
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot(testServerOptions), OnnxModule.repository(dir, { pollIntervalMs: POLL_MS })],
    }).compile();
    served = await serveForTesting(moduleRef);
    registry = moduleRef.get(ModelRegistry);
    health = new HealthClient(served.address);
    oip = new OipSpecClient(served.address);
  }, 30_000);

  beforeEach(() => {
    logged = [];
    const record = (message: unknown) => void logged.push(String(message));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(record);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(record);
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    health?.close();
    oip?.close();
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('"instances": 10000 for the served version: never tried, it keeps serving with its settings, RepositoryIndex says why, one log line', async () => {
    const threads = liveThreads();
    writeConfig(JSON.stringify({ instances: 10000 }));
    const reason = async () => (await index())[0]?.reason as string;
    await until(async () => (await reason()) !== '', 'the refusal in RepositoryIndex');
    const refusal = "iris/config.json 'instances' must be a positive integer, got 10000; allowed: 1 to 64";
    expect(await reason()).toMatch(
      new RegExp(
        `^serving the previous settings; the new ones are refused: Model repository: ${escape(refusal)} \\(each is a worker thread`,
      ),
    );
    expect(await reason()).not.toContain(dir);
    await expect(health.check('iris@1')).resolves.toBe('SERVING');
    expect(await which()).toBe('trained');
    await sleep(POLL_MS * 12);
    expect(lines("'instances' must be a positive integer, got 10000")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Model 'iris' version 1 cannot be served, so the model keeps serving what it served: Model repository: ${escape(refusal)}`,
        ),
      ),
    ]);
    expect(liveThreads()).toBe(threads);
  });

  it('a new version under those settings is not loaded: UNAVAILABLE with the reason, NOT_SERVING, the previous version answers, one log line', async () => {
    const threads = liveThreads();
    publishVersion(dir, 'iris', '2', uniform);
    await until(
      async () =>
        (await index()).some((m: { version: string; state: string }) => m.version === '2' && m.state === 'UNAVAILABLE'),
      'version 2 UNAVAILABLE',
    );
    expect(await index()).toEqual([
      { name: 'iris', version: '1', state: 'READY', reason: '' },
      {
        name: 'iris',
        version: '2',
        state: 'UNAVAILABLE',
        reason: expect.stringMatching(
          /^Model repository: iris\/config\.json 'instances' must be a positive integer, got 10000; allowed: 1 to 64 /,
        ),
      },
    ]);
    await expect(health.check('iris@2')).resolves.toBe('NOT_SERVING');
    await expect(oip.call('ModelReady', { name: 'iris', version: '2' })).resolves.toEqual({ ready: false });
    expect(versions()).toEqual(['1']);
    expect(await which()).toBe('trained');
    await sleep(POLL_MS * 12);
    expect(lines('version 2 cannot be served')).toHaveLength(1);
    expect(liveThreads()).toBe(threads);
  });

  it('settings set right roll the new version out with them', async () => {
    writeConfig(JSON.stringify({ instances: 2 }));
    await until(() => versions().join() === '2', 'version 2 to replace version 1');
    expect(await which()).toBe('uniform');
    await expect(health.check('iris@2')).resolves.toBe('SERVING');
    expect(served.microservice.get(OnnxModelRepository).model('iris')?.instances).toBe(2);
    expect(await index()).toEqual([{ name: 'iris', version: '2', state: 'READY', reason: '' }]);
  });

  it('two versions that differ only past 2^53 are two versions: the higher is the latest, and each answers when asked for', async () => {
    publishVersion(dir, 'iris', '9007199254740993', uniform);
    publishVersion(dir, 'iris', '9007199254740992', trained);
    await until(() => versions().join() === '9007199254740993', 'the higher version to be the latest');
    writeConfig(JSON.stringify({ versionPolicy: { latest: 2 } }));
    await until(() => versions().join() === '9007199254740992,9007199254740993', 'both versions served');
    expect(await which('9007199254740992')).toBe('trained');
    expect(await which('9007199254740993')).toBe('uniform');
    expect(await which()).toBe('uniform'); // the default: the higher
    await expect(health.check('iris@9007199254740992')).resolves.toBe('SERVING');
    expect(logged).toEqual([]);
  });

  it('a 20-digit version directory is ignored with one warning, listed as UNAVAILABLE with why, and never served', async () => {
    publishVersion(dir, 'iris', '99999999999999999999', trained);
    const ignored = async () => (await index()).find((m: { version: string }) => m.version === '99999999999999999999');
    await until(async () => (await ignored()) !== undefined, 'the ignored directory in RepositoryIndex');
    expect(await ignored()).toEqual({
      name: 'iris',
      version: '99999999999999999999',
      state: 'UNAVAILABLE',
      reason:
        'ignored: version numbers have at most 19 digits and go up to 9223372036854775807 (int64, as Triton reads them)',
    });
    await sleep(POLL_MS * 12);
    expect(logged).toEqual([
      "Model repository: ignoring 'iris/99999999999999999999': version numbers have at most 19 digits and go up to 9223372036854775807 (int64, as Triton reads them)",
    ]);
    expect(versions()).toEqual(['9007199254740992', '9007199254740993']);
    await expect(which('99999999999999999999')).rejects.toMatchObject({ codeName: 'NOT_FOUND' });
    await expect(oip.call('ModelReady', { name: 'iris', version: '99999999999999999999' })).resolves.toEqual({
      ready: false,
    });
    rmSync(join(dir, 'iris', '99999999999999999999'), { recursive: true });
    await until(async () => (await ignored()) === undefined, 'the removed directory to be forgotten');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
