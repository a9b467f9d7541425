import {
  status as GrpcStatus,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { CallObserver } from './call-observer.js';
import type { CallTracker } from './call-tracker.js';
import type { InflightCall, ModelCall } from './inflight-call.js';
import type { CallFailure, ServedModel } from '../pipeline/served-model.js';

const SHUTTING_DOWN: CallFailure = { code: GrpcStatus.UNAVAILABLE, details: 'Server is shutting down' };

/** @internal What every model call handler needs besides its model. */
export interface CallHandlerContext {
  readonly tracker: CallTracker;
  /** Told of each call's end; absent when nothing (metrics, logs) wants to know. */
  readonly observe?: CallObserver;
}

/** @internal grpc-js handler of a unary model: exactly one answer per call, whatever happens. */
export function createUnaryHandler(model: ServedModel, context: CallHandlerContext): handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    let response: Buffer | undefined;
    const { inflight, finish } = trackCall(model, call, context, (failure) => callback(failure, response));
    if (!inflight) return;
    // NOTE: once a call is cancelled or timed out, what its handler throws next is expected, not a failure to log.
    const fail = (error: unknown) => finish.done || finish(model.failure(error));
    const succeed = (bytes: Buffer) => {
      response = bytes;
      finish();
    };
    try {
      const result = model.runUnary(call.request, call, inflight);
      if (result instanceof Promise) result.then(succeed, fail);
      else succeed(result);
    } catch (error) {
      fail(error);
    }
  };
}

/**
 * @internal grpc-js handler of a streaming model: pulls one result at a time,
 * writes it, and waits for the HTTP/2 window when the client reads slower
 * than the model yields. A cancel or deadline stops the producer (a
 * generator's `finally` runs).
 */
export function createStreamHandler(model: ServedModel, context: CallHandlerContext): handleServerStreamingCall<Buffer, Buffer> {
  return (call) => {
    const { inflight, finish } = trackCall(model, call, context, (failure) => (failure ? call.emit('error', failure) : call.end()));
    if (!inflight) return;
    pump(model, call, inflight).then(
      () => finish(),
      (error) => finish.done || finish(model.failure(error)),
    );
  };
}

/** Ends a call exactly once: sends its status, stops tracking it, tells the observer. */
interface CallFinisher {
  (failure?: CallFailure): void;
  readonly done: boolean;
}

/**
 * Starts tracking a call, and gives the one way to end it. While the server
 * drains, the call is refused at once (`inflight` is then undefined).
 */
function trackCall(
  model: ServedModel,
  call: ModelCall,
  { tracker, observe }: CallHandlerContext,
  send: (failure: CallFailure | null) => void,
): { inflight?: InflightCall; finish: CallFinisher } {
  const started = observe ? performance.now() : 0;
  let done = false;
  const finish = Object.defineProperty(
    (failure?: CallFailure) => {
      if (done) return;
      done = true;
      if (inflight) tracker.end(inflight);
      send(failure ?? null);
      observe?.({ method: model.rpc, peer: call.getPeer(), code: failure?.code ?? GrpcStatus.OK, seconds: (performance.now() - started) / 1000 });
    },
    'done',
    { get: () => done },
  ) as CallFinisher;
  const inflight = tracker.begin(call, (reason) => finish(reason));
  if (!inflight) finish(SHUTTING_DOWN);
  return { inflight, finish };
}

async function pump(model: ServedModel, call: ServerWritableStream<Buffer, Buffer>, inflight: InflightCall): Promise<void> {
  const { signal } = inflight;
  const { source, encode } = await model.openStream(call.request, call, inflight);
  const stop = () => void source.return?.().catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  try {
    while (!signal.aborted) {
      const next = await source.next();
      if (next.done || signal.aborted) break;
      if (!call.write(encode(next.value))) await drained(call, signal);
    }
  } catch (error) {
    await source.return?.().catch(() => undefined);
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function drained(call: ServerWritableStream<Buffer, Buffer>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
