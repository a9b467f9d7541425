import {
  status as GrpcStatus,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { CallObserver } from './call-observer.js';
import type { CallTracker } from './call-tracker.js';
import type { InflightCall } from './inflight-call.js';
import type { CallFailure, ServedModel } from './served-model.js';

const SHUTTING_DOWN: CallFailure = { code: GrpcStatus.UNAVAILABLE, details: 'Server is shutting down' };

/** @internal What every model call handler needs besides its model. */
export interface CallHandlerContext {
  readonly tracker: CallTracker;
  /** Told of each call's end; absent when nothing (metrics, logs) wants to know. */
  readonly observe?: CallObserver;
}

/** @internal grpc-js handler of a unary model: exactly one answer per call, whatever happens. */
export function createUnaryHandler(model: ServedModel, { tracker, observe }: CallHandlerContext): handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    const started = observe ? performance.now() : 0;
    let answered = false;
    const answer = (failure: CallFailure | null, response?: Buffer) => {
      if (answered) return;
      answered = true;
      if (inflight) tracker.end(inflight);
      callback(failure, response);
      observe?.({ method: model.rpc, peer: call.getPeer(), code: failure?.code ?? GrpcStatus.OK, seconds: (performance.now() - started) / 1000 });
    };
    const inflight = tracker.begin(call, (reason) => answer(reason));
    if (!inflight) return answer(SHUTTING_DOWN);
    // NOTE: once a call is cancelled or timed out, what its handler throws next is expected, not a failure to log.
    const fail = (error: unknown) => answered || answer(model.failure(error));
    try {
      const response = model.runUnary(call.request, call, inflight);
      if (response instanceof Promise) response.then((bytes) => answer(null, bytes), fail);
      else answer(null, response);
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
export function createStreamHandler(model: ServedModel, { tracker, observe }: CallHandlerContext): handleServerStreamingCall<Buffer, Buffer> {
  return (call) => {
    const started = observe ? performance.now() : 0;
    let ended = false;
    const end = (failure?: CallFailure) => {
      if (ended) return;
      ended = true;
      if (inflight) tracker.end(inflight);
      if (failure) call.emit('error', failure);
      else call.end();
      observe?.({ method: model.rpc, peer: call.getPeer(), code: failure?.code ?? GrpcStatus.OK, seconds: (performance.now() - started) / 1000 });
    };
    const inflight = tracker.begin(call, (reason) => end(reason));
    if (!inflight) return end(SHUTTING_DOWN);
    pump(model, call, inflight).then(
      () => end(),
      (error) => ended || end(model.failure(error)),
    );
  };
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
