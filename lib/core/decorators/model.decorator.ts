import { MODEL_METADATA } from '../blaze-rpc.constants.js';
import type { ModelOptions } from '../options/model-options.interface.js';

/** @internal What `@Model()` stores on the method. */
export interface ModelMetadata {
  readonly name: string;
  readonly options: ModelOptions;
}

/**
 * Serves this provider method as a model endpoint: `rpc Predict{Name}`.
 * Works on any provider or controller, singleton or request-scoped; Nest
 * guards, interceptors, pipes and filters apply as on any handler.
 *
 * @example
 * ```ts
 * @Model('sentiment', { version: '2', returns: [Float32] })
 * predict(@Input('text', [String]) text: string[]): number[] { ... }
 * ```
 */
export function Model(name: string, options: ModelOptions = {}): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(MODEL_METADATA, { name, options } satisfies ModelMetadata, descriptor.value as object);
    return descriptor;
  };
}
