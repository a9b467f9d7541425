/**
 * Serves the transport bench's models with one server alone and drives them
 * for a while, for CPU profiling of the server's hot path:
 *   node --cpu-prof dist/bench/profile-target.js [echo|vector|iris|iris-oip] [plain|metrics|guarded|raw|nest]
 *
 * `iris` is the pure-JS iris model over BlazeRPC `PredictIris`, `iris-oip` the same model over OIP `ModelInfer`.
 */
import 'reflect-metadata';
import { runLoad } from './load/load-runner.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchRequests, irisRequests, startBlazeBench, startNestGrpc, startRaw } from './transport-servers.js';

async function main() {
  const [model = 'echo', variant = 'plain'] = process.argv.slice(2);
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
  const before = process.cpuUsage();
  const calls = Number(process.env.PROFILE_CALLS ?? 40_000);
  await runLoad({
    targets: [{ label: 'blaze', address: `127.0.0.1:${server.port}`, path: call.path }],
    request: call.request,
    rounds: 1,
    callsPerRound: calls,
    concurrency: 32,
    warmupCalls: 500,
    client: 'h2',
  });
  const used = process.cpuUsage(before);
  // Server CPU per call (user + system), load process excluded; includes the warm-up calls.
  console.log(`${variant} ${model}: ${((used.user + used.system) / (calls + 500)).toFixed(1)} µs CPU per call`);
  await server.close();
  if (server !== blaze) await blaze.close();
}

void main();
