/**
 * The servers the transport bench compares, each serving the same echo and
 * small-tensor models: raw grpc-js, BlazeRpcServer (plain, with metrics, and
 * with enhancers and metrics), and Nest's built-in Transport.GRPC. The
 * BlazeRpcServers also serve `iris`, a tiny pure-JS linear layer, over both
 * BlazeRPC and the Open Inference Protocol, to compare the two protocols.
 */
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import {
  Controller,
  Injectable,
  Module,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { createServer } from 'node:net';
import protobuf from 'protobufjs';
import { BlazeRpcModule, BlazeRpcServer, Input, Model, ModelRegistry, Tensor } from '../lib/index.js';
import { OIP_PROTO } from '../lib/protocols/shared/oip.proto.js';

const VECTOR = Tensor.of('float32', ['batch', 16]);
const IRIS_IN = Tensor.of('float32', ['batch', 4]);
const IRIS_OUT = Tensor.of('float32', ['batch', 3]);

/** A fixed 4 -> 3 linear layer (weights[feature][class]) and bias: the iris model's whole compute. */
const IRIS_WEIGHTS = [
  [0.42, -0.11, -0.31],
  [0.93, -0.35, -0.58],
  [-1.26, 0.21, 1.05],
  [-1.18, -0.37, 1.55],
];
const IRIS_BIAS = [0.25, 0.87, -1.12];

/** logits = x · W + b for each row of a [batch, 4] float32 tensor. */
function linearIris(features: Tensor): Tensor {
  const x = features.data as Float32Array;
  const rows = features.shape[0];
  const out = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 3; c++) {
      let sum = IRIS_BIAS[c];
      for (let f = 0; f < 4; f++) sum += x[r * 4 + f] * IRIS_WEIGHTS[f][c];
      out[r * 3 + c] = sum;
    }
  }
  return new Tensor('float32', [rows, 3], out);
}

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

  // NOTE: batching off, so the OIP/BlazeRPC comparison is the protocol's cost, not the batcher's.
  @Model('iris', { returns: IRIS_OUT, batching: false })
  iris(@Input('features', IRIS_IN) features: Tensor): Tensor {
    return linearIris(features);
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

/**
 * BlazeRpcServer on a free port (BlazeRPC and OIP both on, the defaults); `guarded` adds a guard
 * and an interceptor; `metrics` (by default as `guarded`) turns Prometheus metrics on.
 */
export async function startBlazeBench(guarded: boolean, metrics = guarded) {
  const providers = [guarded ? GuardedModels : PlainModels];
  @Module({
    imports: [BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false, metrics, health: true })],
    providers: providers as never,
  })
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

/** Encoded requests for the echo and vector models (BlazeRPC paths, served by every server). */
export function benchRequests(proto: string) {
  const root = protobuf.parse(proto, { keepCase: true }).root;
  const encode = (type: string, value: object) => {
    const Type = root.lookupType(`blazerpc.${type}`);
    return Buffer.from(Type.encode(Type.fromObject(value)).finish()).toString('base64');
  };
  const data = Buffer.from(Float32Array.from({ length: 16 }, (_, i) => i / 16).buffer);
  return {
    echo: {
      path: '/blazerpc.InferenceService/PredictEcho',
      request: encode('EchoRequest', { text: 'the quick brown fox jumps over the lazy dog' }),
    },
    vector: {
      path: '/blazerpc.InferenceService/PredictVector',
      request: encode('VectorRequest', { x: { shape: [1, 16], dtype: 'float', data } }),
    },
  };
}

/**
 * One row of 4 features for `iris`, encoded for BlazeRPC's PredictIris and for OIP's ModelInfer
 * (raw_input_contents, as KServe and Triton clients send it); both go to the same BlazeRpcServer.
 */
export function irisRequests(proto: string) {
  const features = Buffer.from(Float32Array.from([5.1, 3.5, 1.4, 0.2]).buffer);
  const blaze = protobuf.parse(proto, { keepCase: true }).root.lookupType('blazerpc.IrisRequest');
  const oip = protobuf.parse(OIP_PROTO, { keepCase: true }).root.lookupType('inference.ModelInferRequest');
  const encode = (Type: protobuf.Type, value: object) =>
    Buffer.from(Type.encode(Type.fromObject(value)).finish()).toString('base64');
  return {
    blazerpc: {
      path: '/blazerpc.InferenceService/PredictIris',
      request: encode(blaze, { features: { shape: [1, 4], dtype: 'float', data: features } }),
    },
    oip: {
      path: '/inference.GRPCInferenceService/ModelInfer',
      request: encode(oip, {
        model_name: 'iris',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }],
        raw_input_contents: [features],
      }),
    },
  };
}

/**
 * Calls iris once over each protocol and checks both answer the same three logits, so the bench
 * never times a refusal. Resolves to those logits.
 */
export async function checkIris(port: number, proto: string): Promise<number[]> {
  const requests = irisRequests(proto);
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (path: string, request: string) =>
    new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(request, 'base64'),
        (e, r) => (e ? reject(e) : resolve(r!)),
      ),
    );
  const floats = (b: Uint8Array) =>
    Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  try {
    const blazeType = protobuf.parse(proto, { keepCase: true }).root.lookupType('blazerpc.IrisResponse');
    const oipType = protobuf.parse(OIP_PROTO, { keepCase: true }).root.lookupType('inference.ModelInferResponse');
    const overBlaze = blazeType.decode(await call(requests.blazerpc.path, requests.blazerpc.request)) as any;
    const overOip = oipType.decode(await call(requests.oip.path, requests.oip.request)) as any;
    const a = floats(overBlaze.result.data);
    const b = floats(overOip.raw_output_contents[0]);
    if (a.length !== 3 || JSON.stringify(a) !== JSON.stringify(b))
      throw new Error(`iris answers differ: BlazeRPC ${a}, OIP ${b}`);
    return a;
  } finally {
    client.close();
  }
}
