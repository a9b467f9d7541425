import { Metadata, Server as GrpcServer } from '@grpc/grpc-js';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlazeContext,
  BlazeHealthService,
  BlazeRpcModule,
  BlazeRpcServer,
  Input,
  Int32,
  LiveModels,
  Model,
  ModelRegistry,
  type BlazeRpcModuleOptions,
  type ServingStatus,
} from '../../lib/index.js';
import type { ModelId } from '../../lib/core/registry/model-id.js';
import type { ModelPipeline } from '../../lib/pipeline/model-pipeline.js';

/*
 * How the server puts itself together when the app starts, without a gRPC
 * client: the port it bound, the health entries it registers (read off the
 * injected health service), the .proto it writes, what a live change of the
 * served models does to them, and what close() does.
 */

@Injectable()
class Models {
  @Model('echo')
  echo(@Input('text') text: string): string {
    return text;
  }

  @Model('ranker', { version: '1' })
  rankerV1(@Input('q') q: string): string {
    return q;
  }

  @Model('ranker', { version: '2' })
  rankerV2(@Input('q') q: string): string {
    return q;
  }

  /** Waits up to a minute for a fuller batch: only a shutdown flush runs it sooner. */
  @Model('lengths', { returns: [Int32], batching: { maxBatchSize: 64, batchTimeoutMs: 60_000, tuneBatchSize: false } })
  lengths(@Input('texts', [String]) texts: string[]): number[] {
    return texts.map((text) => text.length);
  }
}

/** A version loaded while the app serves, as a model repository adds one. */
class RankerV3 {
  @Model('ranker', { version: '3' })
  v3(@Input('q') q: string): string {
    return q;
  }
}

class Extra {
  @Model('extra')
  run(@Input('n') n: number): number {
    return n;
  }
}

interface Started {
  readonly app: INestApplication;
  readonly server: BlazeRpcServer;
  readonly health: BlazeHealthService;
  readonly registry: ModelRegistry;
}

const apps: INestApplication[] = [];

/** A hybrid app with the server mounted as users mount it, on a free loopback port. */
async function start(
  options: BlazeRpcModuleOptions = {},
  beforeStart?: (app: INestApplication) => void,
): Promise<Started> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false, gracePeriodMs: 1000, ...options }),
    ],
    providers: [Models],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  const server = app.get(BlazeRpcServer);
  app.connectMicroservice({ strategy: server });
  beforeStart?.(app);
  await app.startAllMicroservices();
  await app.init();
  return { app, server, health: app.get(BlazeHealthService), registry: app.get(ModelRegistry) };
}

afterAll(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
});

/** Every health entry and its status. */
function healthEntries(health: BlazeHealthService): Record<string, ServingStatus | undefined> {
  return Object.fromEntries(
    health
      .services()
      .sort()
      .map((service) => [service, health.getStatus(service)]),
  );
}

/** Whether something accepts TCP connections on the loopback port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('BlazeRpcServer once started', () => {
  let started: Started;
  beforeAll(async () => {
    started = await start();
  });

  it('exposes the port it bound for port: 0, and listens on it', async () => {
    const { port } = started.server;
    expect(Number.isInteger(port) && port > 0).toBe(true);
    await expect(accepts(port)).resolves.toBe(true);
    expect(started.server.unwrap()).toBeInstanceOf(GrpcServer);
  });

  it("registers health entries SERVING for '', the service, each model name and each name@version", () => {
    expect(healthEntries(started.health)).toEqual({
      '': 'SERVING',
      'blazerpc.InferenceService': 'SERVING',
      echo: 'SERVING',
      'echo@1': 'SERVING',
      lengths: 'SERVING',
      'lengths@1': 'SERVING',
      ranker: 'SERVING',
      'ranker@1': 'SERVING',
      'ranker@2': 'SERVING',
    });
  });
});

describe('BlazeRpcServer before it starts', () => {
  it('has no port yet, and says so', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false })],
      providers: [Models],
    }).compile();
    const server = moduleRef.get(BlazeRpcServer);
    expect(() => server.port).toThrow('BlazeRpcServer is not listening yet');
    expect(() => server.unwrap()).toThrow('BlazeRpcServer is not listening yet');
    // Nothing to remount, nothing to retire.
    await expect(server.refresh().retired).resolves.toBeUndefined();
    await moduleRef.close();
  });

  it('keeps a version NOT_SERVING when its runtime said so before the server started (still loading)', async () => {
    const { health } = await start({}, (app) => app.get(BlazeHealthService).setStatus('ranker@2', 'NOT_SERVING'));
    expect(health.getStatus('ranker@2')).toBe('NOT_SERVING');
    expect(health.getStatus('ranker@1')).toBe('SERVING');
    expect(health.getStatus('ranker')).toBe('SERVING');
  });

  it('writes the generated .proto to protoFile once it is bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blazerpc-proto-'));
    try {
      const file = join(dir, 'models.proto');
      const { registry } = await start({ protoFile: file });
      expect(readFileSync(file, 'utf8')).toBe(registry.protoText);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('BlazeRpcServer when the served models change (LiveModels.swap)', () => {
  it('adds health entries for what is added and forgets those of what is removed', async () => {
    const { app, health, registry } = await start();
    const live = app.get(LiveModels);

    const { added, retired } = await live.swap([new Extra(), new RankerV3()], [{ name: 'echo', version: '1' }]);
    await retired;

    expect(added).toEqual([
      { name: 'extra', version: '1' },
      { name: 'ranker', version: '3' },
    ]);
    expect(healthEntries(health)).toEqual({
      '': 'SERVING',
      'blazerpc.InferenceService': 'SERVING',
      extra: 'SERVING',
      'extra@1': 'SERVING',
      lengths: 'SERVING',
      'lengths@1': 'SERVING',
      ranker: 'SERVING',
      'ranker@1': 'SERVING',
      'ranker@2': 'SERVING',
      'ranker@3': 'SERVING',
    });
    expect(registry.protoText).toContain('rpc PredictExtra(');
    expect(registry.protoText).not.toContain('PredictEcho');

    // Removing one of several versions forgets only that version.
    await (
      await live.swap([], [{ name: 'ranker', version: '1' }])
    ).retired;
    expect(health.getStatus('ranker@1')).toBeUndefined();
    expect(health.getStatus('ranker')).toBe('SERVING');
  });

  it('a watcher of a removed model hears NOT_SERVING', async () => {
    const { app, health } = await start();
    const heard: ServingStatus[] = [];
    const unwatch = health.watch('echo', (status) => heard.push(status));
    await (
      await app.get(LiveModels).swap([], [{ name: 'echo', version: '1' }])
    ).retired;
    unwatch();
    expect(heard).toEqual(['NOT_SERVING']);
    expect(health.getStatus('echo')).toBeUndefined();
  });
});

describe('BlazeRpcServer.close()', () => {
  it('turns every health entry NOT_SERVING, tells watchers, and stops listening', async () => {
    const { app, server, health } = await start();
    const { port } = server;
    const heard: ServingStatus[] = [];
    health.watch('', (status) => heard.push(status));

    await app.close();

    expect(server.isClosing).toBe(true);
    expect(new Set(Object.values(healthEntries(health)))).toEqual(new Set(['NOT_SERVING']));
    expect(health.services()).toEqual(expect.arrayContaining(['', 'blazerpc.InferenceService', 'echo', 'ranker@2']));
    expect(heard).toEqual(['NOT_SERVING']);
    await expect(accepts(port)).resolves.toBe(false);
  });

  it('runs queued batches at once rather than wait for a fuller batch, so their calls finish', async () => {
    const { app, server } = await start();
    const pipeline = (server as unknown as { pipelineOf(id: ModelId): ModelPipeline }).pipelineOf({
      name: 'lengths',
      version: '1',
    });
    const context = new BlazeContext(
      new Metadata(),
      { getPeer: () => 'in-process' },
      '/blazerpc.InferenceService/PredictLengths',
      'lengths',
      '1',
      undefined,
      new AbortController(),
    );
    let answer: unknown;
    const queued = (pipeline.run({ texts: ['abc', 'de'] }, context) as Promise<unknown>).then(
      (result) => (answer = result),
    );
    // The batch waits for more requests (up to a minute).
    await new Promise((resolve) => setImmediate(resolve));
    expect(answer).toBeUndefined();

    const closing = app.close();
    await queued;
    expect(answer).toEqual([3, 2]);
    await closing;
  });

  it('refuses live changes once shutting down, and changes nothing', async () => {
    const { app, registry } = await start();
    const live = app.get(LiveModels);
    const proto = registry.protoText;
    await app.close();
    expect(live.isClosing).toBe(true);
    await expect(live.swap([new Extra()])).rejects.toThrow(
      'The server is shutting down; models are no longer added or removed',
    );
    expect(registry.protoText).toBe(proto);
  });
});
