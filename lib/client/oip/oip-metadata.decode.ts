import type {
  OipBatchStatistics,
  OipDuration,
  OipInferStatistics,
  OipModelConfig,
  OipModelMetadata,
  OipModelStatistics,
  OipRepositoryModel,
  OipServerMetadata,
  OipTensorMetadata,
} from './oip-metadata.interface.js';

/**
 * @internal Conversions of the metadata rpcs' answers into plain objects:
 * camelCase names, numbers for shapes and counts (which never reach 2^53),
 * bigints for nanosecond totals (which do).
 */

interface TensorMetadataMessage {
  name: string;
  datatype: string;
  shape: (string | number)[];
}

export function serverMetadataFrom(message: {
  name: string;
  version: string;
  extensions: string[];
}): OipServerMetadata {
  return { name: message.name, version: message.version, extensions: [...message.extensions] };
}

export function modelMetadataFrom(message: {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadataMessage[];
  outputs: TensorMetadataMessage[];
  properties?: Record<string, string> | null;
}): OipModelMetadata {
  return {
    name: message.name,
    versions: [...message.versions],
    platform: message.platform,
    inputs: message.inputs.map(tensorMetadataFrom),
    outputs: message.outputs.map(tensorMetadataFrom),
    properties: { ...message.properties },
  };
}

interface ConfigTensorMessage {
  name: string;
  data_type: string | number;
  dims: (string | number)[];
}

export function modelConfigFrom(message: {
  config?: {
    name: string;
    platform: string;
    backend: string;
    max_batch_size: number;
    input: ConfigTensorMessage[];
    output: ConfigTensorMessage[];
  } | null;
}): OipModelConfig {
  const config = message.config ?? { name: '', platform: '', backend: '', max_batch_size: 0, input: [], output: [] };
  const tensor = (t: ConfigTensorMessage): OipTensorMetadata => ({
    name: t.name,
    datatype: oipDatatypeOf(t.data_type),
    shape: t.dims.map(Number),
  });
  return {
    name: config.name,
    platform: config.platform,
    backend: config.backend,
    maxBatchSize: config.max_batch_size,
    inputs: config.input.map(tensor),
    outputs: config.output.map(tensor),
  };
}

type DurationMessage = { count: string; ns: string } | null | undefined;

interface StatisticsMessage {
  name: string;
  version: string;
  last_inference: string;
  inference_count: string;
  execution_count: string;
  inference_stats?: Record<string, DurationMessage> | null;
  batch_stats: ({ batch_size: string } & Record<string, DurationMessage | string>)[];
}

export function modelStatisticsFrom(message: { model_stats: StatisticsMessage[] }): OipModelStatistics[] {
  return message.model_stats.map((stats) => {
    const inference = stats.inference_stats ?? {};
    const inferenceStats: OipInferStatistics = {
      success: durationFrom(inference.success),
      fail: durationFrom(inference.fail),
      queue: durationFrom(inference.queue),
      computeInput: durationFrom(inference.compute_input),
      computeInfer: durationFrom(inference.compute_infer),
      computeOutput: durationFrom(inference.compute_output),
      cacheHit: durationFrom(inference.cache_hit),
      cacheMiss: durationFrom(inference.cache_miss),
    };
    const batchStats: OipBatchStatistics[] = stats.batch_stats.map((batch) => ({
      batchSize: Number(batch.batch_size),
      computeInput: durationFrom(batch.compute_input as DurationMessage),
      computeInfer: durationFrom(batch.compute_infer as DurationMessage),
      computeOutput: durationFrom(batch.compute_output as DurationMessage),
    }));
    return {
      name: stats.name,
      version: stats.version,
      lastInference: Number(stats.last_inference),
      inferenceCount: Number(stats.inference_count),
      executionCount: Number(stats.execution_count),
      inferenceStats,
      batchStats,
    };
  });
}

export function repositoryIndexFrom(message: { models: OipRepositoryModel[] }): OipRepositoryModel[] {
  return message.models.map(({ name, version, state, reason }) => ({ name, version, state, reason }));
}

function tensorMetadataFrom(message: TensorMetadataMessage): OipTensorMetadata {
  return { name: message.name, datatype: message.datatype, shape: message.shape.map(Number) };
}

function durationFrom(message: DurationMessage): OipDuration {
  return { count: Number(message?.count ?? 0), ns: BigInt(message?.ns ?? 0) };
}

/** Triton's `DataType` enum name as the OIP datatype: `TYPE_FP32` is `FP32`, `TYPE_STRING` is `BYTES`. */
function oipDatatypeOf(dataType: string | number): string {
  // An enum value this proto does not know arrives as its number.
  const name = String(dataType);
  if (name === 'TYPE_STRING') return 'BYTES';
  return name.startsWith('TYPE_') ? name.slice('TYPE_'.length) : name;
}
