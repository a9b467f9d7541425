/** What `ServerMetadata` tells about the server. */
export interface OipServerMetadata {
  name: string;
  version: string;
  /** Protocol extensions the server supports, e.g. `'model_repository'`, `'statistics'`. */
  extensions: string[];
}

/** An input or output as a model declares it. */
export interface OipTensorMetadata {
  name: string;
  /** OIP datatype, e.g. `'FP32'`, `'BYTES'`. */
  datatype: string;
  /** Dimensions; `-1` for a variable one. */
  shape: number[];
}

/** What `ModelMetadata` tells about a model. */
export interface OipModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: OipTensorMetadata[];
  outputs: OipTensorMetadata[];
  properties: Record<string, string>;
}

/**
 * The part of Triton's `ModelConfig` every OIP server with the extension
 * fills in (the rest of Triton's config is not read). Datatypes are given by
 * their OIP names (`TYPE_FP32` becomes `'FP32'`, `TYPE_STRING` `'BYTES'`).
 */
export interface OipModelConfig {
  name: string;
  platform: string;
  backend: string;
  /** 0 when the model does not batch; its inputs' dims then include the batch dimension. */
  maxBatchSize: number;
  inputs: OipTensorMetadata[];
  outputs: OipTensorMetadata[];
}

/**
 * A count and the total time it took. `ns` is a bigint because a busy
 * server's cumulative nanoseconds pass 2^53 (about 104 days) and must not lose precision.
 */
export interface OipDuration {
  count: number;
  ns: bigint;
}

/** Cumulative timings of a model's inferences (Triton's `InferStatistics`). */
export interface OipInferStatistics {
  success: OipDuration;
  fail: OipDuration;
  queue: OipDuration;
  computeInput: OipDuration;
  computeInfer: OipDuration;
  computeOutput: OipDuration;
  cacheHit: OipDuration;
  cacheMiss: OipDuration;
}

/** Timings of the batches of one size. */
export interface OipBatchStatistics {
  batchSize: number;
  computeInput: OipDuration;
  computeInfer: OipDuration;
  computeOutput: OipDuration;
}

/** Statistics of one model version, from `ModelStatistics`. */
export interface OipModelStatistics {
  name: string;
  version: string;
  /** When the last inference happened, in milliseconds since the epoch (0 if never). */
  lastInference: number;
  inferenceCount: number;
  executionCount: number;
  inferenceStats: OipInferStatistics;
  batchStats: OipBatchStatistics[];
}

/** A model version in the repository, from `RepositoryIndex`. */
export interface OipRepositoryModel {
  name: string;
  /** Empty when the server lists models without versions. */
  version: string;
  /** E.g. `'READY'`, `'UNAVAILABLE'`, `'LOADING'`. */
  state: string;
  /** Why the model is not ready, when it is not. */
  reason: string;
}
