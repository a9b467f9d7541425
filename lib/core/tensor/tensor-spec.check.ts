import { describeClientShape } from '../errors/client-text.js';
import type { Tensor } from './tensor.js';
import type { TensorSpec } from './tensor-spec.js';

/**
 * Dimensions a tensor sent by a client may have. No model declares nearly as
 * many; the bound lets a shape of millions of dimensions (a few MB of
 * one-byte varints) be refused before any of them is read into memory.
 */
export const MAX_REQUEST_DIMS = 1024;

/** Sizes bound to symbolic dimensions so far in one call, and which field bound each. */
export type SymbolBindings = Map<string, { size: number; field: string }>;

/**
 * Checks a tensor against its declared spec: dtype, rank, fixed dimensions,
 * and symbolic dimensions that must agree across the fields of one call.
 * Returns what is wrong, in words that name the field, or `undefined`.
 */
export function checkTensorSpec(
  tensor: Tensor,
  spec: TensorSpec,
  field: string,
  bindings: SymbolBindings,
): string | undefined {
  if (tensor.dtype !== spec.dtype) {
    return `'${field}': expected dtype ${spec.dtype}, got ${tensor.dtype}`;
  }
  if (tensor.rank !== spec.shape.length) {
    return `'${field}': expected shape ${declaredShape(spec)} (rank ${spec.shape.length}), got ${describeClientShape(tensor.shape)} (rank ${tensor.rank})`;
  }
  for (let axis = 0; axis < spec.shape.length; axis++) {
    const want = spec.shape[axis];
    const got = tensor.shape[axis];
    if (typeof want === 'number') {
      if (want !== got) return `'${field}': dimension ${axis} of ${declaredShape(spec)} must be ${want}, got ${got}`;
      continue;
    }
    const bound = bindings.get(want);
    if (bound === undefined) {
      bindings.set(want, { size: got, field });
    } else if (bound.size !== got) {
      return `'${field}': dimension '${want}' is ${got}, but '${bound.field}' has '${want}' = ${bound.size}`;
    }
  }
  return undefined;
}

/** The declared shape as written in messages, e.g. `[batch, 4]`: only built when something is wrong. */
function declaredShape(spec: TensorSpec): string {
  return `[${spec.shape.join(', ')}]`;
}
