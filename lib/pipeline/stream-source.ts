import { status as GrpcStatus } from '@grpc/grpc-js';
import { isObservable, type Observable } from 'rxjs';
import { CallStatusError } from '../core/errors/call-status.error.js';

/** Anything a streaming model may hand back: what it yields, or an Observable/iterable of results. */
export type StreamSource = AsyncIterator<unknown>;

/** Results an Observable may push ahead of its reader when no bound was given (`limits.maxBufferedResults`'s default). */
const DEFAULT_BUFFERED_RESULTS = 1024;

/**
 * Opens the results of a streaming model as one async iterator, so the
 * server can pull a message only when the client can take it (HTTP/2
 * backpressure) and stop the producer with `return()` on cancel. An
 * Observable, which cannot be paused, may run at most `maxBuffered` results
 * ahead of the reader. Returns `undefined` when the value is not a stream.
 */
export function openStream(value: unknown, maxBuffered = DEFAULT_BUFFERED_RESULTS): StreamSource | undefined {
  if (value instanceof ObservableStream) return value.open(maxBuffered);
  if (isObservable(value)) return observableIterator(value, maxBuffered);
  if (value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return (value as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  }
  if (value && typeof value !== 'string' && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const iterator = (value as Iterable<unknown>)[Symbol.iterator]();
    return {
      next: async () => iterator.next(),
      return: async () => iterator.return?.() ?? { done: true, value: undefined },
    };
  }
  return undefined;
}

/** Wraps an Observable as an AsyncIterable, so Nest's context creator passes it through uncollapsed. */
export function observableAsIterable(source: Observable<unknown>): AsyncIterable<unknown> {
  return new ObservableStream(source);
}

/** An Observable travelling as an AsyncIterable; the server opens it with its own bound, an interceptor with the default. */
class ObservableStream implements AsyncIterable<unknown> {
  constructor(private readonly source: Observable<unknown>) {}

  [Symbol.asyncIterator](): StreamSource {
    return this.open(DEFAULT_BUFFERED_RESULTS);
  }

  open(maxBuffered: number): StreamSource {
    return observableIterator(this.source, maxBuffered);
  }
}

/**
 * NOTE: an Observable pushes and cannot be paused, so values it emits faster
 * than the client reads wait here; past `maxBuffered` of them the stream
 * fails with RESOURCE_EXHAUSTED rather than hold a slow client's backlog.
 * Prefer an async generator for large streams.
 */
function observableIterator(source: Observable<unknown>, maxBuffered: number): StreamSource {
  const buffered: IteratorResult<unknown>[] = [];
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const subscription = source.subscribe({
    next: (value) => {
      if (failure) return;
      if (buffered.length >= maxBuffered) return overflow();
      push({ done: false, value });
    },
    error: (error) => {
      failure ??= { error };
      wake?.();
    },
    // After an overflow the stream ends with its status, even if the Observable completes (a synchronous `from(array)` does at once).
    complete: () => failure || push({ done: true, value: undefined }),
  });
  function push(result: IteratorResult<unknown>): void {
    buffered.push(result);
    wake?.();
  }
  function overflow(): void {
    // What was buffered is dropped with the call: it ends with this status, not with a silently shortened stream.
    buffered.length = 0;
    failure = {
      error: new CallStatusError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `The model's Observable ran more than ${maxBuffered} results ahead of the client (limits.maxBufferedResults)`,
      ),
    };
    // Inside the Observable's own next(): unsubscribing from here must wait for it to return.
    queueMicrotask(() => subscription.unsubscribe());
    wake?.();
  }
  return {
    async next() {
      while (buffered.length === 0 && !failure) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (buffered.length > 0) return buffered.shift()!;
      throw failure!.error;
    },
    async return() {
      subscription.unsubscribe();
      return { done: true, value: undefined };
    },
  };
}
