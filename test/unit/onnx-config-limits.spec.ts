import { Logger } from '@nestjs/common';
import fs, { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { configurationFailure as failure } from '../helpers/configuration-failure.js';
import { writeRepository } from '../helpers/model-repository.js';
import { OnnxModel, OnnxModule } from '../../lib/runtimes/onnx/index.js';
import { compareVersionNumbers, ONNX_LIMITS, versionProblem } from '../../lib/runtimes/onnx/onnx-limits.js';
import { scanRepository, type IgnoredVersion } from '../../lib/runtimes/onnx/onnx-repository.scanner.js';
import { WORKER_STARTS_AT_ONCE, WorkerPool } from '../../lib/runtimes/onnx/worker/worker-pool.js';

/*
 * Every number an ONNX model is served with, from code or from a
 * repository's config.json, has bounds; out of them, the message names who
 * gave it (the file relative to the repository, or the option), the key, the
 * value and the range. Scanning reads no model: the model.onnx files here are
 * placeholders.
 */

const cores = availableParallelism();
const dirs: string[] = [];

/** A repository in a temporary directory, removed after the tests: files by path under it. */
function repository(files: Record<string, string>): string {
  const dir = writeRepository(files, 'blazerpc-limits-');
  dirs.push(dir);
  return dir;
}

afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
afterEach(() => jest.restoreAllMocks());

describe('config.json values out of bounds fail startup, naming the file, the key, the value and the range', () => {
  const withConfigText = (text: string) => {
    const dir = repository({ 'iris/1/model.onnx': 'placeholder', 'iris/config.json': text });
    return { dir, message: failure(() => OnnxModule.repository(dir)) };
  };
  const withConfig = (config: unknown) => withConfigText(JSON.stringify(config));
  const accepted = (config: unknown) => {
    const dir = repository({ 'iris/1/model.onnx': 'placeholder', 'iris/config.json': JSON.stringify(config) });
    expect(() => OnnxModule.repository(dir)).not.toThrow();
  };

  it('instances: 10,000 is refused before any thread starts', () => {
    const { dir, message } = withConfig({ instances: 10000 });
    expect(message).toBe(
      `Model repository: ${join(dir, 'iris', 'config.json')} 'instances' must be a positive integer, got 10000; allowed: 1 to 64 ` +
        `(each is a worker thread with its own session; more than the ${cores} CPU core(s) here add no throughput)`,
    );
    expect(withConfig({ instances: 0 }).message).toContain(
      "'instances' must be a positive integer, got 0; allowed: 1 to 64",
    );
    expect(withConfig({ instances: 2.5 }).message).toContain(
      "'instances' must be a positive integer, got 2.5; allowed: 1 to 64",
    );
    // A string of digits is refused with its type, never shown as the number it spells.
    expect(withConfig({ instances: '8' }).message).toContain(
      `'instances' must be a positive integer, got string "8"; allowed: 1 to 64`,
    );
    expect(withConfigText('{"instances": 1e400}').message).toContain(
      "'instances' must be a positive integer, got Infinity; allowed: 1 to 64",
    );
    accepted({ instances: ONNX_LIMITS.instances });
  });

  it('batching: each number bounded, unknown keys and wrong types refused', () => {
    expect(withConfig({ batching: { maxQueueSize: 1e9 } }).message).toMatch(
      /config\.json 'batching\.maxQueueSize' must be a positive integer, got 1000000000; allowed: 1 to 65536$/,
    );
    expect(withConfig({ batching: { maxBatchSize: 70000 } }).message).toMatch(
      /'batching\.maxBatchSize' must be a positive integer, got 70000; allowed: 1 to 65536$/,
    );
    expect(withConfig({ batching: { maxConcurrentBatches: 100 } }).message).toMatch(
      /'batching\.maxConcurrentBatches' must be a positive integer, got 100; allowed: 1 to 64 \(one batch per instance\)$/,
    );
    expect(withConfig({ batching: { batchTimeoutMs: 3_000_000_000 } }).message).toMatch(
      /'batching\.batchTimeoutMs' must be a number of milliseconds, got 3000000000; allowed: 0 to 60000$/,
    );
    expect(withConfig({ batching: { maxBatchSise: 8 } }).message).toMatch(
      /config\.json key 'batching\.maxBatchSise' is unknown\. Did you mean 'maxBatchSize'\? Known: maxBatchSize, maxQueueSize, maxConcurrentBatches, batchTimeoutMs, tuneBatchSize\.$/,
    );
    expect(withConfig({ batching: { tuneBatchSize: 'yes' } }).message).toMatch(
      /'batching\.tuneBatchSize' must be true or false, got string "yes"$/,
    );
    expect(withConfig({ batching: 12 }).message).toMatch(/'batching' must be false or an object, got number 12$/);
    accepted({ batching: false, instances: 2 });
    accepted({
      batching: {
        maxBatchSize: 65536,
        maxQueueSize: 65536,
        maxConcurrentBatches: 64,
        batchTimeoutMs: 0.5,
        tuneBatchSize: false,
      },
    });
  });

  it('thread counts are not config.json keys: refused as unknown, with a key that is never echoed at length', () => {
    expect(withConfig({ intraOpNumThreads: 1e9 }).message).toMatch(
      /config\.json key 'intraOpNumThreads' is unknown\. Known: instances, batching, versionPolicy, defaultVersion, description\.$/,
    );
    expect(withConfig({ ['x'.repeat(5000)]: 1 }).message).toMatch(
      /config\.json key 'x{40}\.\.\.' is unknown\. Known: instances, /,
    );
  });

  it('a description longer than 1024 characters, and a config.json over 64 KiB, which is not even read', () => {
    expect(withConfig({ description: 'd'.repeat(5000) }).message).toMatch(
      /config\.json 'description' is 5000 characters long; allowed: at most 1024$/,
    );
    const dir = repository({
      'iris/1/model.onnx': 'placeholder',
      'iris/config.json': `{"description": "${'d'.repeat(70_000)}"}`,
    });
    expect(failure(() => OnnxModule.repository(dir))).toMatch(
      /config\.json is 70019 bytes; a config\.json holds at most 65536 bytes of settings$/,
    );
  });

  it('a model serves at most 16 versions at once', () => {
    const files: Record<string, string> = { 'iris/config.json': '{"versionPolicy": "all"}' };
    for (let v = 1; v <= 17; v++) files[`iris/${v}/model.onnx`] = 'placeholder';
    expect(failure(() => OnnxModule.repository(repository(files)))).toMatch(
      /versionPolicy "all" selects 17 versions; a model serves at most 16 at once \(each loads its own instances\): use \{ "latest": N \} or \{ "specific": \[\.\.\.\] \}$/,
    );
    delete files['iris/17/model.onnx'];
    expect(scanRepository(repository(files))).toHaveLength(16);
  });
});

describe('code options out of bounds fail at module definition, saying which and the range', () => {
  it('OnnxModule.serve / register / repository: instances, threads, niceness, batching, pollIntervalMs', () => {
    expect(failure(() => OnnxModule.serve('iris', 'models/iris.onnx', { instances: 10000 }))).toBe(
      `OnnxModule.serve('iris'): 'instances' must be a positive integer, got 10000; allowed: 1 to 64 ` +
        `(each is a worker thread with its own session; more than the ${cores} CPU core(s) here add no throughput)`,
    );
    expect(
      failure(() => OnnxModule.serve('iris', 'models/iris.onnx', { sessionOptions: { intraOpNumThreads: 1e9 } })),
    ).toBe(
      `OnnxModule.serve('iris'): 'sessionOptions.intraOpNumThreads' must be a whole number, got 1000000000; allowed: 0 to 64 ` +
        `(threads per instance; 0 lets onnxruntime pick one per core (${cores} here))`,
    );
    expect(
      failure(() => OnnxModule.register({ name: 'iris', source: 'x.onnx', sessionOptions: { interOpNumThreads: -1 } })),
    ).toMatch(
      /^OnnxModule\.register\('iris'\): 'sessionOptions\.interOpNumThreads' must be a whole number, got -1; allowed: 0 to 64 /,
    );
    expect(failure(() => OnnxModule.serve('iris', 'x.onnx', { instanceNiceness: 20 }))).toBe(
      "OnnxModule.serve('iris'): 'instanceNiceness' must be a whole number, got 20; allowed: 0 to 19 (Linux niceness)",
    );
    expect(failure(() => OnnxModule.serve('iris', 'x.onnx', { batching: { maxQueueSize: 1e6 } }))).toBe(
      "OnnxModule.serve('iris'): 'batching.maxQueueSize' must be a positive integer, got 1000000; allowed: 1 to 65536",
    );
    const dir = repository({ 'iris/1/model.onnx': 'placeholder' });
    expect(failure(() => OnnxModule.repository(dir, { instances: 65 }))).toMatch(
      new RegExp(
        `^OnnxModule\\.repository\\('${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'\\): 'instances' must be a positive integer, got 65; allowed: 1 to 64 `,
      ),
    );
    expect(failure(() => OnnxModule.repository(dir, { batching: { batchTimeoutMs: -5 } }))).toMatch(
      /'batching\.batchTimeoutMs' must be a number of milliseconds, got -5; allowed: 0 to 60000$/,
    );
    // Past 2^31 - 1 ms a timer fires after 1 ms: the repository would be read nonstop.
    expect(failure(() => OnnxModule.repository(dir, { pollIntervalMs: 2 ** 31 }))).toBe(
      `OnnxModule.repository('${dir}'): 'pollIntervalMs' must be a whole number of milliseconds, got 2147483648; allowed: 10 to 2147483647 ` +
        '(0 reads the repository once, at startup)',
    );
    expect(failure(() => OnnxModule.repository(dir, { pollIntervalMs: 1 }))).toMatch(
      /'pollIntervalMs' must be a whole number of milliseconds, got 1; allowed: 10 to/,
    );
    expect(() =>
      OnnxModule.repository(dir, { pollIntervalMs: 0, instances: 64, sessionOptions: { intraOpNumThreads: 0 } }),
    ).not.toThrow();
  });

  it('OnnxModel.load: before any thread starts', async () => {
    await expect(OnnxModel.load('no/such/model.onnx', { instances: 10000 })).rejects.toThrow(
      "ONNX model 'no/such/model.onnx': 'instances' must be a positive integer, got 10000; allowed: 1 to 64",
    );
  });
});

describe('versions are exact integers, from 1 to 9223372036854775807 (int64), without leading zeros', () => {
  it('orders versions exactly, past 2^53, where JS numbers collapse', () => {
    expect(Number('9007199254740993')).toBe(Number('9007199254740992'));
    expect(compareVersionNumbers('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    expect(['10', '9', '9007199254740993', '2', '9007199254740992', '100'].sort(compareVersionNumbers)).toEqual([
      '2',
      '9',
      '10',
      '100',
      '9007199254740992',
      '9007199254740993',
    ]);
  });

  it('says why a digit name is not a version', () => {
    expect(versionProblem('9223372036854775807')).toBeUndefined();
    expect(versionProblem('9223372036854775808')).toBe(
      'version numbers have at most 19 digits and go up to 9223372036854775807 (int64, as Triton reads them)',
    );
    expect(versionProblem('99999999999999999999')).toBe(versionProblem('9223372036854775808'));
    expect(versionProblem('007')).toBe("version numbers have no leading zeros (rename it '7')");
    expect(versionProblem('0')).toBe('versions are numbered from 1');
  });

  it('serves the higher of two versions that JS numbers make equal, whatever order the directory lists them in', () => {
    const [low, high] = ['9007199254740992', '9007199254740993'];
    expect(Number(low)).toBe(Number(high));
    const dir = repository({ [`iris/${low}/model.onnx`]: 'placeholder', [`iris/${high}/model.onnx`]: 'placeholder' });
    expect(scanRepository(dir).map((e) => e.version)).toEqual([high]);
    // A sort that finds them equal keeps the listing's order: list them the other way round too.
    const list = fs.readdirSync as unknown as (...args: unknown[]) => unknown[];
    jest
      .spyOn(fs, 'readdirSync')
      .mockImplementation(((...args: unknown[]) => [...list(...args)].reverse()) as unknown as typeof fs.readdirSync);
    expect(scanRepository(dir).map((e) => e.version)).toEqual([high]);
  });

  it('serves the higher of two versions that differ only past 2^53, and reports the directories it ignores', () => {
    const dir = repository({
      'iris/9007199254740992/model.onnx': 'placeholder',
      'iris/9007199254740993/model.onnx': 'placeholder',
      'iris/99999999999999999999/model.onnx': 'placeholder',
      'iris/007/model.onnx': 'placeholder',
      'iris/v2/model.onnx': 'placeholder', // not digits: not meant as a version, skipped without a word
    });
    const ignored: IgnoredVersion[] = [];
    expect(scanRepository(dir, {}, (version) => ignored.push(version)).map((e) => e.version)).toEqual([
      '9007199254740993',
    ]);
    expect(
      scanRepository(dir, { versionPolicy: 'all' }).map((e) => `${e.version}${e.isDefault ? ' (default)' : ''}`),
    ).toEqual(['9007199254740992', '9007199254740993 (default)']);
    expect(ignored.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'iris/007', reason: "version numbers have no leading zeros (rename it '7')" },
      { path: 'iris/99999999999999999999', reason: expect.stringMatching(/^version numbers have at most 19 digits/) },
    ]);
  });

  it('OnnxModule.repository warns once per ignored directory at startup, naming it relative to the repository', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const dir = repository({
      'iris/1/model.onnx': 'placeholder',
      'iris/99999999999999999999/model.onnx': 'placeholder',
    });
    OnnxModule.repository(dir);
    expect(warn.mock.calls.map((call) => call[0])).toEqual([
      "Model repository: ignoring 'iris/99999999999999999999': version numbers have at most 19 digits and go up to 9223372036854775807 (int64, as Triton reads them)",
    ]);
  });

  it('versionPolicy.specific must name version numbers', () => {
    const dir = repository({ 'iris/7/model.onnx': 'placeholder' });
    expect(
      failure(() => OnnxModule.repository(dir, { versionPolicy: { specific: ['007', '99999999999999999999'] } })),
    ).toMatch(
      /'versionPolicy\.specific' holds 007, 99999999999999999999, which are not version numbers \(strings of digits from "1" to "9223372036854775807", without leading zeros\)$/,
    );
  });
});

describe('WorkerPool starts workers a few at a time', () => {
  /** A worker that counts, across threads, how many are starting at once, and takes a moment to be ready. */
  const SLOW_START = new URL(
    'data:text/javascript,' +
      encodeURIComponent(`
        import { parentPort, workerData } from 'node:worker_threads';
        const counts = workerData;
        const now = Atomics.add(counts, 0, 1) + 1;
        for (let seen = Atomics.load(counts, 1); now > seen; seen = Atomics.load(counts, 1)) Atomics.compareExchange(counts, 1, seen, now);
        await new Promise((resolve) => setTimeout(resolve, 100));
        Atomics.sub(counts, 0, 1);
        if (Atomics.add(counts, 2, 1) === workerData[3]) parentPort.postMessage({ kind: 'failed', message: 'this one cannot load' });
        else parentPort.postMessage({ kind: 'ready', info: {} });
        parentPort.on('message', () => undefined);
      `),
  );

  it(`never more than ${WORKER_STARTS_AT_ONCE} at once, across pools; after a failure the rest never start`, async () => {
    // [starting now, most seen starting at once, started so far, which start fails (-1: none)]
    const counts = new Int32Array(new SharedArrayBuffer(16));
    counts[3] = -1;
    const pools = await Promise.all(
      [10, 6].map((size) => WorkerPool.start({ script: SLOW_START, workerData: counts, size, name: 'slow' })),
    );
    try {
      expect(pools.map((pool) => pool.size)).toEqual([10, 6]);
      expect(counts[1]).toBe(WORKER_STARTS_AT_ONCE);
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
    }

    counts.set([0, 0, 0, 1]);
    await expect(WorkerPool.start({ script: SLOW_START, workerData: counts, size: 20, name: 'slow' })).rejects.toThrow(
      'this one cannot load',
    );
    // The second start failed while the first lanes' workers ran: the other 15 or so never started.
    expect(counts[2]).toBeLessThanOrEqual(WORKER_STARTS_AT_ONCE * 2);
  });
});
