/**
 * Transport cost: the same echo and small-tensor models served by
 *   A. a raw @grpc/grpc-js server (proto-loader, same proto, same handler),
 *   B. BlazeRpcServer with no enhancers (metrics off),
 *   C. BlazeRpcServer with a guard, an interceptor and Prometheus metrics,
 *   D. Nest's built-in Transport.GRPC with @GrpcMethod,
 * all in this process, driven by one separate load process, alternated
 * round by round. Prints medians and ratios against the raw server.
 *
 *   npm run bench:transport
 */
import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, percentile, runLoad } from './load/load-runner.js';
import { benchRequests, startBlazeBench, startNestGrpc, startRaw } from './transport-servers.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS_PER_PASS = Number(process.env.BENCH_PASS_SECONDS ?? 1.5);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,32').split(',').map(Number);

async function main() {
  const plain = await startBlazeBench(false);
  const protoPath = join(mkdtempSync(join(tmpdir(), 'blazerpc-bench-')), 'blazerpc.proto');
  writeFileSync(protoPath, plain.proto);
  const guarded = await startBlazeBench(true);
  const raw = await startRaw(protoPath);
  const nest = await startNestGrpc(protoPath);
  const servers = [
    { label: 'raw grpc-js', port: raw.port },
    { label: 'BlazeRpcServer', port: plain.port },
    { label: 'BlazeRpcServer + guard + interceptor + metrics', port: guarded.port },
    { label: 'Nest Transport.GRPC', port: nest.port },
  ];
  const calls = benchRequests(plain.proto);
  const stats = new Map<string, { latencies: number[]; calls: number; elapsedMs: number }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [model, call] of Object.entries(calls)) {
      for (const concurrency of CONCURRENCIES) {
        for (const server of servers) {
          const key = `${model}|${concurrency}|${server.label}`;
          const known = stats.get(key);
          const callsPerRound = known ? Math.max(100, Math.round((known.calls / known.elapsedMs) * 1000 * SECONDS_PER_PASS)) : 300;
          const [result] = await runLoad({
            targets: [{ label: server.label, address: `127.0.0.1:${server.port}`, path: call.path }],
            request: call.request,
            rounds: 1,
            callsPerRound,
            concurrency,
            warmupCalls: 50,
            client: 'h2',
          });
          if (round === 0) {
            stats.set(key, { latencies: [], calls: result.latenciesMs.length, elapsedMs: result.elapsedMs });
            continue;
          }
          const entry = round === 1 ? { latencies: [], calls: 0, elapsedMs: 0 } : known!;
          entry.latencies.push(...result.latenciesMs);
          entry.calls += result.latenciesMs.length;
          entry.elapsedMs += result.elapsedMs;
          stats.set(key, entry);
        }
      }
    }
  }
  const rows = [];
  for (const model of Object.keys(calls)) {
    for (const concurrency of CONCURRENCIES) {
      const base = stats.get(`${model}|${concurrency}|raw grpc-js`)!;
      const baseRate = (base.calls / base.elapsedMs) * 1000;
      for (const server of servers) {
        const s = stats.get(`${model}|${concurrency}|${server.label}`)!;
        const rate = (s.calls / s.elapsedMs) * 1000;
        rows.push({
          model,
          concurrency,
          server: server.label,
          'calls/s': rate.toFixed(0),
          'vs raw': (rate / baseRate).toFixed(2),
          'p50 ms': median(s.latencies).toFixed(3),
          'p99 ms': percentile(s.latencies, 99).toFixed(3),
        });
      }
    }
  }
  console.log(`Transport: ${ROUNDS - 1} measured rounds of ~${SECONDS_PER_PASS}s per server, alternated; lean HTTP/2 load client in a separate process; Node ${process.version}`);
  console.table(rows);
  await Promise.all([plain.close(), guarded.close(), nest.close()]);
  raw.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
