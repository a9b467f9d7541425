import { ExecutionContextHost, type PreRequestHook } from '../core/nest-internals.js';
import { defer, isObservable, lastValueFrom, mergeMap, of, type Observable } from 'rxjs';
import type { BlazeContext } from '../core/context/blaze-context.js';
import type { ModelRequest } from './model-request.js';

type Invoke = (request: ModelRequest, context: BlazeContext) => unknown;

/**
 * @internal Runs the microservice's global pre-request hooks
 * (`ms.registerPreRequestHook()`) around a model call, before its guards, as
 * Nest's own transports do: each hook gets the call's `'rpc'` execution
 * context and a `next()` that runs the rest. Typical use: entering an
 * AsyncLocalStorage scope every enhancer and the handler can read.
 */
export function withPreRequestHooks(
  hooks: readonly PreRequestHook[],
  classRef: object,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- the handler as Nest's ExecutionContext.getHandler() types it
  handler: Function,
  invoke: Invoke,
): Invoke {
  if (hooks.length === 0) return invoke;
  return (request, context) => {
    const execution = new ExecutionContextHost([request, context], classRef as never, handler as never);
    execution.setType('rpc');
    let index = 0;
    // The hooks see the call's value, so an Observable an exception filter answered with is flattened here.
    const next = (): Observable<unknown> =>
      index < hooks.length
        ? hooks[index++]!(execution, next)
        : defer(async () => invoke(request, context)).pipe(
            mergeMap((result) => (isObservable(result) ? result : of(result))),
          );
    return lastValueFrom(next());
  };
}
