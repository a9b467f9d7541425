import type { NamedTypeRefs, TypeRef } from '../schema/type-ref.js';
import type { ModelBatchingOptions } from './batching-options.interface.js';

/** Options of `@Model(name, options)`. */
export interface ModelOptions {
  /**
   * Version string; several versions of one model each get
   * `Predict{Name}V{version}`, and the default one also `Predict{Name}`.
   * @default '1'
   */
  version?: string;
  /**
   * Marks this version as the one `Predict{Name}` serves when several exist.
   * @default the highest version
   */
  default?: boolean;
  /**
   * Result type: a type token, or named outputs (one response field each).
   * Needed unless the method's declared return type is `string`, `boolean` or `number`.
   * @example `returns: [Float32]`, `returns: { label: String, score: Float32 }`
   */
  returns?: TypeRef | NamedTypeRefs;
  /**
   * Server streaming: the handler yields (async generator) or returns an
   * Observable/iterable of results, each sent as one response message.
   * @default true for async generator methods, otherwise false
   */
  streaming?: boolean;
  /** Shown as a comment on the rpc in the generated .proto. */
  description?: string;
  /** Batching overrides for this model, or `false` to never batch it. */
  batching?: ModelBatchingOptions;
}
