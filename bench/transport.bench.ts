/**
 * Transport cost: the same echo and small-tensor models served by
 *   A. a raw @grpc/grpc-js server (proto-loader, same proto, same handler),
 *   B. BlazeRpcServer with no enhancers (metrics off),
 *   C. BlazeRpcServer with Prometheus metrics (no enhancers),
 *   D. BlazeRpcServer with a guard, an interceptor and Prometheus metrics,
 *   E. Nest's built-in Transport.GRPC with @GrpcMethod,
 * and, on server B, `iris` (a pure-JS [batch, 4] -> [batch, 3] linear layer,
 * batching off) called over BlazeRPC's PredictIris and over the Open
 * Inference Protocol's ModelInfer, one row per request: the protocol's cost.
 *
 * All servers live in this process. For each model and load shape, one
 * separate load process (a lean HTTP/2 client) warms every server up, then
 * drives one server at a time for BENCH_PASS_SECONDS, alternated round by
 * round. Loads: `1` and `32` are closed loops of that many callers over 2
 * connections; `4x32` is 4 connections x 32 streams each (h2load -c4 -m32).
 * Round 0 is a warm-up round; the rest are measured.
 *
 *   npm run bench:transport
 *   BENCH_ROUNDS=5 BENCH_PASS_SECONDS=1.5 BENCH_CONCURRENCY=1,32,4x32 BENCH_MARKDOWN=1 npm run bench:transport
 */
import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, percentile, runLoad } from './load/load-runner.js';
import { benchRequests, checkIris, irisRequests, startBlazeBench, startNestGrpc, startRaw } from './transport-servers.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS_PER_PASS = Number(process.env.BENCH_PASS_SECONDS ?? 1.5);
const LOADS = (process.env.BENCH_CONCURRENCY ?? '1,32,4x32').split(',').map(parseLoad);
const MODELS = (process.env.BENCH_MODELS ?? 'echo,vector,iris').split(',');
const MARKDOWN = process.env.BENCH_MARKDOWN === '1';

/** A load shape: `N` callers over the load runner's default 2 connections, or `CxS`: C connections x S streams each. */
interface Load {
  label: string;
  concurrency: number;
  connections?: number;
  pinConnections?: boolean;
}

function parseLoad(spec: string): Load {
  const streams = /^(\d+)x(\d+)$/.exec(spec.trim());
  if (streams) {
    const [connections, perConnection] = [Number(streams[1]), Number(streams[2])];
    // Caller i always uses connection i % connections: exactly `perConnection` streams on each.
    return { label: spec.trim(), concurrency: connections * perConnection, connections, pinConnections: true };
  }
  const concurrency = Number(spec);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`BENCH_CONCURRENCY: '${spec}' is neither N nor CxS`);
  return { label: String(concurrency), concurrency };
}

interface Target {
  label: string;
  port: number;
  path: string;
  request: string;
}

/** Targets compared with each other; ratios are against `targets[0]`. */
interface Group {
  model: string;
  targets: Target[];
}

interface Stats {
  latencies: number[];
  calls: number;
  elapsedMs: number;
  serverCpuMicros: number;
  clientCpuMicros: number;
  /** calls/s of each measured round, to show the spread. */
  rates: number[];
}

const RAW = 'raw grpc-js';
const PLAIN = 'BlazeRpcServer';
const METRICS = 'BlazeRpcServer + metrics';
const GUARDED = 'BlazeRpcServer + guard + interceptor + metrics';
const NEST = 'Nest Transport.GRPC';
const IRIS_BLAZE = 'BlazeRPC PredictIris';
const IRIS_OIP = 'OIP ModelInfer';

async function main() {
  const startLoad = loadavg()[0];
  const plain = await startBlazeBench(false, false);
  const protoPath = join(mkdtempSync(join(tmpdir(), 'blazerpc-bench-')), 'blazerpc.proto');
  writeFileSync(protoPath, plain.proto);
  const metrics = await startBlazeBench(false, true);
  const guarded = await startBlazeBench(true, true);
  const raw = await startRaw(protoPath);
  const nest = await startNestGrpc(protoPath);
  const servers = [
    { label: RAW, port: raw.port },
    { label: PLAIN, port: plain.port },
    { label: METRICS, port: metrics.port },
    { label: GUARDED, port: guarded.port },
    { label: NEST, port: nest.port },
  ];
  await checkIris(plain.port, plain.proto);
  const calls = benchRequests(plain.proto);
  const iris = irisRequests(plain.proto);
  const groups: Group[] = [
    ...Object.entries(calls).map(([model, call]) => ({ model, targets: servers.map((s) => ({ ...s, ...call })) })),
    {
      model: 'iris',
      targets: [
        { label: IRIS_BLAZE, port: plain.port, ...iris.blazerpc },
        { label: IRIS_OIP, port: plain.port, ...iris.oip },
      ],
    },
  ].filter((group) => MODELS.includes(group.model));

  const stats = new Map<string, Stats>();
  for (const group of groups) {
    for (const load of LOADS) {
      // One load process per model and load shape: it warms every target up, then runs round after
      // round, the targets alternated within each round (A, B, C, ..., A, B, C, ...), its JIT warm.
      const serverCpu = new Map<string, number>();
      let cpu: NodeJS.CpuUsage | undefined;
      const results = await runLoad(
        {
          targets: group.targets.map((t) => ({ label: t.label, address: `127.0.0.1:${t.port}`, path: t.path, request: t.request })),
          request: group.targets[0].request,
          rounds: ROUNDS,
          callsPerRound: 0,
          durationMs: SECONDS_PER_PASS * 1000,
          concurrency: load.concurrency,
          connections: load.connections,
          pinConnections: load.pinConnections,
          warmupCalls: Math.max(1000, load.concurrency * 20),
          client: 'h2',
          notifyPhases: true,
        },
        // This process runs only the servers: its CPU over a measured window is that server's cost.
        ({ phase, label, round }) => {
          if (phase === 'start') cpu = process.cpuUsage();
          else {
            const used = process.cpuUsage(cpu);
            serverCpu.set(`${label}|${round}`, used.user + used.system);
          }
        },
      );
      // Round 0 is a warm-up for the servers' JIT at this load; the rest are measured.
      for (const result of results.filter((r) => r.round > 0)) {
        const key = `${group.model}|${load.label}|${result.label}`;
        const n = result.latenciesMs.length;
        const entry = stats.get(key) ?? { latencies: [], calls: 0, elapsedMs: 0, serverCpuMicros: 0, clientCpuMicros: 0, rates: [] };
        for (const latency of result.latenciesMs) entry.latencies.push(latency);
        entry.calls += n;
        entry.elapsedMs += result.elapsedMs;
        entry.serverCpuMicros += serverCpu.get(`${result.label}|${result.round}`) ?? NaN;
        entry.clientCpuMicros += result.cpuMicros ?? 0;
        entry.rates.push((n / result.elapsedMs) * 1000);
        stats.set(key, entry);
      }
    }
  }
  const endLoad = loadavg()[0];

  const rateOf = (model: string, load: string, label: string) => {
    const s = stats.get(`${model}|${load}|${label}`);
    return s ? (s.calls / s.elapsedMs) * 1000 : NaN;
  };
  const cpuOf = (model: string, load: string, label: string) => {
    const s = stats.get(`${model}|${load}|${label}`);
    return s ? s.serverCpuMicros / s.calls : NaN;
  };
  const rows: Record<string, string>[] = [];
  for (const group of groups) {
    for (const load of LOADS) {
      const base = group.targets[0].label;
      const baseRate = rateOf(group.model, load.label, base);
      for (const target of group.targets) {
        const s = stats.get(`${group.model}|${load.label}|${target.label}`)!;
        const rate = rateOf(group.model, load.label, target.label);
        rows.push({
          model: group.model,
          load: load.label,
          server: target.label,
          'calls/s': rate.toFixed(0),
          'round min–max': `${Math.min(...s.rates).toFixed(0)}–${Math.max(...s.rates).toFixed(0)}`,
          [`vs first`]: (rate / baseRate).toFixed(3),
          'p50 ms': median(s.latencies).toFixed(3),
          'p99 ms': percentile(s.latencies, 99).toFixed(3),
          'server µs/call': (s.serverCpuMicros / s.calls).toFixed(1),
          'client µs/call': (s.clientCpuMicros / s.calls).toFixed(1),
        });
      }
    }
  }

  const targets: Record<string, string>[] = [];
  // calls/s ratio (the target), and the same ratio of server CPU per call (inverse: the first's µs/call
  // over the second's), which the load client's own limits do not compress.
  // Also the median over rounds of the ratio within each round: a burst of outside load that hits
  // one round skews the pooled ratio more than it does this.
  const check = (model: string, load: string, label: string, against: string, what: string, goal: number, strict = false) => {
    const ratio = rateOf(model, load, label) / rateOf(model, load, against);
    const cpuRatio = cpuOf(model, load, against) / cpuOf(model, load, label);
    const mine = stats.get(`${model}|${load}|${label}`)!.rates;
    const theirs = stats.get(`${model}|${load}|${against}`)!.rates;
    const roundRatio = median(mine.map((rate, i) => rate / theirs[i]));
    targets.push({
      model,
      load,
      target: what,
      'calls/s ratio': ratio.toFixed(3),
      'median round ratio': roundRatio.toFixed(3),
      goal: `${strict ? '>' : '>='} ${goal.toFixed(2)}`,
      result: (strict ? ratio > goal : ratio >= goal) ? 'met' : 'MISSED',
      'CPU/call ratio': cpuRatio.toFixed(3),
    });
  };
  for (const group of groups) {
    for (const load of LOADS) {
      const m = group.model;
      if (m === 'iris') {
        check(m, load.label, IRIS_OIP, IRIS_BLAZE, 'OIP / BlazeRPC', 0.95);
        continue;
      }
      check(m, load.label, METRICS, RAW, 'metrics / raw', 0.9);
      check(m, load.label, GUARDED, RAW, 'guard+interceptor+metrics / raw', 0.85);
      for (const label of [PLAIN, METRICS, GUARDED]) check(m, load.label, label, NEST, `${label} / Nest`, 1, true);
    }
  }

  const header =
    `Transport: ${ROUNDS - 1} measured rounds of ${SECONDS_PER_PASS}s per server and load, alternated; ` +
    `lean HTTP/2 load client in a separate process; Node ${process.version}; loadavg(1m) ${startLoad.toFixed(2)} at start, ${endLoad.toFixed(2)} at end. ` +
    `"vs first": against raw grpc-js (echo, vector) or BlazeRPC PredictIris (iris). server/client µs/call: CPU of this process / of the load process per call.`;
  console.log(header);
  if (MARKDOWN) {
    console.log(markdown(rows));
    console.log();
    console.log(markdown(targets));
  } else {
    console.table(rows);
    console.table(targets);
  }
  await Promise.all([plain.close(), metrics.close(), guarded.close(), nest.close()]);
  raw.close();
}

function markdown(rows: Record<string, string | number>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const line = (cells: unknown[]) => `| ${cells.join(' | ')} |`;
  return [line(columns), line(columns.map(() => '---')), ...rows.map((row) => line(columns.map((c) => row[c])))].join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
