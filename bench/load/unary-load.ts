/**
 * The load process of the benches: connects to the targets it is given,
 * alternates them round by round (A, B, A, B, ...) so drift hits both alike,
 * and reports per-call latencies. Runs as a child process so the client's CPU
 * is not the servers'.
 */
import * as grpc from '@grpc/grpc-js';

export interface LoadTarget {
  label: string;
  address: string;
  /** Full method path, e.g. /blazerpc.InferenceService/PredictEcho. */
  path: string;
}

export interface LoadPlan {
  targets: LoadTarget[];
  /** Request bytes, sent as they are (base64 over IPC). */
  request: string;
  rounds: number;
  callsPerRound: number;
  concurrency: number;
  warmupCalls: number;
}

export interface RoundResult {
  label: string;
  round: number;
  latenciesMs: number[];
  elapsedMs: number;
  responseBytes: number;
}

process.on('message', (plan: LoadPlan) => {
  run(plan).then(
    (results) => process.send!({ results }, () => process.exit(0)),
    (error) => process.send!({ error: String(error?.stack ?? error) }, () => process.exit(1)),
  );
});

async function run(plan: LoadPlan): Promise<RoundResult[]> {
  const request = Buffer.from(plan.request, 'base64');
  const clients = plan.targets.map(
    (t) => new grpc.Client(t.address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 }),
  );
  for (let i = 0; i < plan.targets.length; i++) await burst(clients[i], plan.targets[i].path, request, plan.warmupCalls, plan.concurrency);
  const results: RoundResult[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (let i = 0; i < plan.targets.length; i++) {
      const started = performance.now();
      const { latencies, responseBytes } = await burst(clients[i], plan.targets[i].path, request, plan.callsPerRound, plan.concurrency);
      results.push({ label: plan.targets[i].label, round, latenciesMs: latencies, elapsedMs: performance.now() - started, responseBytes });
    }
  }
  clients.forEach((c) => c.close());
  return results;
}

async function burst(client: grpc.Client, path: string, request: Buffer, calls: number, concurrency: number) {
  const latencies: number[] = [];
  let responseBytes = 0;
  let next = 0;
  const worker = async () => {
    while (next < calls) {
      next++;
      const started = performance.now();
      const response = await unary(client, path, request);
      latencies.push(performance.now() - started);
      responseBytes = response.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, responseBytes };
}

function unary(client: grpc.Client, path: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, request, (error, response) => (error ? reject(error) : resolve(response!))),
  );
}
