import type { Writable } from 'node:stream';
import { CALL_ENDED, type CallWatch } from './call-watch.js';

/**
 * @internal Writes one request message. When grpc-js's send buffer is full
 * (`write()` returned false, i.e. HTTP/2 flow control holds messages back
 * because the server reads slower than we write), waits for 'drain', so a fast
 * producer cannot queue unbounded memory. Resolves false when the call ended
 * instead: the message was not sent.
 */
export async function writeMessage(call: Writable, message: object, watch: CallWatch): Promise<boolean> {
  if (watch.outcome) return false;
  if (call.write(message)) return true;
  const drained = await watch.untilEnded(new Promise<void>((resolve) => call.once('drain', resolve)));
  return drained !== CALL_ENDED && !watch.outcome;
}

/**
 * @internal Sends every message of `messages` (pulling the next one only once
 * the previous is accepted), then half-closes. Returns early, without
 * half-closing, when the call ends first: a server may answer (or fail)
 * before it has read everything, and a source that stalls must not hold the
 * caller past the call's deadline or cancellation. Errors of the source or of
 * `encode` propagate; the caller cancels the call.
 */
export async function writeAll<T>(
  call: Writable,
  messages: Iterable<T> | AsyncIterable<T>,
  encode: (message: T) => object,
  watch: CallWatch,
): Promise<void> {
  const source: Iterator<T> | AsyncIterator<T> =
    Symbol.asyncIterator in messages ? messages[Symbol.asyncIterator]() : messages[Symbol.iterator]();
  let exhausted = false;
  try {
    for (;;) {
      const next = await watch.untilEnded(Promise.resolve(source.next()));
      if (next === CALL_ENDED) return;
      if (next.done) {
        exhausted = true;
        break;
      }
      if (!(await writeMessage(call, encode(next.value), watch))) return;
    }
  } finally {
    if (!exhausted) stop(source);
  }
  call.end();
}

/** Tells a source we stopped early, so a generator runs its `finally` and a stream (e.g. stdin) is released; not awaited, as it may be stalled. */
function stop(source: Iterator<unknown> | AsyncIterator<unknown>): void {
  try {
    void Promise.resolve(source.return?.()).catch(() => undefined);
  } catch {
    // A source that fails while stopping has nothing more to tell us.
  }
}
