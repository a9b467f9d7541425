import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../../lib/index.js';
import { checkRepositoryConfig } from '../../lib/runtimes/onnx/onnx-repository-config.validator.js';
import {
  scanModel,
  scanRepository,
  type IgnoredVersion,
  type RepositoryEntry,
} from '../../lib/runtimes/onnx/onnx-repository.scanner.js';
import { configurationFailure as failure } from '../helpers/configuration-failure.js';
import { writeRepository } from '../helpers/model-repository.js';

/*
 * Which model versions a repository laid out as Triton's serves, read from
 * the directory tree alone: the scanner opens no model (the model.onnx files
 * here are placeholders), so no ONNX Runtime is needed.
 */

const dirs: string[] = [];

/** A repository in a temporary directory, files by path under it; removed after the tests. */
function repository(files: Record<string, string>): string {
  const dir = writeRepository(files, 'blazerpc-scan-');
  dirs.push(dir);
  return dir;
}

afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** `iris/1/model.onnx`, ... for each version. */
const versions = (model: string, ...numbers: string[]) =>
  Object.fromEntries(numbers.map((v) => [`${model}/${v}/model.onnx`, 'placeholder']));

/** What a scan serves, as `model@version`, the default marked. */
const served = (entries: RepositoryEntry[]) =>
  entries.map((e) => `${e.model}@${e.version}${e.isDefault ? ' (default)' : ''}`);

describe('version policies', () => {
  const dir = () => repository(versions('iris', '1', '2', '10', '3'));

  it('serves only the latest version by default, as the default', () => {
    const root = dir();
    const [entry, ...rest] = scanRepository(root);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      model: 'iris',
      version: '10',
      isDefault: true,
      file: join(root, 'iris', '10', 'model.onnx'),
      problem: undefined,
    });
  });

  it('{ latest: N } serves the N highest by number (10 above 3), in ascending order', () => {
    expect(served(scanRepository(dir(), { versionPolicy: { latest: 2 } }))).toEqual(['iris@3', 'iris@10 (default)']);
    // More than there are: all of them.
    expect(served(scanRepository(dir(), { versionPolicy: { latest: 9 } }))).toEqual([
      'iris@1',
      'iris@2',
      'iris@3',
      'iris@10 (default)',
    ]);
  });

  it("'all' serves every version, the highest as the default", () => {
    expect(served(scanRepository(dir(), { versionPolicy: 'all' }))).toEqual([
      'iris@1',
      'iris@2',
      'iris@3',
      'iris@10 (default)',
    ]);
  });

  it('{ specific: [...] } serves those versions only, whatever order they are named in', () => {
    expect(served(scanRepository(dir(), { versionPolicy: { specific: ['3', '1'] } }))).toEqual([
      'iris@1',
      'iris@3 (default)',
    ]);
  });

  it('{ specific: [...] } naming a version without a model.onnx fails, naming the model directory and what it found', () => {
    const root = dir();
    expect(failure(() => scanRepository(root, { versionPolicy: { specific: ['2', '4'] } }))).toBe(
      `Model repository '${join(root, 'iris')}': versionPolicy.specific names version(s) 4, which have no model.onnx (found: 1, 2, 3, 10)`,
    );
  });

  it("a model's config.json overrides the repository's policy for that model only, and may pick the default", () => {
    const root = repository({
      ...versions('iris', '1', '2', '3'),
      ...versions('mnist', '1', '2', '3'),
      'iris/config.json': JSON.stringify({ versionPolicy: 'all', defaultVersion: 2 }),
    });
    expect(served(scanRepository(root, { versionPolicy: { latest: 1 } }))).toEqual([
      'iris@1',
      'iris@2 (default)',
      'iris@3',
      'mnist@3 (default)',
    ]);
    expect(scanRepository(root).find((e) => e.model === 'iris')!.config).toEqual({
      versionPolicy: 'all',
      defaultVersion: '2',
    });
  });

  it('a defaultVersion the policy does not serve fails, naming the config.json', () => {
    const root = repository({
      ...versions('iris', '1', '2', '3'),
      'iris/config.json': JSON.stringify({ defaultVersion: '1' }),
    });
    expect(failure(() => scanRepository(root))).toBe(
      `Model repository: ${join(root, 'iris', 'config.json')} 'defaultVersion' is "1", which is not served (served: 3)`,
    );
  });
});

describe('layout', () => {
  it('ignores directories that are not numbers (without a word), version directories without a model.onnx, and stray files', () => {
    const root = repository({
      ...versions('iris', '1', '2'),
      'iris/latest/model.onnx': 'placeholder',
      'iris/v3/model.onnx': 'placeholder',
      'iris/.staging-4/model.onnx': 'placeholder',
      'iris/5/README.md': 'not yet uploaded',
      'iris/6': 'a file, not a directory',
      'iris/labels.txt': 'setosa',
      'README.md': 'models',
    });
    const ignored: IgnoredVersion[] = [];
    expect(served(scanRepository(root, { versionPolicy: 'all' }, (version) => ignored.push(version)))).toEqual([
      'iris@1',
      'iris@2 (default)',
    ]);
    expect(ignored).toEqual([]);
  });

  it('reports digit directories that are not versions through `ignored`, relative to the repository, and serves the rest', () => {
    const root = repository({ ...versions('iris', '2', '0', '03') });
    const ignored: IgnoredVersion[] = [];
    expect(served(scanRepository(root, { versionPolicy: 'all' }, (version) => ignored.push(version)))).toEqual([
      'iris@2 (default)',
    ]);
    expect(ignored.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'iris/0', reason: 'versions are numbered from 1' },
      { path: 'iris/03', reason: "version numbers have no leading zeros (rename it '3')" },
    ]);
  });

  it('lists models by name and skips hidden directories', () => {
    const root = repository({
      ...versions('mnist', '1'),
      ...versions('iris', '1'),
      ...versions('.trash', '1'),
      ...versions('Bert', '1'),
    });
    expect(scanRepository(root).map((e) => e.model)).toEqual(['Bert', 'iris', 'mnist']);
  });

  it('fails on a missing directory, a repository without models, and a model without any version, naming the path', () => {
    const root = repository({ 'README.md': 'empty for now' });
    const missing = join(root, 'nope');
    expect(failure(() => scanRepository(missing))).toBe(
      `OnnxModule.repository('${missing}'): no such directory (resolved from ${process.cwd()})`,
    );
    expect(failure(() => scanRepository(root))).toBe(
      `OnnxModule.repository('${root}'): no model directories; lay models out as <model>/<version>/model.onnx`,
    );
    const noVersion = repository({ 'iris/latest/model.onnx': 'placeholder', ...versions('mnist', '1') });
    expect(failure(() => scanRepository(noVersion))).toBe(
      `Model repository: '${join(noVersion, 'iris')}' has no version with a model, e.g. ${join(noVersion, 'iris', '1', 'model.onnx')}`,
    );
  });
});

describe('config.json', () => {
  it('that is not JSON fails, naming the file', () => {
    const root = repository({ ...versions('iris', '1'), 'iris/config.json': '{ "instances": 2, }' });
    const message = failure(() => scanRepository(root));
    expect(message.startsWith(`Model repository: ${join(root, 'iris', 'config.json')} is not valid JSON: `)).toBe(true);
  });

  it('with a bad setting fails a startup scan, but a live rescan of the model carries it as each version’s problem', () => {
    const root = repository({
      ...versions('iris', '1', '2'),
      'iris/config.json': JSON.stringify({ instances: 0, versionPolicy: 'all' }),
    });
    const file = join(root, 'iris', 'config.json');
    expect(failure(() => scanRepository(root))).toMatch(
      new RegExp(`^Model repository: ${escaped(file)} 'instances' must be a positive integer, got 0`),
    );

    const entries = scanModel(join(root, 'iris'), 'iris', {});
    expect(entries.map((e) => e.version)).toEqual(['1', '2']);
    expect(
      entries.every((e) =>
        e.problem?.startsWith(`Model repository: ${file} 'instances' must be a positive integer, got 0`),
      ),
    ).toBe(true);
  });

  it('checkRepositoryConfig: what selects versions is thrown, settings are returned as the problem', () => {
    expect(() => checkRepositoryConfig('iris/config.json', { versionPolicy: { latest: 0 } })).toThrow(
      ConfigurationError,
    );
    expect(() => checkRepositoryConfig('iris/config.json', null)).toThrow(
      'Model repository: iris/config.json must hold a JSON object, got null',
    );
    expect(checkRepositoryConfig('iris/config.json', { description: 7, versionPolicy: { specific: [2] } })).toEqual({
      config: { description: 7, versionPolicy: { specific: ['2'] }, defaultVersion: undefined },
      problem: "Model repository: iris/config.json 'description' must be a string, got number 7",
    });
  });
});

describe('stamps (what a live repository compares to decide a reload)', () => {
  it('stay the same for an unchanged version, and change when its file or its settings change', () => {
    const root = repository({ ...versions('iris', '1') });
    const stamp = () => scanRepository(root)[0].stamp;
    const first = stamp();
    expect(stamp()).toBe(first);

    writeFileSync(join(root, 'iris', '1', 'model.onnx'), 'a retrained model, longer');
    const retrained = stamp();
    expect(retrained).not.toBe(first);

    writeFileSync(join(root, 'iris', 'config.json'), JSON.stringify({ description: 'Iris species' }));
    const described = stamp();
    expect(described).not.toBe(retrained);

    // Only the modification time changed: a file replaced with one of the same size.
    utimesSync(join(root, 'iris', '1', 'model.onnx'), new Date(2001, 0, 1), new Date(2001, 0, 1));
    expect(stamp()).not.toBe(described);
  });
});

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
