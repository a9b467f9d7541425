/**
 * The servers the transport bench compares, each serving the same echo and
 * small-tensor models: raw grpc-js, BlazeRpcServer (plain and with enhancers
 * and metrics), and Nest's built-in Transport.GRPC.
 */
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Controller, Injectable, Module, UseGuards, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { createServer } from 'node:net';
import protobuf from 'protobufjs';
import { BlazeRpcModule, BlazeRpcServer, Input, Model, ModelRegistry, Tensor } from '../lib/index.js';

const VECTOR = Tensor.of('float32', ['batch', 16]);

/** Lets every call through; stands for an auth guard that reads metadata. */
class AllowGuard {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getContext() !== undefined;
  }
}

/** Passes results through; stands for a logging or timing interceptor. */
class PassInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

@Injectable()
class PlainModels {
  @Model('echo')
  echo(@Input('text') text: string): string {
    return text;
  }

  @Model('vector', { returns: VECTOR, batching: false })
  vector(@Input('x', VECTOR) x: Tensor): Tensor {
    return x;
  }
}

@Injectable()
@UseGuards(AllowGuard)
@UseInterceptors(PassInterceptor)
class GuardedModels extends PlainModels {}

/** The same handlers under Nest's built-in gRPC transport. */
@Controller()
class NestGrpcModels {
  @GrpcMethod('InferenceService', 'PredictEcho')
  echo(request: { text: string }) {
    return { result: request.text };
  }

  @GrpcMethod('InferenceService', 'PredictVector')
  vector(request: { x: unknown }) {
    return { result: request.x };
  }
}

/** BlazeRpcServer on a free port; `guarded` adds a guard, an interceptor and metrics. */
export async function startBlazeBench(guarded: boolean) {
  const metrics = guarded;
  const providers = [guarded ? GuardedModels : PlainModels];
  @Module({ imports: [BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false, metrics, health: true })], providers: providers as never })
  class BlazeBenchModule {}
  const app = await NestFactory.create(BlazeBenchModule, { logger: ['error'] });
  const server = app.get(BlazeRpcServer);
  app.connectMicroservice({ strategy: server });
  await app.startAllMicroservices();
  await app.init();
  return { close: () => app.close(), port: server.port, proto: app.get(ModelRegistry).protoText };
}

/** A raw grpc-js server with proto-loader and the same handlers. */
export async function startRaw(protoPath: string) {
  const definition = loadSync(protoPath, { keepCase: true, longs: String, enums: String, defaults: true });
  const service = (grpc.loadPackageDefinition(definition) as any).blazerpc.InferenceService.service;
  const server = new grpc.Server();
  server.addService(service, {
    PredictEcho: (call: any, callback: grpc.sendUnaryData<object>) => callback(null, { result: call.request.text }),
    PredictVector: (call: any, callback: grpc.sendUnaryData<object>) => callback(null, { result: call.request.x }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { close: () => server.forceShutdown(), port };
}

/** Nest's built-in gRPC transport with @GrpcMethod handlers. */
export async function startNestGrpc(protoPath: string) {
  const port = await freePort();
  @Module({ controllers: [NestGrpcModels] })
  class NestGrpcModule {}
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(NestGrpcModule, {
    transport: Transport.GRPC,
    options: { package: 'blazerpc', protoPath, url: `127.0.0.1:${port}`, loader: { keepCase: true } },
    logger: ['error'],
  });
  await app.listen();
  return { close: () => app.close(), port };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Encoded requests for the echo and vector models. */
export function benchRequests(proto: string) {
  const root = protobuf.parse(proto, { keepCase: true }).root;
  const encode = (type: string, value: object) => {
    const Type = root.lookupType(`blazerpc.${type}`);
    return Buffer.from(Type.encode(Type.fromObject(value)).finish()).toString('base64');
  };
  const data = Buffer.from(Float32Array.from({ length: 16 }, (_, i) => i / 16).buffer);
  return {
    echo: { path: '/blazerpc.InferenceService/PredictEcho', request: encode('EchoRequest', { text: 'the quick brown fox jumps over the lazy dog' }) },
    vector: { path: '/blazerpc.InferenceService/PredictVector', request: encode('VectorRequest', { x: { shape: [1, 16], dtype: 'float', data } }) },
  };
}

