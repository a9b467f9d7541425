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
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, percentile, runLoad } from './load/load-runner.js';
import {
  benchRequests,
  checkIris,
  irisRequests,
  startBlazeBench,
  startNestGrpc,
  startRaw,
} from './transport-servers.js';

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
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`BENCH_CONCURRENCY: '${spec}' is neither N nor CxS`);
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

/** One measured pass of one target. */
interface RoundStat {
  round: number;
  latencies: number[];
  calls: number;
  elapsedMs: number;
  serverCpuMicros: number;
  clientCpuMicros: number;
  /** CPU the rest of the machine used meanwhile (neither the servers nor the load process), in % of one core. */
  foreignPct: number;
}

/**
 * A pass during which other processes used more than this much CPU (% of one core; the machine is
 * shared) is left out of the figures, unless that would leave none of a target's passes.
 */
const MAX_FOREIGN_PCT = Number(process.env.BENCH_MAX_FOREIGN_PCT ?? 15);

/** Busy CPU time of the whole machine so far, in microseconds (Linux /proc/stat; NaN elsewhere). */
function machineBusyMicros(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // NOTE: /proc/stat counts in USER_HZ ticks, 100 per second on Linux.
    return (user + nice + system + irq + softirq + (steal || 0)) * 10_000;
  } catch {
    return NaN;
  }
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

  const stats = new Map<string, RoundStat[]>();
  for (const group of groups) {
    for (const load of LOADS) {
      // One load process per model and load shape: it warms every target up, then runs round after
      // round, the targets alternated within each round (A, B, C, ..., A, B, C, ...), its JIT warm.
      const serverCpu = new Map<string, number>();
      const machineBusy = new Map<string, number>();
      let cpu: NodeJS.CpuUsage | undefined;
      let busy = 0;
      const results = await runLoad(
        {
          targets: group.targets.map((t) => ({
            label: t.label,
            address: `127.0.0.1:${t.port}`,
            path: t.path,
            request: t.request,
          })),
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
          if (phase === 'start') {
            busy = machineBusyMicros();
            cpu = process.cpuUsage();
          } else {
            const used = process.cpuUsage(cpu);
            serverCpu.set(`${label}|${round}`, used.user + used.system);
            machineBusy.set(`${label}|${round}`, machineBusyMicros() - busy);
          }
        },
      );
      // Round 0 is a warm-up for the servers' JIT at this load; the rest are measured.
      for (const result of results.filter((r) => r.round > 0)) {
        const key = `${group.model}|${load.label}|${result.label}`;
        const serverCpuMicros = serverCpu.get(`${result.label}|${result.round}`) ?? NaN;
        const clientCpuMicros = result.cpuMicros ?? 0;
        const foreign = (machineBusy.get(`${result.label}|${result.round}`) ?? NaN) - serverCpuMicros - clientCpuMicros;
        const round: RoundStat = {
          round: result.round,
          latencies: result.latenciesMs,
          calls: result.latenciesMs.length,
          elapsedMs: result.elapsedMs,
          serverCpuMicros,
          clientCpuMicros,
          foreignPct: Math.max(0, (foreign / (result.elapsedMs * 1000)) * 100),
        };
        stats.set(key, [...(stats.get(key) ?? []), round]);
      }
    }
  }
  const endLoad = loadavg()[0];

  // The passes a target's figures pool: those the rest of the machine left alone (all, if none was).
  const isQuiet = (r: RoundStat) => !(r.foreignPct > MAX_FOREIGN_PCT);
  const kept = (key: string) => {
    const all = stats.get(key) ?? [];
    const quiet = all.filter(isQuiet);
    return quiet.length > 0 ? quiet : all;
  };
  const pooled = (model: string, load: string, label: string) => {
    const rounds = kept(`${model}|${load}|${label}`);
    const sum = (f: (r: RoundStat) => number) => rounds.reduce((total, r) => total + f(r), 0);
    const calls = sum((r) => r.calls);
    return {
      rounds,
      of: stats.get(`${model}|${load}|${label}`)?.length ?? 0,
      rate: (calls / sum((r) => r.elapsedMs)) * 1000,
      serverMicrosPerCall: sum((r) => r.serverCpuMicros) / calls,
      clientMicrosPerCall: sum((r) => r.clientCpuMicros) / calls,
      latencies: rounds.flatMap((r) => r.latencies),
      rates: rounds.map((r) => (r.calls / r.elapsedMs) * 1000),
      foreignPct: median((stats.get(`${model}|${load}|${label}`) ?? []).map((r) => r.foreignPct)),
    };
  };
  const rateOf = (model: string, load: string, label: string) => pooled(model, load, label).rate;
  const cpuOf = (model: string, load: string, label: string) => pooled(model, load, label).serverMicrosPerCall;
  const rows: Record<string, string>[] = [];
  for (const group of groups) {
    for (const load of LOADS) {
      const base = group.targets[0].label;
      const baseRate = rateOf(group.model, load.label, base);
      for (const target of group.targets) {
        const s = pooled(group.model, load.label, target.label);
        rows.push({
          model: group.model,
          load: load.label,
          server: target.label,
          'calls/s': s.rate.toFixed(0),
          'round min–max': `${Math.min(...s.rates).toFixed(0)}–${Math.max(...s.rates).toFixed(0)}`,
          [`vs first`]: (s.rate / baseRate).toFixed(3),
          'p50 ms': median(s.latencies).toFixed(3),
          'p99 ms': percentile(s.latencies, 99).toFixed(3),
          'server µs/call': s.serverMicrosPerCall.toFixed(1),
          'client µs/call': s.clientMicrosPerCall.toFixed(1),
          'rounds kept': `${s.rounds.length}/${s.of}`,
          'other CPU %': s.foreignPct.toFixed(0),
        });
      }
    }
  }

  const targets: Record<string, string>[] = [];
  // calls/s ratio (the target), and the same ratio of server CPU per call (inverse: the first's µs/call
  // over the second's), which the load client's own limits do not compress.
  // Also the median over rounds of the ratio within each round: a burst of outside load that hits
  // one round skews the pooled ratio more than it does this.
  const check = (
    model: string,
    load: string,
    label: string,
    against: string,
    what: string,
    goal: number,
    strict = false,
  ) => {
    const ratio = rateOf(model, load, label) / rateOf(model, load, against);
    const cpuRatio = cpuOf(model, load, against) / cpuOf(model, load, label);
    // Paired by round, over the rounds both passes were quiet (all rounds if none was).
    const mine = stats.get(`${model}|${load}|${label}`)!;
    const theirs = stats.get(`${model}|${load}|${against}`)!;
    const pairs = mine.map((r, i) => [r, theirs[i]] as const);
    const quietPairs = pairs.filter(([a, b]) => isQuiet(a) && isQuiet(b));
    const rate = (r: RoundStat) => r.calls / r.elapsedMs;
    const roundRatio = median((quietPairs.length > 0 ? quietPairs : pairs).map(([a, b]) => rate(a) / rate(b)));
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
    `"vs first": against raw grpc-js (echo, vector) or BlazeRPC PredictIris (iris). server/client µs/call: CPU of this process / of the load process per call. ` +
    `other CPU %: median CPU of the rest of the machine during the passes, in % of one core; passes above ${MAX_FOREIGN_PCT}% are left out ("rounds kept").`;
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
  return [line(columns), line(columns.map(() => '---')), ...rows.map((row) => line(columns.map((c) => row[c])))].join(
    '\n',
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
