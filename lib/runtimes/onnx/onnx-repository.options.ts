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
  /**
   * Read the directory again every this many milliseconds and roll out what
   * changed: new versions (or new files in a version's directory) load, warm
   * up with one inference and are swapped in before what they replace is
   * unloaded; removed ones unload once their calls end; a file that fails to
   * load leaves its model as it was. `0`: read once, at startup.
   * @default 0
   */
  pollIntervalMs?: number;
  /**
   * Let clients load and unload models with OIP's `RepositoryModelLoad` and
   * `RepositoryModelUnload`. Those calls run through the microservice's
   * global guards: protect them with one (see `isRepositoryControlCall`).
   * @default false
   */
  control?: boolean;
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
