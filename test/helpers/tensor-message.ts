import { Tensor, type TensorDType } from '../../lib/index.js';

/** A TensorProto as a plain grpc-js client sends it. */
export function tensorMessage(dtype: string, shape: number[], data: ArrayBufferView) {
  return { shape: shape.map(String), dtype, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}

/** Reads a TensorProto a plain grpc-js client received (shape as strings, data as a Buffer). */
export function readTensor(message: { shape: string[]; dtype: string; data: Buffer }): Tensor {
  const bytes = Uint8Array.from(message.data);
  const shape = message.shape.map(Number);
  const dtype = message.dtype as TensorDType;
  const Storage = { float: Float32Array, double: Float64Array, int64: BigInt64Array, int32: Int32Array } as Record<
    string,
    any
  >;
  return new Tensor(dtype, shape, new Storage[dtype](bytes.buffer));
}
