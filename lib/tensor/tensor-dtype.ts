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

/** Returns the wire dtype for a name or alias, or `undefined` when it is not a dtype. */
export function normalizeDType(name: string): TensorDType | undefined {
  if ((TENSOR_DTYPES as readonly string[]).includes(name)) {
    return name as TensorDType;
  }
  return TENSOR_DTYPE_ALIASES[name];
}
