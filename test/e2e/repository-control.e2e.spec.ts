import * as grpc from '@grpc/grpc-js';
import type { LoggerService, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlazeRpcModule, RepositoryControlGuard, Tensor } from '../../lib/index.js';
import { OnnxModule } from '../../lib/runtimes/onnx/index.js';
import { serveForTesting, type TestingServer } from '../../lib/testing/index.js';
import { exportIrisOnnx, irisSamples, trainedIris } from '../fixtures/iris-models.js';
import { publishVersion } from '../helpers/model-repository.js';
import { OipSpecClient } from '../helpers/oip-spec-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';

/*
 * OIP's RepositoryModelLoad/Unload fail closed: with no guard that applies to
 * them they are refused, whatever the client sends, and the model stays
 * served; RepositoryControlGuard asks for the admin token, and refuses all
 * while its secret is unset. Real servers, a real ONNX repository, a client
 * built from the public OIP .proto.
 */

const UNGUARDED =
  'Repository control is refused: no guard protects it. Add a global guard (useGlobalGuards or APP_GUARD) that checks ' +
  'isRepositoryControlCall(context), e.g. RepositoryControlGuard.withToken(() => process.env.ADMIN_TOKEN); see README "OIP repository control"';
const NO_SECRET = 'Repository control is refused: the server has no admin token set';
const NO_TOKEN = "Repository control needs the admin token: send it in the 'x-admin-token' metadata";
const WRONG_TOKEN = "Repository control is refused: the 'x-admin-token' metadata does not hold the admin token";
const SECRET_UNSET_WARNING =
  'RepositoryControlGuard refuses every repository load and unload: its admin token is unset or empty';

const trained = exportIrisOnnx(trainedIris);

/** A logger that keeps warnings and errors. */
function capturingLogger(): LoggerService & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    warnings,
    errors,
    log: () => undefined,
    warn: (message: unknown) => void warnings.push(String(message)),
    error: (message: unknown) => void errors.push(String(message)),
  };
}

/** An OIP ModelInfer request for iris, and whether iris answered it. */
async function irisServes(oip: OipSpecClient): Promise<boolean> {
  const request = {
    model_name: 'iris',
    inputs: [
      { name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: irisSamples[0].features } },
    ],
  };
  const response = await oip.call('ModelInfer', request);
  return response.raw_output_contents.length === 1;
}

/** A repository with iris version 1. */
function irisRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'blazerpc-control-'));
  publishVersion(dir, 'iris', '1', trained);
  return dir;
}

/** Calls a control rpc with metadata values as given (several per key allowed). */
function controlCall(
  oip: OipSpecClient,
  rpc: string,
  model_name: string,
  entries: Array<[string, string]>,
): Promise<unknown> {
  const metadata = new grpc.Metadata();
  for (const [key, value] of entries) metadata.add(key, value);
  const stub = (oip as unknown as { stub: Record<string, (...args: unknown[]) => void> }).stub;
  return new Promise((resolve, reject) =>
    stub[rpc]!({ model_name }, metadata, (error: Error | null, response: unknown) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

const refused = (code: grpc.status, details: string) => expect.objectContaining({ code, details });

/** Serves a fresh iris repository with `control: true` and `providers` beside it, for the tests of one describe block. */
function servedWithControl(providers: Provider[], logger: LoggerService) {
  const repo = {} as { dir: string; served: TestingServer<any>; oip: OipSpecClient };
  beforeAll(async () => {
    repo.dir = irisRepository();
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot(testServerOptions), OnnxModule.repository(repo.dir, { control: true })],
      providers,
    }).compile();
    repo.served = await serveForTesting(moduleRef, { logger });
    repo.oip = new OipSpecClient(repo.served.address);
  }, 30_000);
  afterAll(async () => {
    repo.oip?.close();
    await repo.served?.close();
    rmSync(repo.dir, { recursive: true, force: true });
  });
  return repo;
}

describe('repository control without a guard: refused, and the model stays served', () => {
  const logger = capturingLogger();
  const repo = servedWithControl([], logger);

  it('warns once at startup, saying how to protect it', () => {
    expect(logger.warnings.filter((w) => w.includes('Repository control is refused'))).toEqual([`${UNGUARDED}.`]);
  });

  it('refuses load and unload with PERMISSION_DENIED, whatever the model or the metadata; iris still serves', async () => {
    for (const rpc of ['RepositoryModelUnload', 'RepositoryModelLoad']) {
      for (const model of ['iris', 'no-such-model']) {
        // An unknown model is refused the same way: nothing about the repository is answered to an unguarded caller.
        await expect(repo.oip.call(rpc, { model_name: model })).rejects.toEqual(
          refused(grpc.status.PERMISSION_DENIED, UNGUARDED),
        );
        await expect(
          repo.oip.call(rpc, { model_name: model }, { 'x-admin-token': 'anything', authorization: 'Bearer anything' }),
        ).rejects.toEqual(refused(grpc.status.PERMISSION_DENIED, UNGUARDED));
      }
    }
    expect(await irisServes(repo.oip)).toBe(true);
    await expect(repo.oip.call('ModelReady', { name: 'iris', version: '1' })).resolves.toEqual({ ready: true });
    expect((await repo.oip.call('RepositoryIndex', {})).models).toEqual([
      { name: 'iris', version: '1', state: 'READY', reason: '' },
    ]);
  });

  it('logs the refusals as nothing more: the one startup warning, no error', () => {
    expect(logger.warnings.filter((w) => w.includes('Repository control is refused'))).toHaveLength(1);
    expect(logger.errors).toEqual([]);
  });
});

describe('repository control behind a global guard that never asks isRepositoryControlCall: refused', () => {
  const repo = servedWithControl([{ provide: APP_GUARD, useValue: { canActivate: () => true } }], capturingLogger());

  it('refuses load and unload with PERMISSION_DENIED saying what to add; iris still serves', async () => {
    for (const rpc of ['RepositoryModelUnload', 'RepositoryModelLoad']) {
      await expect(controlCall(repo.oip, rpc, 'iris', [])).rejects.toEqual(
        refused(
          grpc.status.PERMISSION_DENIED,
          expect.stringContaining('no global guard checked isRepositoryControlCall(context)'),
        ),
      );
    }
    expect(await irisServes(repo.oip)).toBe(true);
  });
});

describe('RepositoryControlGuard.withToken: the admin token in x-admin-token, nothing without a secret', () => {
  const logger = capturingLogger();
  let secret: string | undefined;
  const repo = servedWithControl(
    [{ provide: APP_GUARD, useValue: RepositoryControlGuard.withToken(() => secret) }],
    logger,
  );
  const unload = (entries: Array<[string, string]>) => controlCall(repo.oip, 'RepositoryModelUnload', 'iris', entries);

  it('with its secret unset: warns at startup, and refuses every control call whatever is sent', async () => {
    expect(logger.warnings.filter((w) => w.includes(SECRET_UNSET_WARNING))).toHaveLength(1);
    expect(logger.warnings.some((w) => w.includes('no guard protects it'))).toBe(false);
    for (const value of [undefined, ''] as const) {
      secret = value;
      for (const sent of [
        [],
        [['x-admin-token', '']],
        [['x-admin-token', 'undefined']],
        [['x-admin-token', 'null']],
      ] as Array<Array<[string, string]>>) {
        await expect(unload(sent)).rejects.toEqual(refused(grpc.status.PERMISSION_DENIED, NO_SECRET));
      }
    }
    expect(await irisServes(repo.oip)).toBe(true);
    expect(logger.warnings.filter((w) => w.includes(SECRET_UNSET_WARNING))).toHaveLength(1); // once, not per call
  });

  it('with its secret set: no token is UNAUTHENTICATED, a wrong one PERMISSION_DENIED; iris still serves', async () => {
    secret = 'let-me-in';
    await expect(unload([])).rejects.toEqual(refused(grpc.status.UNAUTHENTICATED, NO_TOKEN));
    await expect(unload([['x-admin-token', '']])).rejects.toEqual(refused(grpc.status.UNAUTHENTICATED, NO_TOKEN));
    await expect(unload([['authorization', 'Bearer let-me-in']])).rejects.toEqual(
      refused(grpc.status.UNAUTHENTICATED, NO_TOKEN),
    );
    for (const wrong of ['let-me-i', 'let-me-inn', 'LET-ME-IN', 'x', 'let-me-in'.repeat(100)]) {
      await expect(unload([['x-admin-token', wrong]])).rejects.toEqual(
        refused(grpc.status.PERMISSION_DENIED, WRONG_TOKEN),
      );
    }
    // Two values, even with the right one among them: refused, not one of them picked.
    await expect(
      unload([
        ['x-admin-token', 'let-me-in'],
        ['x-admin-token', 'guess'],
      ]),
    ).rejects.toEqual(refused(grpc.status.PERMISSION_DENIED, WRONG_TOKEN));
    await expect(controlCall(repo.oip, 'RepositoryModelLoad', 'iris', [['x-admin-token', 'guess']])).rejects.toEqual(
      refused(grpc.status.PERMISSION_DENIED, WRONG_TOKEN),
    );
    expect(await irisServes(repo.oip)).toBe(true);
  });

  it('lets every other call through without a token', async () => {
    await expect(
      repo.served.client.predict('iris', { features: Tensor.from('float32', [1, 4], irisSamples[0].features) }),
    ).resolves.toBeInstanceOf(Tensor);
    await expect(repo.oip.call('RepositoryIndex', {})).resolves.toMatchObject({
      models: [{ name: 'iris', state: 'READY' }],
    });
    await expect(repo.oip.call('ServerReady', {})).resolves.toEqual({ ready: true });
  });

  it('with the right token: unloads and loads iris', async () => {
    await unload([['x-admin-token', 'let-me-in']]);
    await expect(repo.oip.call('ModelReady', { name: 'iris', version: '1' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    await controlCall(repo.oip, 'RepositoryModelLoad', 'iris', [['x-admin-token', 'let-me-in']]);
    expect(await irisServes(repo.oip)).toBe(true);
    // Read at each call: a rotated secret applies at once.
    secret = 'rotated';
    await expect(unload([['x-admin-token', 'let-me-in']])).rejects.toEqual(
      refused(grpc.status.PERMISSION_DENIED, WRONG_TOKEN),
    );
  });

  it('logs no refusal as an error', () => {
    expect(logger.errors).toEqual([]);
  });
});

describe('repository control in a hybrid app: only guards that reach the microservice count', () => {
  let dir: string;
  beforeAll(() => (dir = irisRepository()));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A hybrid app (HTTP app + connected microservice) serving the repository with an app-level RepositoryControlGuard. */
  async function hybrid(
    inheritAppConfig: boolean,
    logger = capturingLogger(),
  ): Promise<{ running: RunningApp; oip: OipSpecClient; logger: typeof logger }> {
    const running = await startApp(
      {
        imports: [BlazeRpcModule.forRoot(testServerOptions), OnnxModule.repository(dir, { control: true })],
        providers: inheritAppConfig
          ? []
          : [{ provide: APP_GUARD, useValue: RepositoryControlGuard.withToken(() => 'hybrid-token') }],
      },
      {
        logger,
        hybrid: { inheritAppConfig },
        configure: (app) =>
          inheritAppConfig && app.useGlobalGuards(RepositoryControlGuard.withToken(() => 'hybrid-token')),
      },
    );
    return { running, oip: new OipSpecClient(running.address), logger };
  }

  it("without inheritAppConfig the app's guard does not reach load/unload: refused even with its token, with a warning naming the fix", async () => {
    const { running, oip, logger } = await hybrid(false);
    try {
      await expect(
        controlCall(oip, 'RepositoryModelUnload', 'iris', [['x-admin-token', 'hybrid-token']]),
      ).rejects.toEqual(refused(grpc.status.PERMISSION_DENIED, UNGUARDED));
      await expect(oip.call('RepositoryModelLoad', { model_name: 'iris' })).rejects.toEqual(
        refused(grpc.status.PERMISSION_DENIED, UNGUARDED),
      );
      expect(await irisServes(oip)).toBe(true);
      expect(logger.warnings.filter((w) => w.includes('Repository control is refused'))).toEqual([
        `${UNGUARDED}. The app's global guards do not reach it: connect the microservice with app.connectMicroservice({ strategy }, { inheritAppConfig: true }).`,
      ]);
      expect(logger.errors).toEqual([]);
    } finally {
      oip.close();
      await running.app.close();
    }
  }, 30_000);

  it("with inheritAppConfig the app's guard applies: its token unloads, others are refused", async () => {
    const { running, oip, logger } = await hybrid(true);
    try {
      await expect(oip.call('RepositoryModelUnload', { model_name: 'iris' })).rejects.toEqual(
        refused(grpc.status.UNAUTHENTICATED, NO_TOKEN),
      );
      await controlCall(oip, 'RepositoryModelUnload', 'iris', [['x-admin-token', 'hybrid-token']]);
      await expect(oip.call('ModelReady', { name: 'iris', version: '1' })).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
      });
      await controlCall(oip, 'RepositoryModelLoad', 'iris', [['x-admin-token', 'hybrid-token']]);
      expect(await irisServes(oip)).toBe(true);
      expect(
        logger.warnings.some(
          (w) => w.includes('Repository control is refused') || w.includes('RepositoryControlGuard'),
        ),
      ).toBe(false);
    } finally {
      oip.close();
      await running.app.close();
    }
  }, 30_000);
});
