import { isObservable, type Observable } from 'rxjs';

/** Anything a streaming model may hand back: what it yields, or an Observable/iterable of results. */
export type StreamSource = AsyncIterator<unknown>;

/**
 * Opens the results of a streaming model as one async iterator, so the
 * server can pull a message only when the client can take it (HTTP/2
 * backpressure) and stop the producer with `return()` on cancel.
 * Returns `undefined` when the value is not a stream.
 */
export function openStream(value: unknown): StreamSource | undefined {
  if (isObservable(value)) return observableIterator(value);
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
  return { [Symbol.asyncIterator]: () => observableIterator(source) };
}

/**
 * NOTE: an Observable pushes and cannot be paused, so values it emits faster
 * than the client reads are buffered here. Prefer an async generator for
 * large streams.
 */
function observableIterator(source: Observable<unknown>): StreamSource {
  const buffered: IteratorResult<unknown>[] = [];
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const subscription = source.subscribe({
    next: (value) => push({ done: false, value }),
    error: (error) => {
      failure = { error };
      wake?.();
    },
    complete: () => push({ done: true, value: undefined }),
  });
  function push(result: IteratorResult<unknown>): void {
    buffered.push(result);
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
