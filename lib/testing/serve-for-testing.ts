import type { INestMicroservice, LoggerService } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { BlazeClient } from '../client/blaze-client.js';
import type { BlazeModelMap } from '../client/model-map.types.js';
import { ModelRegistry } from '../core/registry/model.registry.js';
import { BlazeRpcServer } from '../server/blaze-rpc.server.js';

/** A testing module's models, served on a free loopback port, and a client connected to them. */
export interface TestingServer<M extends BlazeModelMap> {
  /** A client that knows the served models (from the registry: no reflection round trip). */
  readonly client: BlazeClient<M>;
  /** `127.0.0.1:<port>`, for other clients (e.g. a raw @grpc/grpc-js one, or `OipClient`). */
  readonly address: string;
  readonly port: number;
  /** The standalone microservice serving them: `ms.get(...)` reaches any provider. */
  readonly microservice: INestMicroservice;
  /** Closes the client, then the microservice (health NOT_SERVING, in-flight calls drain). */
  close(): Promise<void>;
}

/** Options of `serveForTesting`. */
export interface ServeForTestingOptions {
  /** A logger for the microservice; `false` (the default) keeps test output quiet. */
  readonly logger?: LoggerService | false;
}

/**
 * Serves the models of a compiled `TestingModule` (from
 * `Test.createTestingModule(...).compile()`, overrides and all) over gRPC on
 * 127.0.0.1 and a free port, whatever address the module configured, writing
 * no .proto file; and connects a typed `BlazeClient` to it. The models run as
 * in production: decoding, enhancers (the module's APP_* providers apply, as
 * in a standalone microservice), batching, metrics.
 *
 * @example
 * ```ts
 * const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
 * const served = await serveForTesting<BlazeModels>(moduleRef);
 * await expect(served.client.predict('echo', { text: 'hi' })).resolves.toBe('hi');
 * await served.close();
 * ```
 */
export async function serveForTesting<M extends BlazeModelMap = BlazeModelMap>(
  moduleRef: TestingModule,
  options: ServeForTestingOptions = {},
): Promise<TestingServer<M>> {
  const server = moduleRef.get(BlazeRpcServer);
  server.listenForTesting('127.0.0.1', 0);
  const microservice = moduleRef.createNestMicroservice({ strategy: server, logger: options.logger ?? false });
  await microservice.listen();
  const address = `127.0.0.1:${server.port}`;
  try {
    const client = await BlazeClient.connect<M>(address, { registry: microservice.get(ModelRegistry) });
    return {
      client,
      address,
      port: server.port,
      microservice,
      close: async () => {
        client.close();
        await microservice.close();
      },
    };
  } catch (error) {
    await microservice.close();
    throw error;
  }
}
