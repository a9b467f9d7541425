/**
 * The load process of the benches: connects to the targets it is given,
 * alternates them round by round (A, B, A, B, ...) so drift hits both alike,
 * and reports per-call latencies. Runs as a child process so the client's CPU
 * is not the servers'.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, constants, type ClientHttp2Session } from 'node:http2';

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
  /**
   * `grpc-js`: a real @grpc/grpc-js client. `h2`: a lean gRPC-over-HTTP/2 client on node:http2 that
   * sends pre-framed messages, so the load process costs less CPU than the server it measures.
   * @default 'grpc-js'
   */
  client?: 'grpc-js' | 'h2';
  /** HTTP/2 connections for the h2 client. @default 2 */
  connections?: number;
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

/** Sends one unary call and resolves to the response message bytes. */
type UnaryCall = () => Promise<Buffer>;

async function run(plan: LoadPlan): Promise<RoundResult[]> {
  const request = Buffer.from(plan.request, 'base64');
  const callers = plan.targets.map((target) =>
    plan.client === 'h2' ? h2Caller(target, request, plan.connections ?? 2) : grpcJsCaller(target, request),
  );
  for (let i = 0; i < plan.targets.length; i++) await burst(callers[i].call, plan.warmupCalls, plan.concurrency);
  const results: RoundResult[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (let i = 0; i < plan.targets.length; i++) {
      const started = performance.now();
      const { latencies, responseBytes } = await burst(callers[i].call, plan.callsPerRound, plan.concurrency);
      results.push({ label: plan.targets[i].label, round, latenciesMs: latencies, elapsedMs: performance.now() - started, responseBytes });
    }
  }
  callers.forEach((c) => c.close());
  return results;
}

function grpcJsCaller(target: LoadTarget, request: Buffer): { call: UnaryCall; close: () => void } {
  const client = new grpc.Client(target.address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
  return { call: () => unary(client, target.path, request), close: () => client.close() };
}

/** gRPC framing by hand: 1 byte "not compressed", 4 bytes length, the message; trailers carry grpc-status. */
function h2Caller(target: LoadTarget, request: Buffer, connections: number): { call: UnaryCall; close: () => void } {
  const frame = Buffer.alloc(5 + request.length);
  frame.writeUInt32BE(request.length, 1);
  request.copy(frame, 5);
  const sessions: ClientHttp2Session[] = Array.from({ length: connections }, () => connect(`http://${target.address}`));
  const headers = {
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: target.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  let next = 0;
  const call: UnaryCall = () =>
    new Promise((resolve, reject) => {
      const stream = sessions[next++ % sessions.length].request(headers);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', (trailers) => {
        const code = Number(trailers['grpc-status']);
        if (code !== 0) reject(new Error(`grpc-status ${code}: ${trailers['grpc-message']}`));
      });
      stream.on('end', () => resolve(Buffer.concat(chunks).subarray(5)));
      stream.on('error', reject);
      stream.end(frame);
    });
  return { call, close: () => sessions.forEach((s) => s.close()) };
}

async function burst(call: UnaryCall, calls: number, concurrency: number) {
  const latencies: number[] = [];
  let responseBytes = 0;
  let next = 0;
  const worker = async () => {
    while (next < calls) {
      next++;
      const started = performance.now();
      const response = await call();
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
