import { ConfigurationError } from '../../core/errors/configuration.error.js';
import { Input } from '../../core/decorators/input.decorator.js';
import { Model } from '../../core/decorators/model.decorator.js';
import { FIELD_NAME_PATTERN, isProtoKeyword } from '../../core/schema/proto-naming.js';
import { Tensor } from '../../core/tensor/tensor.js';
import type { TensorSpec } from '../../core/tensor/tensor-spec.js';
import type { OnnxValueInfo } from './onnx-model-options.interface.js';
import type { OnnxModel } from './onnx-model.js';
import type { OnnxServeOptions } from './onnx-module-options.interface.js';
import type { ModelBatchingOptions } from '../../core/options/batching-options.interface.js';
import type { BlazeMetrics } from '../../observability/blaze-metrics.js';
import { markTimedByRuntime } from '../../observability/runtime-timed.metadata.js';

/** A graph input or output as a request/response field. */
interface EndpointField {
  readonly fieldName: string;
  readonly spec: TensorSpec;
}

/**
 * @internal Builds a provider instance whose one `@Model()` method serves an
 * ONNX model, with its fields, dtypes and shapes read from the session's
 * metadata: a dynamic first dimension becomes `'batch'`, several outputs
 * become named response fields.
 */
export function createOnnxEndpoint(
  name: string,
  model: OnnxModel,
  options: OnnxServeOptions & { default?: boolean } = {},
  metrics?: BlazeMetrics,
): object {
  const inputs = model.inputs.map((info) => toField(info, name, 'input'));
  const outputs = model.outputs.map((info) => toField(info, name, 'output'));
  const inputNames = model.inputNames;
  const outputNames = model.outputNames;
  const fieldNames = outputs.map((o) => o.fieldName);

  class OnnxEndpoint {
    async predict(...tensors: Tensor[]): Promise<Tensor | Record<string, Tensor>> {
      // The request's tensors (or the batch merged from them) are not read after this call, so they move to the worker.
      const { outputs: results, runMs } = await model.run(
        Object.fromEntries(inputNames.map((input, i) => [input, tensors[i]])),
        true,
      );
      metrics?.recordInferenceDuration(name, runMs / 1000);
      if (outputNames.length === 1) return results[outputNames[0]];
      return Object.fromEntries(outputNames.map((output, i) => [fieldNames[i], results[output]]));
    }
  }
  Object.defineProperty(OnnxEndpoint, 'name', { value: `OnnxEndpoint(${name})` });
  const prototype = OnnxEndpoint.prototype;
  inputs.forEach((input, index) => Input(input.fieldName, input.spec)(prototype, 'predict', index));
  const returns =
    outputs.length === 1 ? outputs[0].spec : Object.fromEntries(outputs.map((o) => [o.fieldName, o.spec]));
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'predict')!;
  markTimedByRuntime(prototype.predict);
  Model(name, {
    returns,
    version: options.version,
    default: options.default,
    batching: batchingFor(model, options.batching),
    description: options.description ?? `ONNX model ${model.sourceName}`,
  })(prototype, 'predict', descriptor);
  return new OnnxEndpoint();
}

/**
 * One batch per instance at a time (the contract's default), so batches form
 * while every instance is busy. `batching: false` still goes through the
 * model's queue, one request per execution: calls wait there for a free
 * instance (counted as queue wait, bounded by `maxQueueSize`, left when
 * cancelled), never inside the model.
 */
function batchingFor(model: OnnxModel, batching: ModelBatchingOptions | undefined): ModelBatchingOptions {
  const perInstance = { maxConcurrentBatches: model.instances };
  return batching === false ? { ...perInstance, maxBatchSize: 1 } : { ...perInstance, ...batching };
}

function toField(info: OnnxValueInfo, model: string, kind: 'input' | 'output'): EndpointField {
  if (!info.dtype) {
    throw new ConfigurationError(
      `OnnxModule.serve('${model}'): ${kind} '${info.name}' is not a tensor of a type TensorProto carries; ` +
        'write a @Model() handler that converts it instead.',
    );
  }
  const shape = info.shape.map((dim, axis) => {
    const dynamic = typeof dim === 'string' || dim < 0;
    if (!dynamic) return dim;
    if (axis === 0) return 'batch';
    return typeof dim === 'string' ? toIdentifier(dim) : `dim${axis}`;
  });
  return { fieldName: toIdentifier(info.name), spec: Tensor.of(info.dtype, shape) };
}

/** ONNX names may hold `.`, `:` or `/`; proto field names may not. */
function toIdentifier(name: string): string {
  let id = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (!FIELD_NAME_PATTERN.test(id)) id = `_${id}`;
  return isProtoKeyword(id) ? `${id}_` : id;
}
