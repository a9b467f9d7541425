/**
 * Serves the transport bench's models with BlazeRpcServer alone and drives
 * them for a while, for CPU profiling of the server's hot path:
 *   node --cpu-prof dist/bench/profile-target.js [echo|vector] [guarded]
 */
import 'reflect-metadata';
import { runLoad } from './load/load-runner.js';
import { benchRequests, startBlazeBench } from './transport-servers.js';

async function main() {
  const [model = 'echo', variant = 'plain'] = process.argv.slice(2);
  const server = await startBlazeBench(variant === 'guarded');
  const call = benchRequests(server.proto)[model as 'echo' | 'vector'];
  await runLoad({
    targets: [{ label: 'blaze', address: `127.0.0.1:${server.port}`, path: call.path }],
    request: call.request,
    rounds: 1,
    callsPerRound: Number(process.env.PROFILE_CALLS ?? 40_000),
    concurrency: 32,
    warmupCalls: 500,
    client: 'h2',
  });
  await server.close();
}

void main();
