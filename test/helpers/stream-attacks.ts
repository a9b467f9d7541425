import type * as grpc from '@grpc/grpc-js';
import { asIs, framed, oipEchoRequest, oipStreamAnswer, rawClient, rawGrpcStream } from './attack-target.js';
import { field } from './protobuf-pieces.js';
import { sleep } from './time.js';

/** An attack as `underAttack` runs it: it stops when `signal` fires, and resolves with what it saw. */
export type Attack<T> = (signal: AbortSignal) => Promise<T>;

/** What a flood sent, and (when it read them) the answers it got, in order. */
export interface FloodResult {
  readonly sent: number;
  /** Bytes the server took (flow control let through). */
  readonly sentBytes: number;
  /** For each answer in order: the request id it answers, or `error: ...`. Undefined when the flood did not read. */
  readonly answers?: string[];
  /** A message's answer, when the model answers a whole stream once. */
  readonly lastAnswer?: Buffer;
}

export const MODEL_STREAM_INFER = '/inference.GRPCInferenceService/ModelStreamInfer';

/**
 * OIP `ModelStreamInfer` requests for `model` (one BYTES input `input`)
 * written as fast as the server takes them until stopped; with `read`, every
 * response is read and the stream half-closed at the end, else none is read
 * and the call cancelled.
 */
export function modelStreamInferFlood(
  address: string,
  {
    read,
    model = 'echo',
    input = 'text',
    text = 'x',
  }: { read: boolean; model?: string; input?: string; text?: string },
): Attack<FloodResult> {
  return async (signal) => {
    const client = rawClient(address);
    const call = client.makeBidiStreamRequest(MODEL_STREAM_INFER, asIs, asIs);
    const answers: string[] = [];
    let lastAnswer: Buffer | undefined;
    const ended = new Promise<void>((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    ended.catch(() => undefined);
    if (read) {
      call.on('data', (response: Buffer) => {
        const { id, error } = oipStreamAnswer(response);
        answers.push(error === undefined ? (id ?? '') : `error: ${error}`);
        lastAnswer = response;
      });
    }
    try {
      let sentBytes = 0;
      const sent = await floodWrites(
        call,
        (i) => {
          const request = oipEchoRequest(String(i), text, model, input);
          sentBytes += request.length;
          return request;
        },
        signal,
      );
      if (!read) {
        call.cancel();
        return { sent, sentBytes };
      }
      call.end();
      await ended;
      return { sent, sentBytes, answers, lastAnswer };
    } finally {
      client.close();
    }
  };
}

/** A bidirectional BlazeRPC model called with `message` as fast as the server takes it, never reading a response. */
export function unreadBidiFlood(address: string, path: string, message: Buffer): Attack<FloodResult> {
  return async (signal) => {
    const client = rawClient(address);
    const call = client.makeBidiStreamRequest(path, asIs, asIs);
    call.on('error', () => undefined);
    try {
      const sent = await floodWrites(call, () => message, signal);
      call.cancel();
      return { sent, sentBytes: sent * message.length };
    } finally {
      client.close();
    }
  };
}

/**
 * A stream of up to `count` copies of `message`, packed 8,192 to a write as
 * an attacker would send them (grpc-js's own client could not keep up), as
 * fast as the server takes them until stopped, then half-closed; resolves
 * with the status and the responses. With `read: false` no response is
 * read, and the call is cancelled once the sending stops.
 */
export function packedStream(
  address: string,
  path: string,
  message: Buffer,
  { count = Infinity, read = true } = {},
): Attack<PackedResult> {
  return async (signal) => {
    const perWrite = 8192;
    const chunk = Buffer.concat(Array.from({ length: perWrite }, () => framed(message)));
    const call = rawGrpcStream(address, path, { read });
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    let sent = 0;
    while (sent < count && !signal.aborted) {
      // A write the server never makes room for waits until the attack stops.
      await Promise.race([call.write(chunk), stopped]);
      if (!signal.aborted) sent += perWrite;
    }
    const sentBytes = sent * (message.length + 5);
    if (!read) {
      // What the server took is far more than it answers in a moment: the call is given up, as such a client would.
      call.cancel();
      return { sent, sentBytes, responses: 0 };
    }
    const { status, responses } = await call.end();
    return { sent, sentBytes, status, responses: responses.length, lastAnswer: responses.at(-1) };
  };
}

/** What a packed stream sent and got back. */
export interface PackedResult extends FloodResult {
  readonly status?: string;
  /** How many responses it got. */
  readonly responses: number;
}

/** A server-streaming call whose responses are not read for `unreadMs`, then read to the end; resolves with its status. */
export function unreadServerStream(
  address: string,
  path: string,
  request: Buffer,
  unreadMs: number,
): Attack<grpc.StatusObject | undefined> {
  return async (signal) => {
    const client = rawClient(address);
    const call = client.makeServerStreamRequest(path, asIs, asIs, request);
    call.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    try {
      await sleep(unreadMs);
      if (signal.aborted) return undefined;
      call.on('data', () => undefined);
      return await status;
    } finally {
      client.close();
    }
  };
}

/** A string-field message: what the target's string models take. */
export const word = (text: string) => field(1, text);

/** Writes `next(i)` messages as fast as the server takes them until `signal` fires or `max` are sent; resolves with the count. */
export async function floodWrites(
  call: grpc.ClientWritableStream<Buffer>,
  next: (index: number) => Buffer,
  signal: AbortSignal,
  max = Infinity,
): Promise<number> {
  let sent = 0;
  while (!signal.aborted && sent < max) {
    if (!call.write(next(sent++))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          call.off('drain', done);
          resolve();
        };
        call.once('drain', done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
  return sent;
}

/** `concurrency` calls of `request` at once on one connection, each repeated until stopped; resolves with the calls made. */
export function concurrentUnaryCalls(
  address: string,
  path: string,
  request: Buffer,
  concurrency: number,
): Attack<FloodResult> {
  return async (signal) => {
    const client = rawClient(address);
    let sent = 0;
    const loop = async () => {
      while (!signal.aborted) {
        await new Promise<void>((resolve) =>
          client.makeUnaryRequest(path, asIs, asIs, request, { deadline: Date.now() + 20_000 }, () => resolve()),
        );
        sent++;
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, loop));
      return { sent, sentBytes: sent * request.length };
    } finally {
      client.close();
    }
  };
}
