import type { ModelBatchingOptions } from '../../core/options/batching-options.interface.js';
import type { OnnxModelOptions } from './onnx-model-options.interface.js';

/**
 * Which versions of a model the repository serves, as Triton's version
 * policies: the `latest` N (by number), `all`, or `specific` ones. A model
 * serves at most 16 versions at once. Versions are directory names of
 * digits, from 1 to 9223372036854775807 (int64), without leading zeros,
 * compared exactly; other digit names (`007`, `0`, larger numbers) are
 * ignored with a warning, and listed by OIP `RepositoryIndex` as UNAVAILABLE
 * with the reason.
 */
export type OnnxVersionPolicy = { latest: number } | 'all' | { specific: readonly string[] };

/** Options of `OnnxModule.repository()`; a model's `config.json` overrides them for that model. */
export interface OnnxRepositoryOptions extends OnnxModelOptions {
  /** @default { latest: 1 } */
  versionPolicy?: OnnxVersionPolicy;
  /**
   * Batching overrides for every model, or `false`. Bounded as in
   * `config.json`: `maxBatchSize` and `maxQueueSize` at most 65536,
   * `maxConcurrentBatches` at most 64, `batchTimeoutMs` at most 60000.
   */
  batching?: ModelBatchingOptions;
  /**
   * Read the directory again every this many milliseconds and roll out what
   * changed: new versions (or new files in a version's directory) load, warm
   * up with one inference and are swapped in before what they replace is
   * unloaded; removed ones unload once their calls end; a file that fails to
   * load leaves its model as it was. `0`: read once, at startup; otherwise
   * from 10 to 2147483647 (the longest delay a timer keeps).
   * @default 0
   */
  pollIntervalMs?: number;
  /**
   * Let clients load and unload models with OIP's `RepositoryModelLoad` and
   * `RepositoryModelUnload`. Those calls run through the microservice's
   * global guards, and only while at least one applies: with none, every
   * load and unload is refused (`PERMISSION_DENIED`) and the server warns
   * once at startup. Protect them with `RepositoryControlGuard.withToken(...)`
   * or a guard of your own that checks `isRepositoryControlCall(context)`. In
   * a hybrid app, the app's global guards reach them only with
   * `connectMicroservice(..., { inheritAppConfig: true })`.
   * @default false
   */
  control?: boolean;
}

/**
 * `<repository>/<model>/config.json`, all optional: settings of one model.
 * At most 64 KiB. Unknown keys (named with the closest known one), values
 * of the wrong type and out-of-bounds settings (e.g. `instances` above 64)
 * fail startup; on a repository read while serving, the versions they would
 * serve are reported (logged once, health NOT_SERVING, OIP `RepositoryIndex`
 * UNAVAILABLE with the reason) and what served keeps serving. Versions may
 * be given as whole numbers (`"defaultVersion": 2`) up to 9007199254740991,
 * past which JSON numbers lose digits; numbers are never given as strings.
 *
 * @example
 * ```json
 * { "instances": 2, "defaultVersion": "3", "versionPolicy": { "latest": 2 }, "description": "Iris species" }
 * ```
 */
export interface OnnxRepositoryModelConfig {
  /** Instances of each served version, from 1 to 64. @default the repository option's, else 1 */
  instances?: number;
  /** Batching overrides, or `false`; bounded as the repository option's. */
  batching?: ModelBatchingOptions;
  versionPolicy?: OnnxVersionPolicy;
  /** The version `Predict{Name}` (and OIP calls without a version) use. @default the highest served */
  defaultVersion?: string;
  /** Comment on the rpcs in the generated .proto; at most 1024 characters. */
  description?: string;
}
