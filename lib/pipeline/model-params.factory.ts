import type { ParamsFactory } from '../core/nest-internals.js';
import { INPUT_PARAM_TYPE } from '../core/decorators/model-param.metadata.js';
import { CALL_PARAM_TYPE } from './call-argument.js';

/**
 * @internal Resolves `@Input(name)` parameters, and the call argument, from
 * the call arguments Nest's context creator passes around:
 * `[request, context]`, the same pair `switchToRpc().getData()` /
 * `getContext()` return.
 */
export class ModelParamsFactory implements ParamsFactory {
  exchangeKeyForValue(type: number, data: unknown, args: unknown[]): unknown {
    if (type === CALL_PARAM_TYPE) return args[1];
    if (type !== INPUT_PARAM_TYPE || typeof data !== 'string') return undefined;
    return (args[0] as Record<string, unknown>)[data];
  }
}
