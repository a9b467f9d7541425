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
