import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  BlazeClient,
  BlazeRpcModule,
  Input,
  isRepositoryControlCall,
  Model,
  ModelRegistry,
  Tensor,
  type BlazeContext,
} from '../../lib/index.js';
import { OnnxModelRepository, OnnxModule } from '../../lib/runtimes/onnx/index.js';
import { serveForTesting, type TestingServer } from '../../lib/testing/index.js';
import { exportIrisOnnx, irisSamples, trainedIris, uniformIris } from '../fixtures/iris-models.js';
import { HealthClient } from '../helpers/health-client.js';
import { OipSpecClient } from '../helpers/oip-spec-client.js';
import { publishVersion } from '../helpers/model-repository.js';
import { testServerOptions } from '../helpers/start-app.js';
import { until } from '../helpers/time.js';

/*
 * A repository read every 25 ms while calls keep coming: versions added,
 * broken, removed, models added and removed, and OIP's load/unload behind a
 * guard. Two iris models tell versions apart: trained answers setosa with
 * p > 0.9, uniform with 1/3 each.
 */

const trained = exportIrisOnnx(trainedIris);
const uniform = exportIrisOnnx(uniformIris);
const setosa = Tensor.from('float32', [1, 4], irisSamples[0].features);
const ADMIN = { 'x-admin-token': 'let-me-in' };

/** Asks for an admin token on repository control calls only. */
@Injectable()
class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!isRepositoryControlCall(context)) return true;
    return context.switchToRpc().getContext<BlazeContext>().metadata.get('x-admin-token')[0] === ADMIN['x-admin-token'];
  }
}

/** A model declared in code, whose name a repository model must not take. */
@Injectable()
class TulipModels {
  @Model('tulip', { returns: String })
  tulip(@Input('name', String) name: string): string {
    return name;
  }
}

/** iris over OIP ModelInfer, as Triton's and KServe's clients call it. */
function oipRequest() {
  return {
    model_name: 'iris',
    inputs: [
      { name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: irisSamples[0].features } },
    ],
  };
}

/** Which iris answered an OIP response. */
function whichOver(response: { raw_output_contents: Buffer[] }): 'trained' | 'uniform' {
  return response.raw_output_contents[0]!.readFloatLE(0) > 0.9 ? 'trained' : 'uniform';
}

/** Which iris answered: 'trained' or 'uniform'. */
function which(result: Tensor): 'trained' | 'uniform' {
  return (result.data as Float32Array)[0]! > 0.9 ? 'trained' : 'uniform';
}

describe('OnnxModule.repository with pollIntervalMs: versions roll out while calls keep coming', () => {
  let dir: string;
  let served: TestingServer<any>;
  let registry: ModelRegistry;
  let health: HealthClient;
  let oip: OipSpecClient;
  const versions = () =>
    registry
      .list()
      .filter((m) => m.name === 'iris')
      .map((m) => m.version);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blazerpc-live-repo-'));
    publishVersion(dir, 'iris', '1', trained);
    const moduleRef = await Test.createTestingModule({
      imports: [
        BlazeRpcModule.forRoot(testServerOptions),
        OnnxModule.repository(dir, { pollIntervalMs: 25, control: true }),
      ],
      providers: [{ provide: APP_GUARD, useClass: AdminGuard }, TulipModels],
    }).compile();
    served = await serveForTesting(moduleRef);
    registry = moduleRef.get(ModelRegistry);
    health = new HealthClient(served.address);
    oip = new OipSpecClient(served.address);
  }, 30_000);

  afterAll(async () => {
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rolls a new version out under load, over BlazeRPC and OIP: no call fails, and every call after the swap gets the new version', async () => {
    const outcomes: { startedAt: number; answer?: string; error?: string }[] = [];
    let running = true;
    const caller = async (overOip: boolean) => {
      while (running) {
        const outcome: (typeof outcomes)[number] = { startedAt: performance.now() };
        try {
          outcome.answer = overOip
            ? whichOver(await oip.call('ModelInfer', oipRequest()))
            : which((await served.client.predict('iris', { features: setosa })) as Tensor);
        } catch (error) {
          outcome.error = String(error);
        }
        outcomes.push(outcome);
      }
    };
    const callers = Array.from({ length: 8 }, (_, i) => caller(i % 2 === 1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    publishVersion(dir, 'iris', '2', uniform);
    await until(() => versions().join() === '2', 'version 2 to replace version 1');
    const swappedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    running = false;
    await Promise.all(callers);

    expect(outcomes.filter((o) => o.error)).toEqual([]);
    const before = outcomes.filter((o) => o.startedAt < swappedAt);
    const after = outcomes.filter((o) => o.startedAt > swappedAt);
    expect(before.some((o) => o.answer === 'trained')).toBe(true);
    expect(after.length).toBeGreaterThan(20);
    expect(new Set(after.map((o) => o.answer))).toEqual(new Set(['uniform']));
    await expect(health.check('iris@2')).resolves.toBe('SERVING');
    await expect(health.check('iris')).resolves.toBe('SERVING');
    await expect(health.check('iris@1')).rejects.toMatchObject({ code: 5 }); // NOT_FOUND: forgotten once unloaded
  }, 30_000);

  it('a broken new file leaves the old version serving, and says why in health and OIP', async () => {
    publishVersion(dir, 'iris', '3', 'not an onnx model');
    const unavailable = async () =>
      (await oip.call('RepositoryIndex', {})).models.some((m: { state: string }) => m.state === 'UNAVAILABLE');
    await until(unavailable, 'version 3 reported UNAVAILABLE');
    await expect(health.check('iris@3')).resolves.toBe('NOT_SERVING');
    expect(versions()).toEqual(['2']);
    expect(which((await served.client.predict('iris', { features: setosa })) as Tensor)).toBe('uniform');
    const index = {
      models: (await oip.call('RepositoryIndex', {})).models.filter((m: { name: string }) => m.name === 'iris'),
    };
    expect(index.models).toEqual([
      { name: 'iris', version: '2', state: 'READY', reason: '' },
      {
        name: 'iris',
        version: '3',
        state: 'UNAVAILABLE',
        reason: expect.stringContaining(`'${join('iris', '3', 'model.onnx')}'`),
      },
    ]);
    expect(index.models[1].reason).not.toContain(dir);
    await expect(oip.call('ModelReady', { name: 'iris', version: '3' })).resolves.toEqual({ ready: false });
    await expect(oip.call('ModelReady', { name: 'iris', version: '2' })).resolves.toEqual({ ready: true });
  }, 30_000);

  it('removing versions falls back to the latest one left', async () => {
    rmSync(join(dir, 'iris', '3'), { recursive: true });
    rmSync(join(dir, 'iris', '2'), { recursive: true });
    await until(() => versions().join() === '1', 'version 1 to serve again');
    expect(which((await served.client.predict('iris', { features: setosa })) as Tensor)).toBe('trained');
    await expect(health.check('iris@3')).rejects.toMatchObject({ code: 5 });
    expect((await oip.call('RepositoryIndex', {})).models.filter((m: { name: string }) => m.name === 'iris')).toEqual([
      { name: 'iris', version: '1', state: 'READY', reason: '' },
    ]);
  }, 30_000);

  it('a new file for a served version that fails to load leaves the old file serving, and RepositoryIndex says why', async () => {
    writeFileSync(join(dir, 'iris', '1', 'model.onnx'), 'broken on purpose');
    const reason = async () =>
      (await oip.call('RepositoryIndex', {})).models.find((m: { name: string }) => m.name === 'iris')?.reason as string;
    await until(async () => (await reason()) !== '', 'the failure on the served version');
    expect(await reason()).toMatch(/^serving the previous file; the new one failed to load: /);
    expect(await reason()).not.toContain(dir);
    expect(which((await served.client.predict('iris', { features: setosa })) as Tensor)).toBe('trained');
    await expect(health.check('iris@1')).resolves.toBe('SERVING');
    writeFileSync(join(dir, 'iris', '1', 'model.onnx'), trained);
    await until(async () => (await reason()) === '', 'the fixed file to load');
    expect(which((await served.client.predict('iris', { features: setosa })) as Tensor)).toBe('trained');
  }, 30_000);

  it('an open stream that used the old version holds up no later change', async () => {
    const stream = (oip as unknown as { stub: { ModelStreamInfer(): any } }).stub.ModelStreamInfer();
    const first = new Promise((resolve) => stream.once('data', resolve));
    stream.write(oipRequest());
    await first;
    try {
      publishVersion(dir, 'flowers', '1', trained);
      await until(() => registry.list().some((m) => m.name === 'flowers'), {
        what: 'flowers served while the stream stays open',
        timeoutMs: 5_000,
      });
      rmSync(join(dir, 'flowers'), { recursive: true });
      await until(() => !registry.list().some((m) => m.name === 'flowers'), {
        what: 'flowers removed while the stream stays open',
        timeoutMs: 5_000,
      });
    } finally {
      stream.end();
    }
  }, 30_000);

  it('a repository model whose name a declared model has is reported, not retried, and forgotten once removed', async () => {
    publishVersion(dir, 'tulip', '1', trained);
    const tulip = async () =>
      (await oip.call('RepositoryIndex', {})).models.filter((m: { name: string }) => m.name === 'tulip');
    await until(
      async () => (await tulip()).some((m: { state: string }) => m.state === 'UNAVAILABLE'),
      'tulip@1 reported',
    );
    expect(await tulip()).toEqual([
      { name: 'tulip', version: '1', state: 'READY', reason: '' }, // the declared model keeps serving
      {
        name: 'tulip',
        version: '1',
        state: 'UNAVAILABLE',
        reason: "model 'tulip' version 1 is already served by TulipModels.tulip",
      },
    ]);
    await expect(served.client.predict('tulip', { name: 'still me' })).resolves.toBe('still me');
    rmSync(join(dir, 'tulip'), { recursive: true });
    await until(async () => (await tulip()).length === 1, 'the failure to be forgotten');
    await expect(health.check('tulip@1')).resolves.toBe('SERVING');
  }, 30_000);

  it('a model added at runtime gets its rpc, reflection and health; removed, they go', async () => {
    publishVersion(dir, 'flowers', '1', trained);
    await until(() => registry.list().some((m) => m.name === 'flowers'), 'flowers to be served');
    // A client that discovers the server now (reflection) sees the new model; one that cached the old descriptors still calls iris.
    const fresh = await BlazeClient.connect(served.address);
    try {
      expect(fresh.models().map((m) => m.name)).toContain('Flowers'); // reflection knows rpc names, not declared ones
      expect(which((await fresh.predict('flowers', { features: setosa })) as Tensor)).toBe('trained');
      await expect(health.check('flowers')).resolves.toBe('SERVING');
      rmSync(join(dir, 'flowers'), { recursive: true });
      await until(() => !registry.list().some((m) => m.name === 'flowers'), 'flowers to be removed');
      await expect(fresh.predict('flowers', { features: setosa })).rejects.toMatchObject({ codeName: 'UNIMPLEMENTED' });
      await expect(health.check('flowers')).rejects.toMatchObject({ code: 5 });
      expect(which((await served.client.predict('iris', { features: setosa })) as Tensor)).toBe('trained');
    } finally {
      fresh.close();
    }
  }, 30_000);

  it('OIP RepositoryModelUnload/Load run through the guards and unload or load a model', async () => {
    await expect(oip.call('RepositoryModelUnload', { model_name: 'iris' })).rejects.toMatchObject({ code: 7 }); // PERMISSION_DENIED
    expect(versions()).toEqual(['1']);
    await expect(oip.call('RepositoryModelUnload', { model_name: 'nope' }, ADMIN)).rejects.toMatchObject({ code: 5 });
    // A name, never a path: '.' or '..' would otherwise reach the repository directory or above it.
    for (const model_name of ['.', '..', 'iris/1']) {
      await expect(oip.call('RepositoryModelLoad', { model_name }, ADMIN)).rejects.toMatchObject({ code: 5 });
    }
    await expect(oip.call('RepositoryModelUnload', { model_name: '' }, ADMIN)).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('model_name'),
    });

    await oip.call('RepositoryModelUnload', { model_name: 'iris' }, ADMIN);
    expect(versions()).toEqual([]);
    await expect(served.client.predict('iris', { features: setosa })).rejects.toMatchObject({
      codeName: 'UNIMPLEMENTED',
    });
    await new Promise((resolve) => setTimeout(resolve, 100)); // polls pass: it stays unloaded
    expect(versions()).toEqual([]);

    await oip.call('RepositoryModelLoad', { model_name: 'iris' }, ADMIN);
    expect(versions()).toEqual(['1']);
    expect(which((await served.client.predict('iris', { features: setosa })) as Tensor)).toBe('trained');
  }, 30_000);

  it('OnnxModelRepository gives the model serving now', () => {
    const repository = served.microservice.get(OnnxModelRepository);
    expect(repository.model('iris')?.source).toContain(join('iris', '1', 'model.onnx'));
    expect(repository.model('iris', '2')).toBeUndefined();
  });
});
