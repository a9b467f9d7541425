import type { TensorDType } from '../../core/tensor/tensor-dtype.js';

/** A tensor element type as the Open Inference Protocol names it. */
export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BF16'
  | 'BYTES';

/** Our tensor dtype of each OIP numeric datatype (BF16 has none: it travels as raw bytes only). */
export const OIP_TO_DTYPE: Readonly<Partial<Record<OipDatatype, TensorDType>>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float',
  FP64: 'double',
};

/** The OIP datatype of each of our tensor dtypes. */
export const DTYPE_TO_OIP: Readonly<Record<TensorDType, OipDatatype>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float: 'FP32',
  double: 'FP64',
};

/** Bytes per element of each fixed-size OIP datatype (BYTES has none). */
export const OIP_ITEM_SIZE: Readonly<Record<Exclude<OipDatatype, 'BYTES'>, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BF16: 2,
};

/** The name of an `InferTensorContents` list. */
export type OipContentsField =
  | 'bool_contents'
  | 'int_contents'
  | 'int64_contents'
  | 'uint_contents'
  | 'uint64_contents'
  | 'fp32_contents'
  | 'fp64_contents'
  | 'bytes_contents';

/** Where each datatype's values travel in typed `contents` (FP16 and BF16 have no typed form: raw only). */
export const OIP_CONTENTS_FIELD: Readonly<Partial<Record<OipDatatype, OipContentsField>>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/** Triton's model-config `DataType` enum name of each OIP datatype (BYTES is TYPE_STRING). */
export function tritonDataType(datatype: OipDatatype): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

/** Whether `name` is an OIP datatype. */
export function isOipDatatype(name: string): name is OipDatatype {
  return name === 'BYTES' || Object.hasOwn(OIP_ITEM_SIZE, name);
}
