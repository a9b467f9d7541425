import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { BlazeRpcModule, ConfigurationError, ModelRegistry, Tensor } from '../../lib/index.js';
import { getOnnxModelToken, OnnxModel, OnnxModule } from '../../lib/runtimes/onnx/index.js';
import { serveForTesting, type TestingServer } from '../../lib/testing/index.js';
import { exportIrisOnnx, irisSamples, trainedIris, uniformIris } from '../fixtures/iris-models.js';
import { testServerOptions } from '../helpers/start-app.js';

const trained = exportIrisOnnx(trainedIris);
const uniform = exportIrisOnnx(uniformIris);

/** A repository in a temporary directory: files by path under it. */
function repository(files: Record<string, Uint8Array | string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'blazerpc-repo-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const setosa = Tensor.from('float32', [1, 4], irisSamples[0].features);

describe('OnnxModule.repository: models served from a Triton-style directory', () => {
  let served: TestingServer<any>;
  let moduleRef: Awaited<ReturnType<ReturnType<typeof Test.createTestingModule>['compile']>>;

  beforeAll(async () => {
    // iris: three versions, the two latest served; version 3 is the uniform model, so answers tell versions apart.
    const dir = repository({
      'iris/1/model.onnx': trained,
      'iris/2/model.onnx': trained,
      'iris/3/model.onnx': uniform,
      'iris/config.json': JSON.stringify({ versionPolicy: { latest: 2 }, description: 'Iris species' }),
      'flowers/1/model.onnx': trained,
      'flowers/notes.txt': 'not a version',
    });
    moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot(testServerOptions), OnnxModule.repository(dir)],
    }).compile();
    served = await serveForTesting(moduleRef);
  }, 30_000);

  afterAll(() => served?.close());

  it('serves each model under its policy: the latest versions, the highest as default', () => {
    const listed = moduleRef
      .get(ModelRegistry)
      .list()
      .map((m) => `${m.name} v${m.version}${m.isDefault ? ' (default)' : ''}`)
      .sort();
    expect(listed).toEqual(['flowers v1 (default)', 'iris v2', 'iris v3 (default)']);
    const proto = moduleRef.get(ModelRegistry).protoText;
    expect(proto).toContain('rpc PredictIrisV2(');
    expect(proto).toContain('rpc PredictIris(');
    expect(proto).not.toContain('PredictIrisV1');
    expect(proto).toContain('Iris species');
  });

  it('calls reach the version asked for, and the default without one', async () => {
    const probabilities = async (version?: string) => {
      const result = (await served.client.predict('iris', { features: setosa }, { version })) as Tensor;
      return Array.from(result.data as Float32Array).map((p) => Math.round(p * 100) / 100);
    };
    expect((await probabilities('2'))[0]).toBeGreaterThan(0.9); // trained
    expect(await probabilities()).toEqual([0.33, 0.33, 0.33]); // default: version 3, uniform
    expect(await probabilities('3')).toEqual([0.33, 0.33, 0.33]);
    await expect(served.client.predict('iris', { features: setosa }, { version: '1' })).rejects.toMatchObject({
      codeName: 'NOT_FOUND',
    });
    expect(((await served.client.predict('flowers', { features: setosa })) as Tensor).shape).toEqual([1, 3]);
  });

  it('injects the default version with @InjectOnnxModel(name)', () => {
    expect(moduleRef.get(getOnnxModelToken('iris'))).toBeInstanceOf(OnnxModel);
    expect(moduleRef.get(getOnnxModelToken('iris@2'))).toBeInstanceOf(OnnxModel);
  });
});

describe('OnnxModule.repository: layout mistakes fail startup, naming the path', () => {
  const failure = (dir: string, options?: Parameters<typeof OnnxModule.repository>[1]) => {
    try {
      OnnxModule.repository(dir, options);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as Error).message;
    }
    throw new Error('no error');
  };

  it('a missing directory, an empty one, a model without versions', () => {
    expect(failure('/no/such/models')).toMatch(/^OnnxModule.repository\('\/no\/such\/models'\): no such directory/);
    expect(failure(repository({ 'readme.txt': 'x' }))).toMatch(
      /no model directories; lay models out as <model>\/<version>\/model.onnx$/,
    );
    const dir = repository({ 'iris/v1/model.onnx': trained });
    expect(failure(dir)).toBe(
      `Model repository: '${join(dir, 'iris')}' has no version with a model, e.g. ${join(dir, 'iris', '1', 'model.onnx')}`,
    );
  });

  it('a bad config.json: invalid JSON, an unknown key, a default version that is not served', () => {
    const bad = repository({ 'iris/1/model.onnx': trained, 'iris/config.json': '{ instances: 2 }' });
    expect(failure(bad)).toMatch(/config.json is not valid JSON: /);
    const typo = repository({ 'iris/1/model.onnx': trained, 'iris/config.json': '{"instance": 2}' });
    expect(failure(typo)).toMatch(
      /config\.json key 'instance' is unknown\. Did you mean 'instances'\? Known: instances, batching, versionPolicy, defaultVersion, description\.$/,
    );
    const notServed = repository({
      'iris/1/model.onnx': trained,
      'iris/2/model.onnx': trained,
      'iris/config.json': '{"defaultVersion": "1"}',
    });
    expect(failure(notServed)).toMatch(/'defaultVersion' is "1", which is not served \(served: 2\)$/);
  });

  it('a version policy that names versions the directory lacks, or asks for none', () => {
    const dir = repository({ 'iris/1/model.onnx': trained });
    expect(failure(dir, { versionPolicy: { specific: ['1', '4'] } })).toMatch(
      /versionPolicy.specific names version\(s\) 4, which have no model.onnx \(found: 1\)$/,
    );
    expect(failure(dir, { versionPolicy: { latest: 0 } })).toMatch(
      /'versionPolicy\.latest' must be a positive integer, got 0$/,
    );
    const newest = repository({ 'iris/1/model.onnx': trained, 'iris/config.json': '{"versionPolicy": "newest"}' });
    expect(failure(newest)).toMatch(
      /config\.json 'versionPolicy' must be \{ "latest": N \}, "all" or \{ "specific": \["1", \.\.\.\] \}, got "newest"$/,
    );
  });
});
