import { CanActivate, Injectable, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import { BlazeRpcModule, BlazeRpcServer, ModelRegistry } from '../../lib/index.js';
import { TextModels } from '../../sample/text/text.models.js';
import { failureOf, ModelClient } from '../helpers/model-client.js';
import { testServerOptions } from '../helpers/start-app.js';

@Injectable()
class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Module({ imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [TextModels] })
class ModelsModule {}

@Module({ imports: [ModelsModule], providers: [{ provide: APP_GUARD, useClass: DenyAll }] })
class GuardedModelsModule {}

/** The standalone recipe: a gRPC-only microservice whose strategy comes from the module itself. */
async function startStandalone(module: object, configure?: (ms: INestMicroservice) => void) {
  const ms = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(module, {
    inject: [BlazeRpcServer],
    useFactory: (server: BlazeRpcServer) => ({ strategy: server }),
    logger: false,
  });
  configure?.(ms);
  await ms.listen();
  const server = ms.get(BlazeRpcServer);
  const client = new ModelClient(`127.0.0.1:${server.port}`, ms.get(ModelRegistry).protoText);
  return { ms, client };
}

describe('a standalone microservice (NestFactory.createMicroservice)', () => {
  it('serves the models with the strategy taken from the module', async () => {
    const { ms, client } = await startStandalone(ModelsModule);
    try {
      await expect(client.unary('PredictEcho', { text: 'standalone' })).resolves.toEqual({ result: 'standalone' });
    } finally {
      client.close();
      await ms.close();
    }
  });

  it('applies ms.useGlobalGuards() and APP_GUARD, as Nest does for a standalone microservice', async () => {
    for (const [module, configure] of [
      [ModelsModule, (ms: INestMicroservice) => ms.useGlobalGuards(new DenyAll())],
      [GuardedModelsModule, undefined],
    ] as const) {
      const { ms, client } = await startStandalone(module, configure);
      try {
        expect((await failureOf(client.unary('PredictEcho', { text: 'x' }))).code).toBe(grpc.status.PERMISSION_DENIED);
      } finally {
        client.close();
        await ms.close();
      }
    }
  });
});
