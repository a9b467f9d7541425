/**
 * Like profile-target.js, but the V8 CPU profiler runs only over the measured
 * window (start-up and warm-up left out), through node:inspector, so that a
 * profile's shares are the hot path's alone. One server per run:
 *
 *   node dist/bench/profile-window.js [echo|vector|iris|iris-oip] [plain|metrics|guarded|raw|nest] [out.cpuprofile]
 *   PROFILE_CALLS=100000 PROFILE_CONCURRENCY=32 (default) PROFILE_CONNECTIONS=2 (default)
 *
 * Prints the server's CPU per call over that window (this process: the load
 * runs in another); feed it to cpu-profile-summary.js with --per-call.
 */
import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './load/load-runner.js';
import { benchRequests, irisRequests, startBlazeBench, startNestGrpc, startRaw } from './transport-servers.js';

async function main() {
  const [model = 'echo', variant = 'plain', out = `/tmp/blazerpc-${model}-${variant}.cpuprofile`] =
    process.argv.slice(2);
  const blaze = await startBlazeBench(variant === 'guarded', variant === 'guarded' || variant === 'metrics');
  const iris = irisRequests(blaze.proto);
  const call =
    model === 'iris'
      ? iris.blazerpc
      : model === 'iris-oip'
        ? iris.oip
        : benchRequests(blaze.proto)[model as 'echo' | 'vector'];
  let server: { port: number; close: () => unknown } = blaze;
  if (variant === 'raw' || variant === 'nest') {
    const protoPath = join(mkdtempSync(join(tmpdir(), 'blazerpc-profile-')), 'blazerpc.proto');
    writeFileSync(protoPath, blaze.proto);
    server = variant === 'raw' ? await startRaw(protoPath) : await startNestGrpc(protoPath);
  }
  const calls = Number(process.env.PROFILE_CALLS ?? 100_000);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  let cpu: NodeJS.CpuUsage | undefined;
  let used = 0;
  const [result] = await runLoad(
    {
      targets: [{ label: variant, address: `127.0.0.1:${server.port}`, path: call.path }],
      request: call.request,
      rounds: 1,
      callsPerRound: calls,
      concurrency: Number(process.env.PROFILE_CONCURRENCY ?? 32),
      connections: process.env.PROFILE_CONNECTIONS ? Number(process.env.PROFILE_CONNECTIONS) : undefined,
      warmupCalls: 2000,
      client: 'h2',
      notifyPhases: true,
    },
    async ({ phase }) => {
      if (phase === 'start') {
        await session.post('Profiler.start');
        cpu = process.cpuUsage();
      } else {
        const delta = process.cpuUsage(cpu);
        used = delta.user + delta.system;
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(out, JSON.stringify(profile));
      }
    },
  );
  session.disconnect();
  const n = result.latenciesMs.length;
  console.log(
    `${variant} ${model}: ${((n / result.elapsedMs) * 1000).toFixed(0)} calls/s, server ${(used / n).toFixed(1)} µs CPU per call, ` +
      `load process ${((result.cpuMicros ?? 0) / n).toFixed(1)} µs per call; profile in ${out}`,
  );
  await server.close();
  if (server !== blaze) await blaze.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
