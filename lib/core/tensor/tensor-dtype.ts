import type { TensorData } from './tensor-data.js';

/** Element types a `TensorProto` can carry, by their wire name. */
export const TENSOR_DTYPES = [
  'float',
  'double',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
  'float16',
] as const;

/** A tensor element type, as written in `TensorProto.dtype`. */
export type TensorDType = (typeof TENSOR_DTYPES)[number];

/** Names accepted in declarations and on input in place of the wire name. */
export const TENSOR_DTYPE_ALIASES: Readonly<Record<string, TensorDType>> = {
  float32: 'float',
  float64: 'double',
};

/** A dtype as users may write it: the wire name or an alias (`float32`, `float64`). */
export type TensorDTypeName = TensorDType | 'float32' | 'float64';

/** Typed-array constructor of each dtype (bool as bytes, float16 as raw 16-bit patterns). */
interface TypedArrayConstructor {
  new (length: number): TensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  readonly BYTES_PER_ELEMENT: number;
}

/** How each dtype is stored in memory. */
export const DTYPE_STORAGE: Readonly<Record<TensorDType, TypedArrayConstructor>> = {
  float: Float32Array,
  double: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  float16: Uint16Array,
};

/** Bytes per element of a dtype. */
export function itemSizeOf(dtype: TensorDType): number {
  return DTYPE_STORAGE[dtype].BYTES_PER_ELEMENT;
}

/** Every accepted name and alias, to its wire dtype; no prototype, so `'constructor'` or `'__proto__'` is no dtype. */
const DTYPE_BY_NAME: Readonly<Record<string, TensorDType | undefined>> = Object.assign(
  Object.create(null) as Record<string, TensorDType>,
  Object.fromEntries(TENSOR_DTYPES.map((dtype) => [dtype, dtype])),
  TENSOR_DTYPE_ALIASES,
);

/** Returns the wire dtype for a name or alias, or `undefined` when it is not a dtype. */
export function normalizeDType(name: string): TensorDType | undefined {
  return DTYPE_BY_NAME[name];
}
