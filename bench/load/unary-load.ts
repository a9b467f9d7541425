/**
 * The load process of the benches: connects to the targets it is given,
 * alternates them round by round (A, B, A, B, ...) so drift hits both alike,
 * and reports per-call latencies. Runs as a child process so the client's CPU
 * is not the servers'.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProbeOrder, ProbeReport } from './probe-process.js';

export interface LoadTarget {
  label: string;
  address: string;
  /** Full method path, e.g. /blazerpc.InferenceService/PredictEcho. */
  path: string;
  /** This target's request bytes (base64), when they differ from the plan's `request`. */
  request?: string;
}

/** A unary call sent every `intervalMs` on its own connection while each measured round runs. */
export interface LoadProbe {
  /** Full method path, e.g. /grpc.health.v1.Health/Check. */
  path: string;
  /** Request bytes (base64); '' for an empty message. */
  request: string;
  intervalMs: number;
}

export interface LoadPlan {
  targets: LoadTarget[];
  /** Request bytes, sent as they are (base64 over IPC). */
  request: string;
  rounds: number;
  /** Calls per target per round (ignored when `durationMs` is set). */
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
  /**
   * h2 client: caller `i` of the closed loop always uses connection `i % connections` (so with
   * `connections === concurrency`, one stream per connection); otherwise calls take the connections
   * in turn. @default false
   */
  pinConnections?: boolean;
  /** Run each measured round for this long instead of `callsPerRound` calls. */
  durationMs?: number;
  /**
   * Count failed calls in `errors` instead of failing the whole run. A round stops early once at
   * least 100 calls failed and failures outnumber successes. @default false
   */
  tolerateErrors?: boolean;
  /**
   * Around each measured round, send `{ phase: 'start' | 'end', label, round }` to the parent and
   * wait for its `{ ack: true }`, so the server can measure exactly that window (see `runLoad`).
   * @default false
   */
  notifyPhases?: boolean;
  /** A probe (e.g. a gRPC health check) on its own connection, timed while each measured round runs. */
  probe?: LoadProbe;
}

export interface RoundResult {
  label: string;
  round: number;
  latenciesMs: number[];
  elapsedMs: number;
  responseBytes: number;
  /** CPU time of the load process (user + system, microseconds) during the round. */
  cpuMicros?: number;
  /** Failed calls (only with `tolerateErrors`). */
  errors?: number;
  firstError?: string;
  /** Latencies of the probe calls that succeeded during the round (only with `probe`). */
  probeLatenciesMs?: number[];
  probeErrors?: number;
}

/** What the load process tells its parent around each measured round when `notifyPhases` is set. */
export interface PhaseMessage {
  phase: 'start' | 'end';
  label: string;
  round: number;
}

/** The h2 client's HTTP/2 receive windows (stream and connection), so the client never throttles the server. */
const CLIENT_WINDOW_BYTES = 16 * 1024 * 1024;

const pendingAcks: (() => void)[] = [];

process.once('message', (plan: LoadPlan) => {
  process.on('message', (message: { ack?: boolean }) => message?.ack && pendingAcks.shift()?.());
  run(plan).then(
    (results) => process.send!({ results }, () => process.exit(0)),
    (error) => process.send!({ error: String(error?.stack ?? error) }, () => process.exit(1)),
  );
});

/** Tells the parent about a phase and waits for its acknowledgement. */
function notify(message: PhaseMessage): Promise<void> {
  return new Promise((resolve) => {
    pendingAcks.push(resolve);
    process.send!(message);
  });
}

/** Sends one unary call and resolves to the response message bytes; `worker` is the caller's index. */
type UnaryCall = (worker: number) => Promise<Buffer>;

interface Caller {
  call: UnaryCall;
  close: () => void;
}

async function run(plan: LoadPlan): Promise<RoundResult[]> {
  const request = Buffer.from(plan.request, 'base64');
  const callers = plan.targets.map((target) =>
    makeCaller(
      plan,
      target,
      target.request === undefined ? request : Buffer.from(target.request, 'base64'),
      plan.connections ?? 2,
    ),
  );
  const probes = plan.probe
    ? plan.targets.map((target) =>
        makeCaller(plan, { ...target, path: plan.probe!.path }, Buffer.from(plan.probe!.request, 'base64'), 1),
      )
    : [];
  for (let i = 0; i < plan.targets.length; i++) {
    await burst(callers[i].call, {
      calls: plan.warmupCalls,
      concurrency: plan.concurrency,
      tolerateErrors: plan.tolerateErrors,
    });
    if (probes[i]) await probes[i].call(0).catch(() => undefined);
  }
  const results: RoundResult[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (let i = 0; i < plan.targets.length; i++) {
      const label = plan.targets[i].label;
      if (plan.notifyPhases) await notify({ phase: 'start', label, round });
      const probing = plan.probe ? await startProbing(plan.targets[i].address, plan.probe) : undefined;
      const cpu = process.cpuUsage();
      const started = performance.now();
      const outcome = await burst(callers[i].call, {
        calls: plan.durationMs === undefined ? plan.callsPerRound : Infinity,
        deadline: plan.durationMs === undefined ? undefined : started + plan.durationMs,
        concurrency: plan.concurrency,
        tolerateErrors: plan.tolerateErrors,
      });
      const elapsedMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const probed = await probing?.stop();
      if (plan.notifyPhases) await notify({ phase: 'end', label, round });
      results.push({
        label,
        round,
        latenciesMs: outcome.latencies,
        elapsedMs,
        responseBytes: outcome.responseBytes,
        cpuMicros: used.user + used.system,
        ...(plan.tolerateErrors ? { errors: outcome.errors, firstError: outcome.firstError } : {}),
        ...(probed ? { probeLatenciesMs: probed.latencies, probeErrors: probed.errors } : {}),
      });
    }
  }
  [...callers, ...probes].forEach((c) => c.close());
  return results;
}

function makeCaller(plan: LoadPlan, target: LoadTarget, request: Buffer, connections: number): Caller {
  return plan.client === 'h2'
    ? h2Caller(target, request, connections, plan.pinConnections ?? false)
    : grpcJsCaller(target, request);
}

function grpcJsCaller(target: LoadTarget, request: Buffer): Caller {
  const client = new grpc.Client(target.address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
  return { call: () => unary(client, target.path, request), close: () => client.close() };
}

/** gRPC framing by hand: 1 byte "not compressed", 4 bytes length, the message; trailers carry grpc-status. */
function h2Caller(target: LoadTarget, request: Buffer, connections: number, pin: boolean): Caller {
  const frame = Buffer.alloc(5 + request.length);
  frame.writeUInt32BE(request.length, 1);
  request.copy(frame, 5);
  const sessions: ClientHttp2Session[] = Array.from({ length: connections }, () => {
    // Large receive windows (stream: the SETTINGS below; connection: setLocalWindowSize) and no
    // session memory cap: the client must never be what limits the server.
    const session = connect(`http://${target.address}`, {
      settings: { initialWindowSize: CLIENT_WINDOW_BYTES },
      maxSessionMemory: 1024,
    });
    session.once('connect', () => session.setLocalWindowSize(CLIENT_WINDOW_BYTES));
    session.on('error', () => undefined); // surfaced by the streams that fail
    return session;
  });
  const headers = {
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: target.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  let next = 0;
  const call: UnaryCall = (worker) =>
    new Promise((resolve, reject) => {
      const stream = sessions[(pin ? worker : next++) % sessions.length].request(headers);
      const chunks: Buffer[] = [];
      let failed = false;
      const fail = (code: unknown, message: unknown) => {
        failed = true;
        reject(new Error(`grpc-status ${code}: ${message}`));
      };
      // A trailers-only response (an error before any message) carries grpc-status in its headers.
      stream.on('response', (head) => {
        if (head['grpc-status'] !== undefined && Number(head['grpc-status']) !== 0)
          fail(head['grpc-status'], head['grpc-message']);
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', (trailers) => {
        const code = Number(trailers['grpc-status']);
        if (code !== 0) fail(code, trailers['grpc-message']);
      });
      stream.on('end', () => failed || resolve(Buffer.concat(chunks).subarray(5)));
      stream.on('error', reject);
      stream.end(frame);
    });
  return { call, close: () => sessions.forEach((s) => s.close()) };
}

interface BurstPlan {
  /** Calls to make in all (Infinity with a deadline). */
  calls: number;
  /** performance.now() after which no new call starts. */
  deadline?: number;
  concurrency: number;
  tolerateErrors?: boolean;
}

async function burst(call: UnaryCall, plan: BurstPlan) {
  const latencies: number[] = [];
  let responseBytes = 0;
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stop = false;
  const worker = async (index: number) => {
    while (!stop && next < plan.calls && (plan.deadline === undefined || performance.now() < plan.deadline)) {
      next++;
      const started = performance.now();
      try {
        const response = await call(index);
        latencies.push(performance.now() - started);
        responseBytes = response.length;
      } catch (error) {
        if (!plan.tolerateErrors) throw error;
        errors++;
        firstError ??= String((error as Error)?.message ?? error);
        if (errors >= 100 && errors > latencies.length) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, (_, i) => worker(i)));
  return { latencies, responseBytes, errors, firstError };
}

/**
 * Starts a probe process (a call every `intervalMs`, overlapping if one is
 * slow) for one round. It runs apart from this process, whose event loop is
 * busy sending the load and would delay the probe's own timing.
 */
async function startProbing(address: string, probe: LoadProbe): Promise<{ stop: () => Promise<ProbeReport> }> {
  const child = fork(fileURLToPath(new URL('./probe-process.js', import.meta.url)));
  const order: ProbeOrder = { address, path: probe.path, request: probe.request, intervalMs: probe.intervalMs };
  await new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.send(order);
  });
  return {
    stop: () =>
      new Promise<ProbeReport>((resolve) => {
        child.once('message', (report: ProbeReport) => resolve(report));
        child.send('stop');
      }),
  };
}

function unary(client: grpc.Client, path: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      (error, response) => (error ? reject(error) : resolve(response!)),
    ),
  );
}
