import type { ExecutionContext } from '@nestjs/common';
import type { BlazeContext } from '../context/blaze-context.js';
import { recordCustomArg, recordModelParam } from './model-param.metadata.js';

/** A per-call dependency: receives the call's context, returns (or resolves to) the value to inject. */
export type Dependency<T = unknown> = (ctx: BlazeContext) => T | Promise<T>;

/**
 * Injects `fn(ctx)` (sync or async), resolved per call after guards and
 * interceptors, before the handler. What `fn` throws aborts the call with the
 * mapped status (e.g. `UnauthorizedException` -> `UNAUTHENTICATED`).
 * Never a request field. A model that takes it runs unbatched.
 *
 * @example
 * ```ts
 * const currentUser: Dependency<User> = (ctx) => users.byToken(ctx.metadata.get('authorization')[0]);
 * secure(@Input('text') text: string, @Depends(currentUser) user: User) {}
 * ```
 */
export function Depends<T>(fn: Dependency<T>): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) return;
    recordModelParam(target, key, { kind: 'depends', index, dependency: fn.name || 'anonymous' });
    recordCustomArg(target, key, index, 'blazerpc:depends', fn, (dependency, context: ExecutionContext) =>
      dependency(context.switchToRpc().getContext<BlazeContext>()),
    );
  };
}
