import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { ConfigurationError } from '../../errors/configuration.error.js';
import { Tensor } from '../../tensor/tensor.js';
import type { TensorData } from '../../tensor/tensor-data.js';
import type { TensorDType } from '../../tensor/tensor-dtype.js';
import type { OrtModule } from './onnx-runtime.loader.js';

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
  const dtype = dtypeOfOrtType(value.type);
  if (!dtype) throw new ConfigurationError(`ONNX output '${name}' has element type '${value.type}', which a TensorProto cannot carry`);
  return new Tensor(dtype, value.dims, value.data as TensorData);
}
