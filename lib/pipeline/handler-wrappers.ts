import { isObservable, lastValueFrom } from 'rxjs';
import type { ModelBatcher } from './batching/model-batcher.js';
import type { QueuedCall } from './batching/queued-call.js';
import type { BlazeMetrics } from '../observability/blaze-metrics.js';
import { observableAsIterable } from './stream-source.js';
import { CallStatusError } from '../core/errors/call-status.error.js';

/** A model method as Nest's context creator calls it: `this` is the provider instance. */
export type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * @internal Handler of an unbatched model: times each execution for the
 * metrics, and (for streaming models) keeps a returned Observable a stream.
 * Like every handler wrapper it takes the call as its last argument (see
 * `defineModelArguments`), and calls the method without it.
 *
 * NOTE: Nest's context creator resolves an Observable result to its last
 * value, which is right for unary calls but would swallow a stream, so a
 * streaming handler's Observable travels as an AsyncIterable instead.
 */
export function timedHandler(
  method: Method,
  model: string,
  streaming: boolean,
  metrics: BlazeMetrics,
  timesExecutions = true,
): Method {
  return carryingMetadataOf(method, function (this: unknown, ...args: unknown[]) {
    args.pop();
    const started = performance.now();
    const record = () =>
      metrics.recordExecution(model, 1, timesExecutions ? (performance.now() - started) / 1000 : undefined);
    let result: unknown;
    try {
      result = method.apply(this, args);
    } catch (error) {
      throw callEndingCause(error);
    }
    if (streaming && isObservable(result)) return observableAsIterable(result);
    if (result instanceof Promise) {
      return result.then(
        (value) => (record(), value),
        (error) => {
          record();
          throw callEndingCause(error);
        },
      );
    }
    record();
    return result;
  });
}

/**
 * @internal Handler of a batched model: what the pipes produced for this
 * request joins the batch queue with its call (the last argument), and the request's share of the batch result
 * comes back through the interceptors like any result.
 */
export function batchingHandler(method: Method, batcher: ModelBatcher): Method {
  return carryingMetadataOf(method, (...args: unknown[]) => {
    const call = args.pop() as QueuedCall;
    return batcher.submit(args, call);
  });
}

/** Runs the real method once on a batch's merged arguments. */
export async function executeOnce(method: Method, instance: unknown, args: unknown[]): Promise<unknown> {
  const result = await method.apply(instance, args);
  return isObservable(result) ? lastValueFrom(result) : result;
}

/**
 * A handler that stops because its call was cancelled or expired (an
 * `AbortError` from `setTimeout(ms, v, { signal })`, `fetch`, ...) rethrows
 * the call's own status: an expected end, which Nest's exception filter does
 * not log as an error, and which exception filters see as what it is.
 */
function callEndingCause(error: unknown): unknown {
  const cause = (error as { name?: unknown; cause?: unknown } | null)?.cause;
  return (error as { name?: unknown } | null)?.name === 'AbortError' && cause instanceof CallStatusError
    ? cause
    : error;
}

/** Nest reads guard, interceptor, pipe and filter metadata off the handler function, so wrappers carry the method's. */
function carryingMetadataOf(method: Method, wrapper: Method): Method {
  for (const key of Reflect.getOwnMetadataKeys(method)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, method), wrapper);
  }
  Object.defineProperty(wrapper, 'name', { value: method.name });
  return wrapper;
}
