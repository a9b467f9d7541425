import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Controller, Injectable, Module, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GrpcMethod, RpcException, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { BlazeRpcModule, BlazeRpcServer, Input, Model, ModelRegistry } from '../../lib/index.js';
import { ModelClient } from '../helpers/model-client.js';
import { freePort, writeProbeProto } from '../helpers/nest-grpc-probe.js';
import { testServerOptions } from '../helpers/start-app.js';

/*
 * A guard written as Nest's gRPC docs teach it, reading the call's grpc-js
 * Metadata from `switchToRpc().getContext()`, registered once for a hybrid
 * app that serves a Nest `Transport.GRPC` controller and a model side by side:
 * it must protect both, unchanged.
 */

/** Lets a call through with `x-api-key: secret`; with `x-api-key: throw`, refuses it the way Nest's docs show for gRPC. */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const metadata = context.switchToRpc().getContext<grpc.Metadata>();
    const [key] = metadata.get('x-api-key');
    if (key === 'throw') throw new RpcException({ code: grpc.status.UNAUTHENTICATED, message: 'bad api key' });
    return key === 'secret' && Object.keys(metadata.getMap()).includes('x-api-key');
  }
}

@Controller()
class ProbeController {
  @GrpcMethod('Probe', 'Echo')
  echo({ text }: { text: string }): { result: string } {
    return { result: text };
  }
}

@Injectable()
class EchoModels {
  @Model('echo', { returns: String })
  echo(@Input('text', String) text: string): string {
    return text;
  }
}

@Module({
  imports: [BlazeRpcModule.forRoot(testServerOptions)],
  controllers: [ProbeController],
  providers: [EchoModels, { provide: APP_GUARD, useClass: ApiKeyGuard }],
})
class HybridModule {}

type Outcome = { result: string } | { code: grpc.status; details: string };

function settle(invoke: () => Promise<{ result: string }>): Promise<Outcome> {
  return invoke().then(
    ({ result }) => ({ result }),
    (error: grpc.ServiceError) => ({ code: error.code, details: error.details }),
  );
}

function metadataOf(key: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (key !== undefined) metadata.set('x-api-key', key);
  return metadata;
}

describe('a guard written as Nest’s gRPC docs teach protects Transport.GRPC controllers and models alike', () => {
  const { protoPath, remove } = writeProbeProto();
  let close: () => Promise<void>;
  let nest: (key?: string) => Promise<Outcome>;
  let ours: (key?: string) => Promise<Outcome>;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [HybridModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const nestPort = await freePort();
    app.connectMicroservice({ transport: Transport.GRPC, options: { package: 'probe', protoPath, url: `127.0.0.1:${nestPort}` } }, { inheritAppConfig: true });
    app.connectMicroservice({ strategy: app.get(BlazeRpcServer) }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.init();
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;
    const nestClient = new pkg.probe.Probe(`127.0.0.1:${nestPort}`, grpc.credentials.createInsecure());
    const ourClient = new ModelClient(`127.0.0.1:${app.get(BlazeRpcServer).port}`, app.get(ModelRegistry).protoText);
    nest = (key) =>
      settle(
        () =>
          new Promise((resolve, reject) =>
            nestClient.Echo({ text: 'hi' }, metadataOf(key), (error: unknown, reply: { result: string }) => (error ? reject(error) : resolve(reply))),
          ),
      );
    ours = (key) => settle(() => ourClient.unary('PredictEcho', { text: 'hi' }, { metadata: key === undefined ? {} : { 'x-api-key': key } }));
    close = async () => {
      nestClient.close();
      ourClient.raw.close();
      await app.close();
    };
  }, 30_000);

  afterAll(async () => {
    await close?.();
    remove();
  });

  it('lets a call with the key through on both', async () => {
    expect(await nest('secret')).toEqual({ result: 'hi' });
    expect(await ours('secret')).toEqual({ result: 'hi' });
  });

  it('refuses a call without the key on both (Nest: UNKNOWN, a model call: PERMISSION_DENIED)', async () => {
    // Nest's transport answers a guard's `false` with UNKNOWN 'Forbidden resource'; ours with PERMISSION_DENIED.
    expect(await nest()).toEqual({ code: grpc.status.UNKNOWN, details: 'Forbidden resource' });
    expect(await ours()).toEqual({ code: grpc.status.PERMISSION_DENIED, details: expect.any(String) });
    expect(await ours('wrong')).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });

  it('an RpcException({ code, message }) from the guard gives the same status and message on both', async () => {
    const expected = { code: grpc.status.UNAUTHENTICATED, details: 'bad api key' };
    expect(await nest('throw')).toEqual(expected);
    expect(await ours('throw')).toEqual(expected);
  });
});
