import type { ModelBatchingOptions } from '../../interfaces/batching-options.interface.js';
import type { OnnxModelOptions } from './onnx-model-options.interface.js';

/**
 * Which versions of a model the repository serves, as Triton's version
 * policies: the `latest` N (by number), `all`, or `specific` ones.
 */
export type OnnxVersionPolicy = { latest: number } | 'all' | { specific: readonly string[] };

/** Options of `OnnxModule.repository()`; a model's `config.json` overrides them for that model. */
export interface OnnxRepositoryOptions extends OnnxModelOptions {
  /** @default { latest: 1 } */
  versionPolicy?: OnnxVersionPolicy;
  /** Batching overrides for every model, or `false`. */
  batching?: ModelBatchingOptions;
}

/**
 * `<repository>/<model>/config.json`, all optional: settings of one model.
 *
 * @example
 * ```json
 * { "instances": 2, "defaultVersion": "3", "versionPolicy": { "latest": 2 }, "description": "Iris species" }
 * ```
 */
export interface OnnxRepositoryModelConfig {
  instances?: number;
  batching?: ModelBatchingOptions;
  versionPolicy?: OnnxVersionPolicy;
  /** The version `Predict{Name}` (and OIP calls without a version) use. @default the highest served */
  defaultVersion?: string;
  /** Comment on the rpcs in the generated .proto. */
  description?: string;
}
