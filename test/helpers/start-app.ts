import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BlazeRpcServer, ModelRegistry } from '../../lib/index.js';
import { ModelClient } from './model-client.js';

/** A running app with its gRPC server on a free loopback port. */
export interface RunningApp {
  readonly app: INestApplication;
  readonly port: number;
  readonly registry: ModelRegistry;
  readonly address: string;
}

/**
 * Starts a hybrid Nest app exactly as users mount the transport, on port 0.
 * `configure` runs before the server starts (global enhancers, etc.).
 */
export async function startApp(
  metadata: ModuleMetadata,
  configure: (app: INestApplication) => void = () => undefined,
): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: process.env.TEST_LOGS ? undefined : false });
  configure(app);
  const server = app.get(BlazeRpcServer);
  app.connectMicroservice({ strategy: server });
  await app.startAllMicroservices();
  await app.init();
  return { app, port: server.port, registry: app.get(ModelRegistry), address: `127.0.0.1:${server.port}` };
}

/** Module options every test uses: loopback, a free port, no file written. */
export const testServerOptions = { host: '127.0.0.1', port: 0, protoFile: false as const, gracePeriodMs: 2000 };

/**
 * Starts an app for the enclosing `describe` (beforeAll/afterAll) with a
 * client on the generated proto; read `suite.client` / `suite.running` in tests.
 */
export function serveForSuite(metadata: ModuleMetadata, configure?: (app: INestApplication) => void) {
  const suite = {} as { running: RunningApp; client: ModelClient };
  beforeAll(async () => {
    suite.running = await startApp(metadata, configure);
    suite.client = new ModelClient(suite.running.address, suite.running.registry.protoText);
  });
  afterAll(async () => {
    suite.client?.close();
    await suite.running?.app.close();
  });
  return suite;
}
