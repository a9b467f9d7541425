import type { DurationTotal, InferenceStatistics } from '../../observability/inference-statistics.js';
import { tritonDataType } from '../shared/oip-datatype.js';
import type { OipModels, OipServedModel } from './oip-models.js';
import type { OipTensorSignature } from './oip-signature.js';

/** The platform OIP reports for every model: handlers are Nest providers, whatever runs inside. */
const PLATFORM = 'nestjs';

/** `ModelMetadataResponse`: the model's versions and its inputs and outputs as OIP tensors. */
export function modelMetadataOf(model: OipServedModel, versions: string[]): object {
  const { descriptor, signature } = model;
  const tensors = (list: readonly OipTensorSignature[]) =>
    list.map(({ name, datatype, shape }) => ({ name, datatype, shape: [...shape] }));
  const unsupported = 'unsupported' in signature;
  return {
    name: descriptor.name,
    versions,
    platform: PLATFORM,
    inputs: unsupported ? [] : tensors(signature.inputs),
    outputs: unsupported ? [] : tensors(signature.outputs),
    properties: {
      ...(descriptor.description ? { description: descriptor.description } : {}),
      ...(descriptor.streaming ? { streaming: 'true' } : {}),
      ...(unsupported ? { unsupported: signature.unsupported } : {}),
    },
  };
}

/**
 * Triton's `ModelConfig`, minimal: name, platform, max_batch_size, inputs and
 * outputs. As in Triton, a batched model (every tensor input starting with a
 * symbolic batch dimension) reports `max_batch_size` > 0 and dims without
 * that dimension; any other model reports 0 and its full shapes.
 */
export function modelConfigOf(model: OipServedModel): object {
  const { descriptor, signature } = model;
  if ('unsupported' in signature)
    return { name: descriptor.name, platform: PLATFORM, backend: PLATFORM, max_batch_size: 0, input: [], output: [] };
  const tensors = [...signature.inputs, ...signature.outputs];
  const batched =
    descriptor.batching !== undefined &&
    descriptor.batchPlan !== undefined &&
    tensors.every((tensor) => tensor.field.type.kind === 'tensor' && tensor.shape[0] === -1);
  const dims = (shape: readonly number[]) => (batched ? shape.slice(1) : [...shape]);
  return {
    name: descriptor.name,
    platform: PLATFORM,
    backend: PLATFORM,
    max_batch_size: batched ? descriptor.batching!.maxBatchSize : 0,
    input: signature.inputs.map(({ name, datatype, shape }) => ({
      name,
      data_type: tritonDataType(datatype),
      dims: dims(shape),
    })),
    output: signature.outputs.map(({ name, datatype, shape }) => ({
      name,
      data_type: tritonDataType(datatype),
      dims: dims(shape),
    })),
  };
}

/**
 * Triton's `ModelStatistics` for one model (`name`, and `version` or the
 * default one) or, with an empty name, every model. The counters are kept
 * per model name (see `InferenceStatistics`), reported under the version asked
 * for, or the default one.
 */
export function modelStatisticsOf(
  models: OipModels,
  statistics: InferenceStatistics,
  name: string,
  version: string,
): object[] {
  const chosen =
    name === '' ? models.all().filter((model) => model.descriptor.isDefault) : [models.find(name, version)];
  return chosen.map(({ descriptor }) => {
    const stats = statistics.of(descriptor.name);
    const duration = ({ count, ns }: DurationTotal) => ({ count, ns });
    const zero = { count: 0, ns: 0 };
    return {
      name: descriptor.name,
      version: descriptor.version,
      last_inference: stats.lastInference,
      inference_count: stats.inferenceCount,
      execution_count: stats.executionCount,
      inference_stats: {
        success: duration(stats.success),
        fail: duration(stats.fail),
        queue: duration(stats.queue),
        compute_input: zero,
        compute_infer: duration(stats.computeInfer),
        compute_output: zero,
        cache_hit: zero,
        cache_miss: zero,
      },
      batch_stats: [],
    };
  });
}
