/**
 * A real CNN served over gRPC, against the physical limit of ONNX Runtime on
 * this machine. One process (the "server process") holds:
 *   - bare onnxruntime-node, run in-process at batch 1, 2, 4, 8, 16, 32: the limit;
 *   - a minimal hand-written grpc-js + ORT server (bench/onnx-baseline-server.ts);
 *   - one Nest app serving the model three ways with OnnxModule.serve():
 *     batching off, batching on at the defaults, and on with 2 instances.
 * A separate load process (bench/load/unary-load.ts, lean HTTP/2 client) drives
 * each server at concurrency 1, 16 and 64, over N connections (one stream
 * each) and over one connection carrying N streams, while it probes the
 * server's gRPC health Check every 20 ms on its own connection. Everything is
 * alternated round by round in one run; the first round is a warm-up.
 *
 * Around each pass the server process records its CPU time (process.cpuUsage():
 * all its threads, ORT's and worker threads' included; the load process is
 * another process), its event-loop delay p99 (monitorEventLoopDelay, 1 ms
 * resolution), its full (mark-compact) GCs, and the library's batch size
 * histogram (prom-client's global registry).
 *
 *   npm run bench:onnx
 *   npm run bench:onnx:soak     # RSS after 10k vs 300k calls on the defaults variant
 *
 * Env: BENCH_ROUNDS (4, the first a warm-up), BENCH_PASS_SECONDS (2),
 * BENCH_CONCURRENCY (1,16,64), BENCH_BATCHES (1,2,4,8,16,32),
 * BENCH_VARIANTS (hand,off,on,x2), BENCH_METRICS (1), BENCH_CNN (generated: use
 * the generated conv net instead of the PaddleOCR model), BENCH_NODE_FLAGS (V8/Node
 * flags for the server process, e.g. `--initial-old-space-size=128`, which NODE_OPTIONS
 * refuses: the bench re-runs itself with them).
 * Soak: BENCH_SOAK_CALLS (300000), BENCH_SOAK_CHECKPOINT (10000),
 * BENCH_SOAK_WARMUP (5000), BENCH_SOAK_CONCURRENCY (16), BENCH_SOAK_CONNECTIONS (16).
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { register, type Metric } from 'prom-client';
import protobuf from 'protobufjs';
import { BlazeRpcModule, BlazeRpcServer, ModelRegistry } from '../lib/index.js';
import { OnnxModule, type OnnxServeOptions } from '../lib/runtimes/onnx/index.js';
import { locateCnnModel, type CnnModel } from './cnn-model.js';
import { median, percentile, runLoad } from './load/load-runner.js';
import type { PhaseMessage, RoundResult } from './load/unary-load.js';
import { CNN_METHOD, CNN_PROTO, HEALTH_CHECK_METHOD, startBaselineServer } from './onnx-baseline-server.js';

const env = process.env;
const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 4);
const SECONDS_PER_PASS = Number(env.BENCH_PASS_SECONDS ?? 2);
const CONCURRENCIES = list(env.BENCH_CONCURRENCY ?? '1,16,64').map(Number);
const BATCHES = list(env.BENCH_BATCHES ?? '1,2,4,8,16,32').map(Number);
const VARIANT_KEYS = list(env.BENCH_VARIANTS ?? 'hand,off,on,x2');
const METRICS = env.BENCH_METRICS !== '0';
const SOAK = process.argv.includes('soak') || env.BENCH_SOAK === '1';
const HEALTH_PROBE_INTERVAL_MS = 20;

/** ONNX Runtime on one thread per execution, for every variant and for the bare runs. */
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const session = { sessionOptions: SESSION_OPTIONS };
/** Two model instances: two worker threads, each with its own session. */
const twoInstances: OnnxServeOptions = { instances: 2, ...session };

/** The served variants: model name in the Nest app, and its OnnxModule.serve() options. */
const SERVED = [
  { key: 'off', model: 'cnn-off', label: 'served, batching off', options: { ...session, batching: false as const } },
  { key: 'on', model: 'cnn', label: 'served, batching on (defaults)', options: session },
  { key: 'x2', model: 'cnn-x2', label: 'served, batching on, 2 instances', options: twoInstances },
].filter((v) => VARIANT_KEYS.includes(v.key));

interface Target {
  key: string;
  label: string;
  port: number;
  path: string;
  /** The model's label in the library's metrics, for the batch sizes. */
  model?: string;
}

// ---------------------------------------------------------------- the server process's own measurements

/** Event-loop delay, full GCs, CPU and batch metrics of this (the server) process, per pass. */
class ServerMonitor {
  private readonly loop = monitorEventLoopDelay({ resolution: 1 });
  private majorGcs = 0;
  private readonly gcObserver = new PerformanceObserver((entries) => this.countGcs(entries.getEntries()));

  constructor() {
    this.loop.enable();
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  private countGcs(entries: PerformanceEntry[]) {
    for (const entry of entries)
      if (
        (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MAJOR
      )
        this.majorGcs++;
  }

  async begin(model: string | undefined) {
    this.countGcs(this.gcObserver.takeRecords());
    const snapshot = {
      cpu: process.cpuUsage(),
      machine: machineBusyMicros(),
      gcs: this.majorGcs,
      batches: await readBatchMetrics(model),
    };
    this.loop.reset();
    return snapshot;
  }

  async end(
    snapshot: Awaited<ReturnType<ServerMonitor['begin']>>,
    model: string | undefined,
  ): Promise<PassServerStats> {
    const cpu = process.cpuUsage(snapshot.cpu);
    const machine = machineBusyMicros();
    const loopP99Ms = this.loop.percentile(99) / 1e6;
    this.countGcs(this.gcObserver.takeRecords());
    const batches = await readBatchMetrics(model);
    return {
      cpuMicros: cpu.user + cpu.system,
      machineMicros: machine !== undefined && snapshot.machine !== undefined ? machine - snapshot.machine : undefined,
      majorGcs: this.majorGcs - snapshot.gcs,
      loopP99Ms,
      batchRequests: batches && snapshot.batches ? batches.requests - snapshot.batches.requests : undefined,
      batchExecutions: batches && snapshot.batches ? batches.executions - snapshot.batches.executions : undefined,
    };
  }

  close() {
    this.loop.disable();
    this.gcObserver.disconnect();
  }
}

interface PassServerStats {
  cpuMicros: number;
  /** CPU time of the whole machine (every process) in the window, when /proc/stat is readable. */
  machineMicros?: number;
  majorGcs: number;
  loopP99Ms: number;
  batchRequests?: number;
  batchExecutions?: number;
}

/** Busy CPU time of the whole machine so far (Linux /proc/stat), in microseconds. */
function machineBusyMicros(): number | undefined {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'latin1')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (user + nice + system + irq + softirq + (steal ?? 0)) * 10_000; // USER_HZ = 100
  } catch {
    return undefined;
  }
}

/** Requests and executions so far for one model, from the library's Prometheus metrics (undefined when metrics are off). */
async function readBatchMetrics(
  model: string | undefined,
): Promise<{ requests: number; executions: number } | undefined> {
  if (!model) return undefined;
  const valueOf = async (metric: Metric | undefined, name: string) => {
    const values = (await metric?.get())?.values ?? [];
    const value = values.find(
      (v) => v.labels.model === model && ((v as { metricName?: string }).metricName ?? name) === name,
    );
    return value?.value;
  };
  const histogram = register.getSingleMetric('blazerpc_batch_size');
  let requests = await valueOf(histogram, 'blazerpc_batch_size_sum');
  let executions = await valueOf(histogram, 'blazerpc_batch_size_count');
  if (requests === undefined || executions === undefined) {
    requests = await valueOf(register.getSingleMetric('blazerpc_inferences_total'), 'blazerpc_inferences_total');
    executions = await valueOf(
      register.getSingleMetric('blazerpc_inference_executions_total'),
      'blazerpc_inference_executions_total',
    );
  }
  if (!histogram && !register.getSingleMetric('blazerpc_inferences_total')) return undefined;
  return { requests: requests ?? 0, executions: executions ?? 0 };
}

// ---------------------------------------------------------------- inputs

/** One item's input: a deterministic pseudo-image in [-1, 1). */
function itemPixels(model: CnnModel): Float32Array {
  const [c, h, w] = model.itemShape;
  return Float32Array.from(
    { length: c * h * w },
    (_, i) => ((Math.sin(i * 0.37) * 0.5 + 0.5 + ((i * 7919) % 97) / 97) % 1) * 2 - 1,
  );
}

/** The request of one item, encoded once: `x` = a [1, 3, 48, 192] float tensor. */
function encodeRequest(model: CnnModel, pixels: Float32Array): Buffer {
  const Request = protobuf.parse(CNN_PROTO, { keepCase: true }).root.lookupType('blazerpc.CnnRequest');
  const data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return Buffer.from(
    Request.encode(Request.fromObject({ x: { shape: [1, ...model.itemShape], dtype: 'float', data } })).finish(),
  );
}

// ---------------------------------------------------------------- the servers

async function startServed(model: CnnModel, variants: typeof SERVED) {
  @Module({
    imports: [
      BlazeRpcModule.forRoot({
        host: '127.0.0.1',
        port: 0,
        protoFile: false,
        metrics: METRICS,
        batching: { maxBatchSize: 32 },
      }),
      ...variants.map((v) => OnnxModule.serve(v.model, model.path, v.options)),
    ],
  })
  class OnnxBenchModule {}
  const app = await NestFactory.create(OnnxBenchModule, { logger: ['error', 'warn'] });
  try {
    const server = app.get(BlazeRpcServer);
    app.connectMicroservice({ strategy: server });
    await app.startAllMicroservices();
    await app.init();
    const registry = app.get(ModelRegistry);
    const targets: Target[] = variants.map((v) => ({
      key: v.key,
      label: v.label,
      port: server.port,
      path: `/blazerpc.InferenceService/${registry.get(v.model).rpcMethods[0]}`,
      model: v.model,
    }));
    return { targets, close: () => app.close() };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

/** The served variants, or as many of them as start: all, then without 'x2' (the newest option), then none. */
async function startServedRobustly(model: CnnModel, wanted: typeof SERVED) {
  const withoutX2 = wanted.filter((v) => v.key !== 'x2');
  const attempts = withoutX2.length > 0 && withoutX2.length < wanted.length ? [wanted, withoutX2] : [wanted];
  for (const variants of attempts) {
    try {
      return await startServed(model, variants);
    } catch (error) {
      console.error(
        `Could not start the served variants ${variants.map((v) => v.key).join(', ')}: ${(error as Error)?.stack ?? error}`,
      );
    }
  }
  return { targets: [] as Target[], close: async () => undefined };
}

// ---------------------------------------------------------------- bare ORT

interface BareStats {
  items: number;
  runs: number;
  elapsedMs: number;
  cpuMicros: number;
  /** CPU time of other processes meanwhile (NaN when unknown). */
  otherCpuMicros: number;
}

async function createBareSession(model: CnnModel) {
  const bare = await ort.InferenceSession.create(model.path, { ...SESSION_OPTIONS, executionProviders: ['cpu'] });
  const pixels = itemPixels(model);
  const feeds = new Map(
    BATCHES.map((batch) => {
      const data = new Float32Array(batch * pixels.length);
      for (let i = 0; i < batch; i++) data.set(pixels, i * pixels.length);
      return [batch, { [bare.inputNames[0]]: new ort.Tensor('float32', data, [batch, ...model.itemShape]) }];
    }),
  );
  /** Runs batches of `batch` back to back for `ms` (at least 3 runs). */
  const measure = async (batch: number, ms: number): Promise<BareStats> => {
    const feed = feeds.get(batch)!;
    await bare.run(feed);
    const cpu = process.cpuUsage();
    const machine = machineBusyMicros();
    const started = performance.now();
    let runs = 0;
    while (runs < 3 || performance.now() - started < ms) {
      await bare.run(feed);
      runs++;
    }
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const cpuMicros = used.user + used.system;
    const otherCpuMicros = Math.max(0, (machineBusyMicros() ?? NaN) - (machine ?? NaN) - cpuMicros);
    return { items: runs * batch, runs, elapsedMs, cpuMicros, otherCpuMicros };
  };
  return { measure, release: () => bare.release() };
}

// ---------------------------------------------------------------- the passes

interface PassStats {
  calls: number;
  elapsedMs: number;
  latencies: number[];
  probes: number[];
  probeErrors: number;
  cpuMicros: number;
  loadCpuMicros: number;
  /** CPU time of other processes on the machine during the measured windows (NaN when unknown). */
  otherCpuMicros: number;
  majorGcs: number;
  loopP99Ms: number[];
  batchRequests?: number;
  batchExecutions?: number;
  errors: number;
  firstError?: string;
}

interface Mode {
  /** 'N' connections (one stream each) or '1' connection carrying every stream. */
  name: 'N' | '1';
  connections: number;
}

function modesFor(concurrency: number): Mode[] {
  return concurrency === 1
    ? [{ name: '1', connections: 1 }]
    : [
        { name: 'N', connections: concurrency },
        { name: '1', connections: 1 },
      ];
}

async function runPass(
  target: Target,
  request: string,
  concurrency: number,
  mode: Mode,
  seconds: number,
  monitor: ServerMonitor,
) {
  let snapshot: Awaited<ReturnType<ServerMonitor['begin']>> | undefined;
  let server: PassServerStats | undefined;
  const onPhase = async (message: PhaseMessage) => {
    if (message.phase === 'start') snapshot = await monitor.begin(target.model);
    else server = await monitor.end(snapshot!, target.model);
  };
  const [result] = await runLoad(
    {
      targets: [{ label: target.label, address: `127.0.0.1:${target.port}`, path: target.path }],
      request,
      rounds: 1,
      callsPerRound: 0,
      durationMs: seconds * 1000,
      concurrency,
      connections: mode.connections,
      pinConnections: true,
      warmupCalls: Math.max(20, concurrency * 2),
      client: 'h2',
      tolerateErrors: true,
      notifyPhases: true,
      probe: { path: HEALTH_CHECK_METHOD, request: '', intervalMs: HEALTH_PROBE_INTERVAL_MS },
    },
    onPhase,
  );
  return { result, server: server! };
}

function accumulate(stats: Map<string, PassStats>, key: string, result: RoundResult, server: PassServerStats) {
  const entry: PassStats = stats.get(key) ?? {
    calls: 0,
    elapsedMs: 0,
    latencies: [],
    probes: [],
    probeErrors: 0,
    cpuMicros: 0,
    loadCpuMicros: 0,
    otherCpuMicros: 0,
    majorGcs: 0,
    loopP99Ms: [],
    errors: 0,
  };
  entry.calls += result.latenciesMs.length;
  entry.elapsedMs += result.elapsedMs;
  for (const latency of result.latenciesMs) entry.latencies.push(latency);
  for (const latency of result.probeLatenciesMs ?? []) entry.probes.push(latency);
  entry.probeErrors += result.probeErrors ?? 0;
  entry.errors += result.errors ?? 0;
  entry.firstError ??= result.firstError;
  entry.cpuMicros += server.cpuMicros;
  entry.loadCpuMicros += result.cpuMicros ?? NaN;
  entry.otherCpuMicros += Math.max(0, (server.machineMicros ?? NaN) - server.cpuMicros - (result.cpuMicros ?? NaN));
  entry.majorGcs += server.majorGcs;
  entry.loopP99Ms.push(server.loopP99Ms);
  if (server.batchRequests !== undefined) entry.batchRequests = (entry.batchRequests ?? 0) + server.batchRequests;
  if (server.batchExecutions !== undefined)
    entry.batchExecutions = (entry.batchExecutions ?? 0) + server.batchExecutions;
  stats.set(key, entry);
}

// ---------------------------------------------------------------- report

const fmt = (value: number | undefined, digits = 2) =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
const rate = (s: { calls: number; elapsedMs: number }) => (s.calls / s.elapsedMs) * 1000;
const bareRate = (s: BareStats) => (s.items / s.elapsedMs) * 1000;

function markdownTable(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]);
  return [
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${columns.map((c) => String(row[c])).join(' | ')} |`),
  ].join('\n');
}

function report(model: CnnModel, targets: Target[], bare: Map<number, BareStats>, stats: Map<string, PassStats>) {
  const bareRows = BATCHES.map((batch) => ({ batch, stats: bare.get(batch)! })).filter((r) => r.stats);
  const best = bareRows.reduce((a, b) => (bareRate(b.stats) > bareRate(a.stats) ? b : a));
  const bestRate = bareRate(best.stats);
  const batchOne = bare.get(1);
  const b1Rate = batchOne ? bareRate(batchOne) : undefined;

  console.log(
    `\n## ONNX CNN: ${model.name} (${model.bytes.toLocaleString('en-US')} bytes; ${model.origin})\n` +
      `Input [N, ${model.itemShape.join(', ')}] float32, ${(model.itemShape.reduce((a, b) => a * b) * 4).toLocaleString('en-US')} bytes per item; ` +
      `ORT ${ort.env.versions?.common ?? ''} intraOpNumThreads 1, interOpNumThreads 1; ${ROUNDS - 1} measured rounds of ~${SECONDS_PER_PASS}s per pass ` +
      `(first round discarded); Node ${process.version}${process.execArgv.length ? ` ${process.execArgv.join(' ')}` : ''}; metrics ${METRICS ? 'on' : 'off'}\n`,
  );
  console.log('### Bare onnxruntime-node (in the server process, no gRPC)\n');
  console.log(
    markdownTable(
      bareRows.map(({ batch, stats: s }) => ({
        batch,
        'items/s': fmt(bareRate(s), 0),
        'ms / run': fmt(s.elapsedMs / s.runs),
        'ms / item': fmt(s.elapsedMs / s.items, 3),
        'CPU µs / item': fmt(s.cpuMicros / s.items, 0),
        'other CPU %': fmt((s.otherCpuMicros / (s.elapsedMs * 1000)) * 100, 0),
        'vs best': fmt(bareRate(s) / bestRate),
      })),
    ),
  );
  console.log(`\nPhysical limit: batch ${best.batch}, ${fmt(bestRate, 0)} items/s.\n`);

  const rows: Record<string, string | number>[] = [];
  for (const concurrency of CONCURRENCIES) {
    for (const mode of modesFor(concurrency)) {
      for (const target of targets) {
        const s = stats.get(`${target.key}|${concurrency}|${mode.name}`);
        if (!s) continue;
        const avgBatch =
          target.key === 'hand' ? 1 : s.batchExecutions ? (s.batchRequests ?? 0) / s.batchExecutions : undefined;
        rows.push({
          variant: target.label,
          'conc.': concurrency,
          conns: mode.name === 'N' ? `${concurrency}` : '1',
          'items/s': fmt(rate(s), 0),
          'vs bare best': fmt(rate(s) / bestRate),
          'vs bare b1': fmt(b1Rate && rate(s) / b1Rate),
          'p50 ms': fmt(median(s.latencies)),
          'p99 ms': fmt(percentile(s.latencies, 99)),
          'CPU µs / item': fmt(s.cpuMicros / s.calls, 0),
          'load CPU µs / item': fmt(s.loadCpuMicros / s.calls, 0),
          'other CPU %': fmt((s.otherCpuMicros / (s.elapsedMs * 1000)) * 100, 0),
          'avg batch': fmt(avgBatch),
          'health p50 ms': fmt(s.probes.length ? median(s.probes) : undefined),
          'health p99 ms': fmt(s.probes.length ? percentile(s.probes, 99) : undefined),
          'loop p99 ms': fmt(Math.max(...s.loopP99Ms)),
          'full GCs / 1k': fmt((s.majorGcs / s.calls) * 1000),
          errors:
            s.errors +
            (s.probeErrors ? ` (+${s.probeErrors} probes)` : '') +
            (s.firstError ? `: ${s.firstError.slice(0, 80)}` : ''),
        });
      }
    }
  }
  console.log('### Served over gRPC (load in a separate process)\n');
  console.log(markdownTable(rows));
  console.log(
    '\nconns: N = one HTTP/2 connection per concurrent stream; 1 = one connection carrying all streams. ' +
      'CPU: the server process (all threads), per item; load CPU: the load process, per item; ' +
      'other CPU: what other processes on the machine used during the passes, in % of one core (/proc/stat; should be ~0). avg batch: requests per model execution (library metrics). ' +
      `health: grpc.health.v1.Health/Check every ${HEALTH_PROBE_INTERVAL_MS} ms on its own connection, timed by the load process. ` +
      'loop p99: event-loop delay p99 of the server process, worst measured pass (it includes the 1 ms sampling interval). ' +
      'full GCs: mark-compact collections in the server process per 1,000 requests.\n',
  );
  summarize(targets, stats, bestRate, b1Rate);
}

function summarize(targets: Target[], stats: Map<string, PassStats>, bestRate: number, b1Rate: number | undefined) {
  const get = (key: string, concurrency: number, mode: 'N' | '1') => stats.get(`${key}|${concurrency}|${mode}`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const lines: string[] = [];
  const served = targets.filter((t) => t.key !== 'hand');
  if (!targets.some((t) => t.key === 'on')) {
    lines.push('- The served variants did not run; no targets to check.');
  } else {
    const c64 = CONCURRENCIES.includes(64) ? modesFor(64).map((m) => ({ m, s: get('on', 64, m.name) })) : [];
    if (c64.length) {
      const ratios = c64.map(({ m, s }) => ({ m, r: s ? rate(s) / bestRate : NaN }));
      lines.push(
        `- Defaults >= 0.9x bare best batch at concurrency 64: ${verdict(ratios.every((x) => x.r >= 0.9))} (` +
          ratios.map((x) => `${x.m.name === 'N' ? '64 conns' : '1 conn'} ${fmt(x.r)}x`).join(', ') +
          ').',
      );
    }
    const c1 = CONCURRENCIES.includes(1) ? get('on', 1, '1') : undefined;
    if (c1) {
      lines.push(
        `- Defaults >= 0.9x bare best batch at concurrency 1: ${verdict(rate(c1) / bestRate >= 0.9)} (${fmt(rate(c1) / bestRate)}x; ` +
          `${fmt(b1Rate && rate(c1) / b1Rate)}x bare batch 1, which is the most one request at a time can get).`,
      );
    }
    const pairs = CONCURRENCIES.flatMap((c) =>
      modesFor(c).map((m) => ({ c, m, on: get('on', c, m.name), off: get('off', c, m.name) })),
    ).filter((p) => p.on && p.off);
    if (pairs.length) {
      const ratios = pairs.map((p) => ({ ...p, r: rate(p.on!) / rate(p.off!) }));
      lines.push(
        `- Batching on >= 0.95x batching off at every concurrency: ${verdict(ratios.every((x) => x.r >= 0.95))} (` +
          ratios.map((x) => `c${x.c}/${x.m.name === 'N' ? `${x.c} conns` : '1 conn'} ${fmt(x.r)}x`).join(', ') +
          ').',
      );
    }
    const worst = (pick: (s: PassStats) => number) =>
      served
        .flatMap((t) => CONCURRENCIES.flatMap((c) => modesFor(c).map((m) => ({ t, c, m, s: get(t.key, c, m.name) }))))
        .filter((x) => x.s)
        .map((x) => ({ ...x, v: pick(x.s!) }))
        .reduce((a, b) => (b.v > a.v ? b : a));
    const where = (x: { t: Target; c: number; m: Mode }) =>
      `${x.t.label}, c${x.c}, ${x.m.name === 'N' ? `${x.c} conns` : '1 conn'}`;
    const health = worst((s) => (s.probes.length ? percentile(s.probes, 99) : Infinity));
    lines.push(
      `- Health p99 < 5 ms in every served pass: ${verdict(health.v < 5)} (worst ${fmt(health.v)} ms: ${where(health)}).`,
    );
    const loop = worst((s) => Math.max(...s.loopP99Ms));
    lines.push(
      `- Event-loop p99 < 5 ms in every served pass: ${verdict(loop.v < 5)} (worst ${fmt(loop.v)} ms: ${where(loop)}).`,
    );
    if (!served.some((t) => t.key === 'x2') && VARIANT_KEYS.includes('x2'))
      lines.push('- The 2-instance variant did not start (see the error above).');
  }
  const busiest = [...stats.values()].reduce((a, s) => Math.max(a, (s.otherCpuMicros / (s.elapsedMs * 1000)) * 100), 0);
  if (busiest > 10) {
    lines.push(
      `- Caution: other processes used up to ${fmt(busiest, 0)}% of a core during some passes (see 'other CPU %'); rerun on a quiet machine.`,
    );
  }
  console.log('### Targets\n');
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------- main

async function main() {
  const model = locateCnnModel();
  const pixels = itemPixels(model);
  const request = encodeRequest(model, pixels).toString('base64');
  const monitor = new ServerMonitor();
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const targets: Target[] = [];
    if (VARIANT_KEYS.includes('hand') && !SOAK) {
      const hand = await startBaselineServer(model.path, SESSION_OPTIONS);
      closers.push(() => hand.close());
      targets.push({ key: 'hand', label: 'hand-written grpc-js + ORT', port: hand.port, path: CNN_METHOD });
    }
    // The soak serves the defaults variant alone, so the RSS is that of one served model.
    const wanted = SOAK ? SERVED.filter((v) => v.key === 'on') : SERVED;
    const served = wanted.length
      ? await startServedRobustly(model, wanted)
      : { targets: [], close: async () => undefined };
    closers.push(() => served.close());
    targets.push(...served.targets);

    if (SOAK) return await soak(targets, request, monitor);

    const bareSession = await createBareSession(model);
    closers.push(() => bareSession.release());
    const bare = new Map<number, BareStats>();
    const stats = new Map<string, PassStats>();
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      const warmup = round === 0 && ROUNDS > 1;
      const seconds = warmup ? Math.min(SECONDS_PER_PASS, 0.5) : SECONDS_PER_PASS;
      for (const batch of BATCHES) {
        const s = await bareSession.measure(batch, (seconds * 1000) / 2);
        if (warmup) continue;
        const entry = bare.get(batch) ?? { items: 0, runs: 0, elapsedMs: 0, cpuMicros: 0, otherCpuMicros: 0 };
        bare.set(batch, {
          items: entry.items + s.items,
          runs: entry.runs + s.runs,
          elapsedMs: entry.elapsedMs + s.elapsedMs,
          cpuMicros: entry.cpuMicros + s.cpuMicros,
          otherCpuMicros: entry.otherCpuMicros + s.otherCpuMicros,
        });
      }
      for (const concurrency of CONCURRENCIES) {
        for (const mode of modesFor(concurrency)) {
          for (const target of targets) {
            try {
              const { result, server } = await runPass(target, request, concurrency, mode, seconds, monitor);
              if (!warmup) accumulate(stats, `${target.key}|${concurrency}|${mode.name}`, result, server);
            } catch (error) {
              console.error(
                `Pass failed: ${target.label}, concurrency ${concurrency}, ${mode.connections} connection(s): ${(error as Error)?.message ?? error}`,
              );
            }
          }
        }
      }
      console.error(
        `round ${round + 1}/${ROUNDS}${warmup ? ' (warm-up)' : ''} done at ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
    }
    report(model, targets, bare, stats);
  } finally {
    monitor.close();
    for (const close of closers.reverse()) await close().catch((error: unknown) => console.error(error));
  }
}

/** RSS of the server process after a warm-up, at every checkpoint up to BENCH_SOAK_CALLS calls, on the defaults variant. */
async function soak(targets: Target[], request: string, monitor: ServerMonitor) {
  const target = targets.find((t) => t.key === 'on');
  if (!target) throw new Error('The soak needs the served defaults variant (on), which did not start.');
  const total = Number(env.BENCH_SOAK_CALLS ?? 300_000);
  const checkpoint = Number(env.BENCH_SOAK_CHECKPOINT ?? 10_000);
  const concurrency = Number(env.BENCH_SOAK_CONCURRENCY ?? 16);
  const connections = Number(env.BENCH_SOAK_CONNECTIONS ?? concurrency);
  const warmupCalls = Number(env.BENCH_SOAK_WARMUP ?? 5_000);
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const samples: { calls: number; memory: NodeJS.MemoryUsage; at: number; gcs: number }[] = [];
  let snapshot: Awaited<ReturnType<ServerMonitor['begin']>> | undefined;
  let calls = 0;
  let gcs = 0;
  const begun = performance.now();
  console.error(
    `soak: ${warmupCalls} warm-up calls, then ${total} calls at concurrency ${concurrency} over ${connections} connection(s)`,
  );
  const results = await runLoad(
    {
      targets: [{ label: target.label, address: `127.0.0.1:${target.port}`, path: target.path }],
      request,
      rounds: Math.ceil(total / checkpoint),
      callsPerRound: checkpoint,
      concurrency,
      connections,
      pinConnections: true,
      warmupCalls,
      client: 'h2',
      tolerateErrors: true,
      notifyPhases: true,
    },
    async (message) => {
      if (message.phase === 'start') {
        snapshot = await monitor.begin(target.model);
        return;
      }
      const server = await monitor.end(snapshot!, target.model);
      calls += checkpoint;
      gcs += server.majorGcs;
      samples.push({ calls, memory: process.memoryUsage(), at: performance.now() - begun, gcs });
      if (calls % (checkpoint * 5) === 0)
        console.error(`soak: ${calls} calls, RSS ${mb(process.memoryUsage().rss)} MB`);
    },
  );
  const errors = results.reduce((n, r) => n + (r.errors ?? 0), 0);
  const wanted = new Set([1, 2, 5, 10, 20, 50, 100, 150, 200, 250, 300].map((k) => k * 1000));
  const rows = samples
    .filter((s, i) => wanted.has(s.calls) || i === 0 || i === samples.length - 1)
    .map((s) => ({
      calls: s.calls.toLocaleString('en-US'),
      'RSS MB': mb(s.memory.rss),
      'heap used MB': mb(s.memory.heapUsed),
      'external MB': mb(s.memory.external),
      'array buffers MB': mb(s.memory.arrayBuffers),
      'full GCs so far': s.gcs,
      's elapsed': (s.at / 1000).toFixed(0),
    }));
  console.log(
    `\n## RSS soak: ${target.label}, concurrency ${concurrency}, ${connections} connection(s), after ${warmupCalls} warm-up calls\n`,
  );
  console.log(markdownTable(rows));
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first && last) {
    const growth = last.memory.rss - first.memory.rss;
    console.log(
      `\nRSS at ${first.calls.toLocaleString('en-US')} calls: ${mb(first.memory.rss)} MB; at ${last.calls.toLocaleString('en-US')}: ${mb(last.memory.rss)} MB ` +
        `(${growth >= 0 ? '+' : ''}${mb(growth)} MB, ${(((growth / (last.calls - first.calls || 1)) * 100_000) / 1024).toFixed(0)} KB per 100k calls). Errors: ${errors}.`,
    );
  }
}

/** BENCH_NODE_FLAGS: run this script again in a child node with those flags (once). */
function reexecWithNodeFlags(): boolean {
  const flags = list((env.BENCH_NODE_FLAGS ?? '').replace(/\s+/g, ','));
  if (flags.length === 0 || env.BENCH_NODE_FLAGS_APPLIED) return false;
  const child = spawnSync(process.execPath, [...flags, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...env, BENCH_NODE_FLAGS_APPLIED: '1' },
  });
  process.exit(child.status ?? 1);
}

if (!reexecWithNodeFlags())
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
