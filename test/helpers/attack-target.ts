import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, constants } from 'node:http2';
import { readFileSync } from 'node:fs';
import { HealthClient } from './health-client.js';
import { bytesField, field } from './protobuf-pieces.js';
import { repositoryRootHolding } from './repository-root.js';
import { sleep } from './time.js';

const SCRIPT = 'test/fixtures/attack/attack-target.main.ts';

/** The heap a pod with a 512 MiB memory limit gives Node. */
export const SMALL_HEAP_MB = 384;

/** The repository root, from the sources (tests) or from dist/ (the benches); the process always runs from its TypeScript source. */
const ROOT = repositoryRootHolding(SCRIPT, import.meta.url);

/** A real server process of the attack target app (test/fixtures/attack), with a small heap. */
export interface AttackTarget {
  readonly address: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code or signal once the process ends. */
  readonly exited: Promise<string>;
  /** Everything the process wrote to stdout and stderr so far (its logs). */
  output(): string;
  /** Resident set size now, in MB. */
  rssMb(): number;
  alive(): boolean;
  stop(): Promise<string>;
}

/**
 * Starts the attack target and resolves once it serves. `root` runs it from
 * another checkout of the project (the bench measures an older release that way).
 */
export async function startAttackTarget(env: Record<string, string> = {}, root = ROOT): Promise<AttackTarget> {
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${SMALL_HEAP_MB}`, '--import', '@swc-node/register/esm-register', SCRIPT],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let ended: string | undefined;
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = signal ?? String(code);
      resolve(ended);
    }),
  );
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (\d+)/.exec(output);
      if (ready) resolve(Number(ready[1]));
    });
    void exited.then((how) => reject(new Error(`attack target exited (${how}) before it was ready:\n${output}`)));
  });
  return {
    address: `127.0.0.1:${port}`,
    process: child,
    exited,
    output: () => output,
    rssMb: () => rssMbOf(child.pid!),
    alive: () => ended === undefined,
    stop: () => {
      if (ended === undefined) child.kill('SIGKILL');
      return exited;
    },
  };
}

function rssMbOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Channel options for one client of its own: grpc-js shares connections
 * between clients with equal options unless told not to, and the probes must
 * not ride on the attacker's connection.
 */
export const OWN_CONNECTION: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };

/** A raw client whose messages are bytes as given: attacks write exactly what they mean. */
export function rawClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), {
    ...OWN_CONNECTION,
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
}

export const asIs = (bytes: Buffer) => bytes;

/** Calls `/blazerpc.InferenceService/PredictEcho` with `text`; resolves with the text it answers (or rejects with the status). */
export function echo(client: grpc.Client, text: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      '/blazerpc.InferenceService/PredictEcho',
      asIs,
      asIs,
      field(1, text),
      { deadline: Date.now() + timeoutMs },
      (error, response) => (error ? reject(error) : resolve(bytesField(response!, 1)?.toString() ?? '')),
    ),
  );
}

/** What a target went through while attacked. */
export interface AttackReport<T = unknown> {
  readonly alive: boolean;
  readonly rssBeforeMb: number;
  readonly rssPeakMb: number;
  readonly rssGrowthMb: number;
  /** The slowest health `Check` answer seen, in ms (a failure counts as its time to fail). */
  readonly healthWorstMs: number;
  readonly healthFailures: string[];
  /** Well-behaved echo calls answered correctly, and what went wrong with the others. */
  readonly wellBehavedAnswered: number;
  readonly wellBehavedWrong: string[];
  readonly attackResult: T;
}

/**
 * Runs `attack` against the target for at most `durationMs` (the attack's
 * signal fires then), while, from connections of their own, a health probe
 * checks every 100 ms and a well-behaved client calls `echo` in a loop; RSS
 * is sampled throughout. Resolves once the attack has returned.
 */
export async function underAttack<T>(
  target: AttackTarget,
  attack: (signal: AbortSignal) => Promise<T>,
  { durationMs }: { durationMs: number },
): Promise<AttackReport<T>> {
  const health = new HealthClient(target.address, OWN_CONNECTION);
  const wellBehaved = rawClient(target.address);
  try {
    await health.check('');
    await echo(wellBehaved, 'warm-up');
    const rssBeforeMb = target.rssMb();
    let rssPeakMb = rssBeforeMb;
    let healthWorstMs = 0;
    const healthFailures: string[] = [];
    let wellBehavedAnswered = 0;
    const wellBehavedWrong: string[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), durationMs);
    const sampler = setInterval(() => (rssPeakMb = Math.max(rssPeakMb, target.rssMb() || 0)), 50);
    const probe = (async () => {
      while (!stop.signal.aborted && target.alive()) {
        const started = performance.now();
        try {
          const status = await Promise.race([health.check(''), sleep(1500).then(() => 'no answer in 1.5 s')]);
          if (status !== 'SERVING') healthFailures.push(status);
        } catch (error) {
          healthFailures.push((error as Error).message);
        }
        healthWorstMs = Math.max(healthWorstMs, performance.now() - started);
        await sleep(100);
      }
    })();
    const calls = (async () => {
      for (let i = 0; !stop.signal.aborted && target.alive(); i++) {
        const text = `well-behaved ${i}`;
        try {
          const answer = await echo(wellBehaved, text, 3000);
          if (answer === text) wellBehavedAnswered++;
          else wellBehavedWrong.push(`asked '${text}', got '${answer}'`);
        } catch (error) {
          wellBehavedWrong.push((error as Error).message);
        }
        await sleep(20);
      }
    })();
    let attackResult: T;
    try {
      attackResult = await attack(stop.signal);
    } finally {
      clearTimeout(timer);
      stop.abort();
      await Promise.all([probe, calls]);
      clearInterval(sampler);
    }
    rssPeakMb = Math.max(rssPeakMb, target.rssMb() || 0);
    return {
      alive: target.alive(),
      rssBeforeMb,
      rssPeakMb,
      rssGrowthMb: rssPeakMb - rssBeforeMb,
      healthWorstMs,
      healthFailures,
      wellBehavedAnswered,
      wellBehavedWrong,
      attackResult,
    };
  } finally {
    health.close();
    wellBehaved.close();
  }
}

/** An OIP `ModelInferRequest` for one of the target's string models (`echo` by default): one BYTES element, `text`. */
export function oipEchoRequest(id: string, text: string, model = 'echo', input = 'text'): Buffer {
  const element = Buffer.from(text);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(element.length);
  const tensor = Buffer.concat([field(1, input), field(2, 'BYTES'), Buffer.from([0x1a, 0x01, 0x01])]);
  return Buffer.concat([field(1, model), field(3, id), field(5, tensor), field(7, Buffer.concat([length, element]))]);
}

/** The `id` a `ModelStreamInferResponse` answers (its `infer_response.id`), or its `error_message`. */
export function oipStreamAnswer(response: Buffer): { id?: string; error?: string } {
  const error = bytesField(response, 1);
  if (error) return { error: error.toString() };
  const infer = bytesField(response, 2);
  return { id: infer && bytesField(infer, 3)?.toString() };
}

/** A gRPC message framed as the wire carries it: flags, big-endian length, bytes. */
export function framed(message: Buffer, flags = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(flags, 0);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** How a raw call ended: its status and message, and the response messages' bytes. */
export interface RawCallResult {
  readonly status?: string;
  readonly message: string;
  readonly responses: Buffer[];
}

/**
 * One gRPC call over plain node:http2, with request bytes written exactly as
 * given: what no gRPC library would send, and as fast as the server takes
 * them. `write` resolves once HTTP/2 flow control lets more through.
 */
export function rawGrpcStream(address: string, path: string, { read = true }: { read?: boolean } = {}) {
  const session = connect(`http://${address}`);
  session.on('error', () => undefined);
  const stream = session.request({
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: path,
    [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    [constants.HTTP2_HEADER_TE]: 'trailers',
  });
  const chunks: Buffer[] = [];
  let trailers: Record<string, unknown> = {};
  stream.on('response', (headers) => {
    // A trailers-only answer carries the status in its headers.
    if (headers['grpc-status'] !== undefined) trailers = headers;
  });
  stream.on('trailers', (received) => (trailers = received));
  const reading = () => stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  // Without a reader the stream stays paused: HTTP/2 flow control then holds the server's responses back.
  if (read) reading();
  // A server that dies mid-call resets the stream: the result then has no status.
  stream.on('error', () => undefined);
  const result = new Promise<RawCallResult>((resolve) => {
    const finish = () => {
      session.close();
      resolve({
        status: trailers['grpc-status'] as string | undefined,
        message: decodeURIComponent((trailers['grpc-message'] as string | undefined) ?? ''),
        responses: unframe(Buffer.concat(chunks)),
      });
    };
    stream.once('close', finish);
  });
  return {
    result,
    write(bytes: Buffer): Promise<void> {
      if (stream.write(bytes)) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.once('drain', done);
        stream.once('close', done);
      });
    },
    end(bytes?: Buffer): Promise<RawCallResult> {
      stream.end(bytes);
      return result;
    },
    cancel(): void {
      stream.close(constants.NGHTTP2_CANCEL);
    },
  };
}

/** One raw call: `body` (already framed) in, its status and responses out. */
export function rawGrpcCall(address: string, path: string, body: Buffer): Promise<RawCallResult> {
  return rawGrpcStream(address, path).end(body);
}

function unframe(data: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at + 5 <= data.length;) {
    const length = data.readUInt32BE(at + 1);
    messages.push(data.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}
