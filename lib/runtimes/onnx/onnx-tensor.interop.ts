import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { ConfigurationError } from '../../core/errors/configuration.error.js';
import { allocateTensorBuffer, isTransferable } from '../../core/tensor/tensor-buffers.js';
import { tensorCopyStats } from '../../core/tensor/tensor-copy-stats.js';
import { DTYPE_STORAGE, type TensorDType } from '../../core/tensor/tensor-dtype.js';
import type { TensorData } from '../../core/tensor/tensor-data.js';
import { bytesOf, isOverReceivedBytes, Tensor } from '../../core/tensor/tensor.js';
import type { OrtModule } from './onnx-runtime.loader.js';
import type { WireTensor } from './worker/onnx-instance.messages.js';

/** onnxruntime's element type names for our wire dtypes. */
const ORT_TYPE_OF: Readonly<Record<TensorDType, OrtTensor.Type>> = {
  float: 'float32',
  double: 'float64',
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool',
  float16: 'float16',
};

const DTYPE_OF = new Map(Object.entries(ORT_TYPE_OF).map(([dtype, ort]) => [ort as string, dtype as TensorDType]));

/** Our dtype for an onnxruntime element type, or `undefined` when tensors of it cannot travel (e.g. string). */
export function dtypeOfOrtType(type: string): TensorDType | undefined {
  return DTYPE_OF.get(type);
}

/** Wraps a tensor for onnxruntime; the typed array is shared, not copied. */
export function toOrtTensor(ort: OrtModule, tensor: Tensor): OrtTensor {
  return new ort.Tensor(ORT_TYPE_OF[tensor.dtype], tensor.data as never, tensor.shape);
}

/** Wraps an onnxruntime result; the typed array is shared, not copied. */
export function fromOrtTensor(value: OrtTensor, name: string): Tensor {
  return fromWireTensor({ name, type: value.type, dims: value.dims, data: value.data as TensorData });
}

/**
 * @internal A tensor bound for an instance worker, and the buffer to transfer
 * with it. A buffer this library made for the call (a batch merge) moves as
 * it is when `consume` says nobody reads it after; anything else (received
 * bytes, a caller's own tensor) is copied once into a buffer that moves.
 */
export function toWireTensor(name: string, tensor: Tensor, consume: boolean, moving: Set<ArrayBuffer>): WireTensor {
  const type = ORT_TYPE_OF[tensor.dtype];
  const owned =
    consume &&
    !isOverReceivedBytes(tensor) &&
    isTransferable(tensor.data) &&
    !moving.has(tensor.data.buffer as ArrayBuffer);
  let data: ArrayBufferView;
  if (owned) {
    data = tensor.data;
  } else {
    const bytes = bytesOf(tensor);
    const buffer = allocateTensorBuffer(bytes.byteLength);
    new Uint8Array(buffer).set(bytes);
    if (tensorCopyStats.counting) tensorCopyStats.stagedBytes += bytes.byteLength;
    data = new DTYPE_STORAGE[tensor.dtype](buffer, 0, tensor.size);
  }
  moving.add(data.buffer as ArrayBuffer);
  return { name, type, dims: tensor.shape, data };
}

/** @internal A tensor received from an instance worker; its data is used as it arrived. */
export function fromWireTensor(value: WireTensor): Tensor {
  const dtype = dtypeOfOrtType(value.type);
  if (!dtype)
    throw new ConfigurationError(
      `ONNX output '${value.name}' has element type '${value.type}', which a TensorProto cannot carry`,
    );
  return new Tensor(dtype, value.dims, value.data as TensorData);
}
