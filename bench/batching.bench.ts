/**
 * Batching on vs off, on the sample's iris model and on a heavier dense
 * model, at concurrency 1, 16 and 64. One server process serves all four
 * variants; a separate load process drives them, alternated round by round.
 *
 *   npm run bench:batching
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import protobuf from 'protobufjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlazeRpcModule, BlazeRpcServer, ModelRegistry } from '../lib/index.js';
import { OnnxModule } from '../lib/runtimes/onnx/index.js';
import { writeDenseModel } from './dense-model.js';
import { median, percentile, runLoad } from './load/load-runner.js';

const BATCH_TIMEOUT_MS = Number(process.env.BENCH_BATCH_TIMEOUT_MS ?? 10);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS_PER_PASS = Number(process.env.BENCH_PASS_SECONDS ?? 2);

const densePath = join(mkdtempSync(join(tmpdir(), 'blazerpc-bench-')), 'dense.onnx');
writeFileSync(densePath, writeDenseModel());
const irisPath = 'sample/iris/iris.onnx';

/** ONNX Runtime on one thread per execution, so the two cores are shared alike by every variant. */
const session = { sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } };

/** Each model served three ways: batching off, on (timeout), and on with timeout 0 (dispatch whenever the model is free). */
const VARIANTS = [
  { suffix: 'off', batching: false as const },
  { suffix: 'on', batching: { batchTimeoutMs: BATCH_TIMEOUT_MS } },
  { suffix: 'eager', batching: { batchTimeoutMs: 0 } },
];
const MODELS = [
  { name: 'iris', path: irisPath },
  { name: 'dense', path: densePath },
];

@Module({
  imports: [
    BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false, batching: { maxBatchSize: 64 } }),
    ...MODELS.flatMap((model) =>
      VARIANTS.map((variant) =>
        OnnxModule.serve(`${model.name}-${variant.suffix}`, model.path, { ...session, batching: variant.batching }),
      ),
    ),
  ],
})
class BatchingBenchModule {}

/** One row of `features` for a model with `width` input columns, as request bytes. */
function oneRowRequest(proto: string, requestType: string, field: string, width: number): Buffer {
  const Request = protobuf.parse(proto, { keepCase: true }).root.lookupType(`blazerpc.${requestType}`);
  const data = Buffer.from(Float32Array.from({ length: width }, (_, i) => 1 + (i % 7) / 7).buffer);
  return Buffer.from(
    Request.encode(Request.fromObject({ [field]: { shape: [1, width], dtype: 'float', data } })).finish(),
  );
}

async function main() {
  const app = await NestFactory.create(BatchingBenchModule, { logger: ['error'] });
  const server = app.get(BlazeRpcServer);
  app.connectMicroservice({ strategy: server });
  await app.startAllMicroservices();
  await app.init();
  const registry = app.get(ModelRegistry);
  const variants = MODELS.flatMap((m) => VARIANTS.map((v) => `${m.name}-${v.suffix}`)).map((name) => {
    const model = registry.get(name);
    const width = Number((model.inputs[0].type as unknown as { spec: { shape: number[] } }).spec.shape[1]);
    return {
      name,
      path: `/blazerpc.InferenceService/${model.rpcMethods[0]}`,
      request: oneRowRequest(registry.protoText, model.requestType, model.inputs[0].name, width).toString('base64'),
    };
  });

  const stats = new Map<string, { latencies: number[]; calls: number; elapsedMs: number }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const concurrency of CONCURRENCIES) {
      for (const variant of variants) {
        // Size each pass by time, from what the previous round measured (first round: a short probe).
        const known = stats.get(`${variant.name}@${concurrency}`);
        const callsPerRound = known
          ? Math.max(50, Math.round((known.calls / known.elapsedMs) * 1000 * SECONDS_PER_PASS))
          : 200;
        const [result] = await runLoad({
          targets: [{ label: variant.name, address: `127.0.0.1:${server.port}`, path: variant.path }],
          request: variant.request,
          rounds: 1,
          callsPerRound,
          concurrency,
          warmupCalls: concurrency * 2,
          client: 'h2',
        });
        if (round === 0) continue;
        const entry = known && known.calls > 0 && round > 1 ? known : { latencies: [], calls: 0, elapsedMs: 0 };
        entry.latencies.push(...result.latenciesMs);
        entry.calls += result.latenciesMs.length;
        entry.elapsedMs += result.elapsedMs;
        stats.set(`${variant.name}@${concurrency}`, entry);
      }
    }
  }

  const rows = [];
  const rate = (s: { calls: number; elapsedMs: number }) => (s.calls / s.elapsedMs) * 1000;
  for (const model of MODELS) {
    for (const concurrency of CONCURRENCIES) {
      const off = stats.get(`${model.name}-off@${concurrency}`)!;
      for (const variant of VARIANTS) {
        const s = stats.get(`${model.name}-${variant.suffix}@${concurrency}`)!;
        rows.push({
          model: model.name,
          batching: variant.batching === false ? 'off' : `on, timeout ${variant.batching.batchTimeoutMs} ms`,
          concurrency,
          'rows/s': rate(s).toFixed(0),
          'vs off': (rate(s) / rate(off)).toFixed(2),
          'p50 ms': median(s.latencies).toFixed(2),
          'p99 ms': percentile(s.latencies, 99).toFixed(2),
          'p50 added ms': (median(s.latencies) - median(off.latencies)).toFixed(2),
        });
      }
    }
  }
  console.log(
    `Batching off vs on (maxBatchSize 64); 1 row per request; ORT on one thread; lean HTTP/2 load client; ` +
      `${ROUNDS - 1} measured rounds of ~${SECONDS_PER_PASS}s per variant; Node ${process.version}`,
  );
  console.table(rows);
  await app.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
