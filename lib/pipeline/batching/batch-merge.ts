import { InferenceError } from '../../core/errors/inference.error.js';
import { DTYPE_STORAGE } from '../../core/tensor/tensor-dtype.js';
import { bytesOf, Tensor } from '../../core/tensor/tensor.js';
import { allocateTensorBuffer } from '../../core/tensor/tensor-buffers.js';
import { tensorCopyStats } from '../../core/tensor/tensor-copy-stats.js';
import type { BatchPlan } from '../../core/schema/batch-plan.interface.js';

/** A model's response fields: one unnamed `result`, or named outputs (which may include one called `result`). */
export interface BatchOutputs {
  readonly named: boolean;
  readonly names: readonly string[];
}

/** Leading size (rows) of one request's batched arguments, or -1 when they disagree (it then runs alone). */
export function rowsOf(plan: BatchPlan, args: readonly unknown[]): number {
  let rows: number | undefined;
  plan.inputs.forEach((axis, i) => {
    if (axis === 'shared') return;
    const size = axis === 'tensor' ? (args[i] as Tensor).shape[0] : (args[i] as unknown[]).length;
    rows = rows === undefined || rows === size ? size : -1;
  });
  return rows ?? 0;
}

/**
 * What requests must share to run in one batch: tensor dtypes and trailing
 * shapes, and the values of shared (non-batched) inputs.
 */
export function compatibilityKey(plan: BatchPlan, args: readonly unknown[]): string {
  return JSON.stringify(
    plan.inputs.map((axis, i) => {
      const value = args[i];
      if (axis === 'tensor') return [(value as Tensor).dtype, (value as Tensor).shape.slice(1)];
      if (axis === 'list') return 'list';
      return value;
    }),
    (_key, value) =>
      typeof value === 'bigint'
        ? `${value}n`
        : ArrayBuffer.isView(value)
          ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
          : value,
  );
}

/** One execution's arguments: batched inputs concatenated in request order, shared inputs from the first request. */
export function mergeArguments(plan: BatchPlan, requests: readonly (readonly unknown[])[]): unknown[] {
  if (requests.length === 1) return [...requests[0]];
  return plan.inputs.map((axis, i) => {
    const values = requests.map((args) => args[i]);
    if (axis === 'tensor') return concatTensors(values as Tensor[]);
    if (axis === 'list') return (values as unknown[][]).flat();
    return values[0];
  });
}

/**
 * Splits one execution's result back into each request's rows. Tensors are
 * split into views (no copies). A result whose row count is not the batch's
 * fails the whole batch.
 */
export function splitResult(
  plan: BatchPlan,
  result: unknown,
  rows: readonly number[],
  outputs: BatchOutputs,
  model: string,
): unknown[] {
  const total = rows.reduce((a, b) => a + b, 0);
  if (!outputs.named) return splitValue(plan.outputs[0], result, rows, total, 'result', model);
  const outputNames = outputs.names;
  const named = result as Record<string, unknown>;
  const parts = outputNames.map((name, o) => splitValue(plan.outputs[o], named?.[name], rows, total, name, model));
  return rows.map((_, r) => Object.fromEntries(outputNames.map((name, o) => [name, parts[o][r]])));
}

function splitValue(
  axis: 'tensor' | 'list',
  value: unknown,
  rows: readonly number[],
  total: number,
  field: string,
  model: string,
): unknown[] {
  const size =
    axis === 'tensor'
      ? value instanceof Tensor
        ? value.shape[0]
        : undefined
      : Array.isArray(value)
        ? value.length
        : undefined;
  if (size !== total) {
    throw new InferenceError(
      `Model '${model}' returned ${size === undefined ? 'no batch' : `${size} rows`} for '${field}' in a batch of ${total} rows; ` +
        'a batched handler must return one row per input row',
      model,
    );
  }
  let start = 0;
  return rows.map((count) => {
    const part =
      axis === 'tensor' ? sliceRows(value as Tensor, start, count) : (value as unknown[]).slice(start, start + count);
    start += count;
    return part;
  });
}

/**
 * Copies the requests' bytes, aligned or not, once into one buffer the batch
 * owns, so it can go on to a worker without another copy.
 */
function concatTensors(tensors: readonly Tensor[]): Tensor {
  const [first] = tensors;
  const rows = tensors.reduce((sum, t) => sum + t.shape[0], 0);
  const parts = tensors.map(bytesOf);
  const byteLength = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const bytes = new Uint8Array(allocateTensorBuffer(byteLength));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  if (tensorCopyStats.counting) tensorCopyStats.stagedBytes += byteLength;
  const Storage = DTYPE_STORAGE[first.dtype];
  return new Tensor(
    first.dtype,
    [rows, ...first.shape.slice(1)],
    new Storage(bytes.buffer, 0, byteLength / Storage.BYTES_PER_ELEMENT),
  );
}

function sliceRows(tensor: Tensor, start: number, count: number): Tensor {
  const rowSize = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  return new Tensor(
    tensor.dtype,
    [count, ...tensor.shape.slice(1)],
    tensor.data.subarray(start * rowSize, (start + count) * rowSize),
  );
}
