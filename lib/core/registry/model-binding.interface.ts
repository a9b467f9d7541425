import type { InstanceWrapper } from '../nest-internals.js';

/** @internal Where a model's handler lives: the provider wrapper and the method. */
export interface ModelBinding {
  readonly wrapper: InstanceWrapper;
  readonly methodName: string;
  /** True when the provider must be resolved per call (request-scoped or transient tree). */
  readonly requestScoped: boolean;
}
