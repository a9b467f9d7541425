import type { ExecutionContext } from '@nestjs/common';
import { recordCustomArg, recordModelParam } from './model-param.metadata.js';

/**
 * Injects the call's `BlazeContext` (metadata, peer, method, deadline, abort
 * signal). Never a request field. A model that takes it runs unbatched.
 *
 * @example
 * ```ts
 * @Model('info')
 * info(@Ctx() ctx: BlazeContext) { return `${ctx.method} from ${ctx.peer}`; }
 * ```
 */
export function Ctx(): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) return;
    recordModelParam(target, key, { kind: 'context', index });
    recordCustomArg(target, key, index, 'blazerpc:ctx', undefined, (_data, context: ExecutionContext) =>
      context.switchToRpc().getContext(),
    );
  };
}
