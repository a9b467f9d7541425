/**
 * Dynamic batching settings. Module-level values are the defaults; a model
 * may override any of them in `@Model(name, { batching })`.
 */
export interface BatchingOptions {
  /**
   * Batch requests at all. `false` serves every model one request at a time.
   * @default true
   */
  enabled?: boolean;
  /**
   * Most requests (or rows, for tensor inputs) one model execution takes.
   * @default 32
   */
  maxBatchSize?: number;
  /**
   * How long the first queued request may wait for others before a partial
   * batch is dispatched, in milliseconds. At 0 a batch leaves as soon as the
   * model has a free instance, taking whatever queued while all were busy
   * (Triton's default); a delay only pays when requests arrive faster than
   * batches finish but would otherwise leave in small batches.
   * @default 0
   */
  batchTimeoutMs?: number;
  /**
   * Learn the batch size that runs the model fastest per row, and cap batches
   * there (never above `maxBatchSize`). Under full load it now and then tries
   * the next power of two up or down for a few batches and keeps whichever
   * costs clearly less per row: a CNN on a CPU can run 4 images at a time
   * faster per image than 32.
   * @default true
   */
  tuneBatchSize?: boolean;
  /**
   * Requests that may wait in one model's queue; beyond it calls are refused
   * with `RESOURCE_EXHAUSTED`.
   * @default 1024
   */
  maxQueueSize?: number;
  /**
   * Batches of one model that may run at once: one per model instance. An
   * `OnnxModule.serve()` model defaults to its `instances`; set it to the
   * instance count of the `OnnxModel` your own handler calls.
   * @default 1
   */
  maxConcurrentBatches?: number;
}

/** Per-model batching: overrides of the module defaults, or `false` to opt out. */
export type ModelBatchingOptions = Omit<BatchingOptions, 'enabled'> | false;
