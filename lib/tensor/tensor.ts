import type { TensorDType, TensorDTypeName } from './tensor-dtype.js';
import { TensorSpec, type TensorDim } from './tensor-spec.js';

/** Typed-array storage of a tensor's elements (bool as `Uint8Array`, float16 as raw `Uint16Array` bits). */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/**
 * An n-dimensional array: dtype, shape and row-major typed-array data.
 *
 * `Tensor.of(dtype, shape)` declares a tensor type for `@Input()` and `returns`:
 * @example
 * ```ts
 * @Model('iris', { returns: Tensor.of('float32', ['batch', 3]) })
 * iris(@Input('features', Tensor.of('float32', ['batch', 4])) x: Tensor) { ... }
 * ```
 */
export class Tensor {
  constructor(
    readonly dtype: TensorDType,
    readonly shape: readonly number[],
    readonly data: TensorData,
  ) {}

  /** Declares a tensor type with fixed (`4`) and symbolic (`'batch'`) dimensions. */
  static of(dtype: TensorDTypeName, shape: readonly TensorDim[]): TensorSpec {
    return new TensorSpec(dtype, shape);
  }
}
