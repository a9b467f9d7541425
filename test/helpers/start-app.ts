import type { INestApplication, LoggerService, ModuleMetadata, NestHybridApplicationOptions } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BlazeRpcServer, ModelRegistry } from '../../lib/index.js';
import { ModelClient } from './model-client.js';

/** A running app with its gRPC server on a free loopback port. */
export interface RunningApp {
  readonly app: INestApplication;
  readonly port: number;
  readonly registry: ModelRegistry;
  readonly address: string;
  /** Base URL of the HTTP server, when started with `http: true`. */
  readonly httpUrl?: string;
}

/** How to start the app besides its module. */
export interface StartOptions {
  /** Called before the server starts (global enhancers, etc.). */
  configure?: (app: INestApplication) => void;
  /** Also listen for HTTP (e.g. /metrics) on a free loopback port. */
  http?: boolean;
  /** A logger to capture what the app logs. */
  logger?: LoggerService;
  /** connectMicroservice's hybrid options, e.g. `{ inheritAppConfig: true }` for the app's global enhancers to apply. */
  hybrid?: NestHybridApplicationOptions;
}

/**
 * Starts a hybrid Nest app exactly as users mount the transport, on port 0.
 * `configure` runs before the server starts (global enhancers, etc.).
 */
export async function startApp(metadata: ModuleMetadata, options: StartOptions = {}): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({
    logger: options.logger ?? (process.env.TEST_LOGS ? undefined : false),
  });
  options.configure?.(app);
  const server = app.get(BlazeRpcServer);
  app.connectMicroservice({ strategy: server }, options.hybrid);
  await app.startAllMicroservices();
  let httpUrl: string | undefined;
  if (options.http) {
    await app.listen(0, '127.0.0.1');
    httpUrl = await app.getUrl();
  } else {
    await app.init();
  }
  return { app, port: server.port, registry: app.get(ModelRegistry), address: `127.0.0.1:${server.port}`, httpUrl };
}

/** Module options every test uses: loopback, a free port, no file written. */
export const testServerOptions = { host: '127.0.0.1', port: 0, protoFile: false as const, gracePeriodMs: 2000 };

/**
 * Starts an app for the enclosing `describe` (beforeAll/afterAll) with a
 * client on the generated proto; read `suite.client` / `suite.running` in tests.
 */
export function serveForSuite(metadata: ModuleMetadata, options?: StartOptions) {
  const suite = {} as { running: RunningApp; client: ModelClient };
  beforeAll(async () => {
    suite.running = await startApp(metadata, options);
    suite.client = new ModelClient(suite.running.address, suite.running.registry.protoText);
  });
  afterAll(async () => {
    suite.client?.close();
    await suite.running?.app.close();
  });
  return suite;
}
