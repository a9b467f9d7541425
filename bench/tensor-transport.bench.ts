/**
 * What decoding, validating and encoding a 1x3x224x224 float32 tensor costs
 * through BlazeRpcServer, against a raw @grpc/grpc-js server that passes the
 * same bytes through untouched. One run, targets alternated round by round,
 * load from a separate process.
 *
 *   npm run bench:tensor
 */
import 'reflect-metadata';
import * as grpc from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import protobuf from 'protobufjs';
import { BlazeRpcModule, BlazeRpcServer, Input, Model, ModelRegistry, Tensor } from '../lib/index.js';
import { tensorCopyStats } from '../lib/core/tensor/tensor-copy-stats.js';
import { median, percentile, runLoad } from './load/load-runner.js';

const SHAPE = [1, 3, 224, 224];
const ELEMENTS = SHAPE.reduce((a, b) => a * b, 1);
const METHOD = '/blazerpc.InferenceService/PredictImageEcho';

@Injectable()
class ImageModels {
  @Model('image-echo', { returns: Tensor.of('float32', SHAPE) })
  echo(@Input('image', Tensor.of('float32', SHAPE)) image: Tensor): Tensor {
    return image;
  }
}

@Module({
  imports: [
    BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false, maxReceiveMessageLength: 16 * 1024 * 1024 }),
  ],
  providers: [ImageModels],
})
class BenchModule {}

async function startBlaze() {
  const app = await NestFactory.create(BenchModule, { logger: false });
  const server = app.get(BlazeRpcServer);
  app.connectMicroservice({ strategy: server });
  await app.startAllMicroservices();
  await app.init();
  return { app, port: server.port, proto: app.get(ModelRegistry).protoText };
}

async function startRaw(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const identity = (b: Buffer) => b;
  const definition = {
    Echo: {
      path: METHOD,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  server.addService(definition, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { server, port };
}

/** The request as any protobuf client writes it: shape, dtype, then data (data lands at an odd offset). */
function defaultLayout(proto: string, data: Buffer): Buffer {
  const Request = protobuf.parse(proto, { keepCase: true }).root.lookupType('blazerpc.ImageEchoRequest');
  return Buffer.from(Request.encode(Request.fromObject({ image: { shape: SHAPE, dtype: 'float', data } })).finish());
}

/** The same message with `data` written first, which puts its bytes at an 8-byte aligned offset. */
function dataFirstLayout(data: Buffer): Buffer {
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 2).fork();
  writer.uint32((3 << 3) | 2).bytes(data);
  writer.uint32((1 << 3) | 2).fork();
  SHAPE.forEach((d) => writer.int64(d));
  writer.ldelim();
  writer.uint32((2 << 3) | 2).string('float');
  writer.ldelim();
  return Buffer.from(writer.finish());
}

/** Tensor bytes BlazeRpcServer viewed, copied and encoded for one request of this layout. */
async function copiesFor(port: number, request: Buffer) {
  tensorCopyStats.counting = true;
  const before = { ...tensorCopyStats };
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  await new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      METHOD,
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      (e, r) => (e ? reject(e) : resolve(r)),
    ),
  );
  client.close();
  return {
    inPlace: tensorCopyStats.decodedInPlaceBytes - before.decodedInPlaceBytes,
    decodeCopied: tensorCopyStats.decodedCopiedBytes - before.decodedCopiedBytes,
    encoded: tensorCopyStats.encodedBytes - before.encodedBytes,
  };
}

async function main() {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
  const callsPerRound = Number(process.env.BENCH_CALLS ?? 150);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
  const blaze = await startBlaze();
  const raw = await startRaw();
  const data = Buffer.from(Float32Array.from({ length: ELEMENTS }, (_, i) => (i % 255) / 255).buffer);
  const layouts = { default: defaultLayout(blaze.proto, data), 'data-first': dataFirstLayout(data) };

  const copies = {
    default: await copiesFor(blaze.port, layouts.default),
    'data-first': await copiesFor(blaze.port, layouts['data-first']),
  };
  const targets = [
    { label: 'raw grpc-js passthrough', address: `127.0.0.1:${raw.port}`, path: METHOD, layout: 'default' as const },
    {
      label: 'BlazeRpcServer, fields in order (shape, dtype, data)',
      address: `127.0.0.1:${blaze.port}`,
      path: METHOD,
      layout: 'default' as const,
    },
    {
      label: 'BlazeRpcServer, data field first',
      address: `127.0.0.1:${blaze.port}`,
      path: METHOD,
      layout: 'data-first' as const,
    },
  ];
  const results = [];
  // One load process per layout would change the request between targets; so each target gets its own pass
  // of the same plan shape, alternated: raw, blaze, blaze', raw, blaze, blaze', ...
  const perTarget = new Map<string, { latencies: number[]; calls: number; elapsed: number }>();
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const [result] = await runLoad({
        targets: [target],
        request: layouts[target.layout].toString('base64'),
        rounds: 1,
        callsPerRound,
        concurrency,
        warmupCalls: round === 0 ? 30 : 5,
      });
      const entry = perTarget.get(target.label) ?? { latencies: [], calls: 0, elapsed: 0 };
      entry.latencies.push(...result.latenciesMs);
      entry.calls += result.latenciesMs.length;
      entry.elapsed += result.elapsedMs;
      perTarget.set(target.label, entry);
    }
  }
  const base = perTarget.get(targets[0].label)!;
  const baseP50 = median(base.latencies);
  const baseThroughput = (base.calls / base.elapsed) * 1000;
  for (const target of targets) {
    const entry = perTarget.get(target.label)!;
    const p50 = median(entry.latencies);
    const throughput = (entry.calls / entry.elapsed) * 1000;
    const copy = target.label.startsWith('raw') ? undefined : copies[target.layout];
    results.push({
      target: target.label,
      'p50 ms': p50.toFixed(2),
      'p99 ms': percentile(entry.latencies, 99).toFixed(2),
      'calls/s': throughput.toFixed(0),
      'p50 ratio': (p50 / baseP50).toFixed(2),
      'throughput ratio': (throughput / baseThroughput).toFixed(2),
      'tensor bytes copied by us / request': copy
        ? `${copy.decodeCopied + copy.encoded} (decode ${copy.decodeCopied}, encode ${copy.encoded})`
        : 'n/a',
    });
  }
  console.log(
    `1x3x224x224 float32 (${ELEMENTS * 4} bytes) echoed, ${rounds} rounds x ${callsPerRound} calls per target, concurrency ${concurrency}, Node ${process.version}`,
  );
  console.table(results);
  await blaze.app.close();
  raw.server.forceShutdown();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
