import { endianness } from 'node:os';
import { describeClientShape, quoteClientText } from '../../core/errors/client-text.js';
import { ValidationError } from '../../core/errors/validation.error.js';
import { tensorCopyStats } from '../../core/tensor/tensor-copy-stats.js';
import {
  DTYPE_STORAGE,
  itemSizeOf,
  normalizeDType,
  TENSOR_DTYPES,
  type TensorDType,
} from '../../core/tensor/tensor-dtype.js';
import { bytesOf, elementCount, Tensor, tensorOverBytes } from '../../core/tensor/tensor.js';

/** A `TensorProto` as the protobuf layer hands it over (int64 shape entries as strings or numbers). */
export interface TensorProtoMessage {
  shape: readonly (string | number)[];
  dtype: string;
  data: Uint8Array;
}

// NOTE: the wire format is little-endian; typed arrays use the host's order, so a big-endian host would need swaps.
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Turns a received `TensorProto` into a `Tensor` over the received bytes: its
 * typed data is a view when the bytes are aligned for the dtype, a copy made
 * on first read otherwise (see `tensorOverBytes`).
 * Every malformed part is a `ValidationError` naming the field.
 */
export function decodeTensorProto(message: TensorProtoMessage | null | undefined, field: string): Tensor {
  if (!message) {
    throw new ValidationError(`Input '${field}' is missing: send a TensorProto with shape, dtype and data`, field);
  }
  assertLittleEndianHost();
  const dtype = normalizeDType(message.dtype);
  if (!dtype) {
    const got = message.dtype === '' ? 'an empty dtype' : `dtype '${quoteClientText(message.dtype)}'`;
    throw new ValidationError(
      `Input '${field}': unknown dtype, got ${got}; expected one of ${TENSOR_DTYPES.join(', ')}`,
      field,
    );
  }
  const shape = parseShape(message.shape, field);
  const count = checkedElementCount(shape, dtype, message.data.byteLength, field);
  if (dtype === 'bool') assertBooleanBytes(message.data, field);
  return fromReceivedBytes(dtype, shape, count, message.data);
}

/** The `TensorProto` fields for a tensor; `data` is a view, so the serializer's copy is the only one. */
export function encodeTensorProto(tensor: Tensor): TensorProtoMessage {
  assertLittleEndianHost();
  const { buffer, byteOffset, byteLength } = bytesOf(tensor);
  if (tensorCopyStats.counting) tensorCopyStats.encodedBytes += byteLength;
  return { shape: tensor.shape, dtype: tensor.dtype, data: Buffer.from(buffer, byteOffset, byteLength) };
}

/**
 * Aligned bytes become the tensor's data in place. Misaligned ones are copied
 * when small; a large one is kept as received until its typed data is read,
 * so a batch merge or the hand-over to a worker copies it once, not twice.
 */
export function fromReceivedBytes(dtype: TensorDType, shape: number[], count: number, bytes: Uint8Array): Tensor {
  const Storage = DTYPE_STORAGE[dtype];
  if (bytes.byteOffset % Storage.BYTES_PER_ELEMENT === 0) {
    if (tensorCopyStats.counting) tensorCopyStats.decodedInPlaceBytes += bytes.byteLength;
    return new Tensor(dtype, shape, new Storage(bytes.buffer, bytes.byteOffset, count));
  }
  if (bytes.byteLength >= DEFER_COPY_BYTES) {
    if (tensorCopyStats.counting) tensorCopyStats.decodedInPlaceBytes += bytes.byteLength;
    return tensorOverBytes(dtype, shape, bytes);
  }
  if (tensorCopyStats.counting) tensorCopyStats.decodedCopiedBytes += bytes.byteLength;
  const copy = new Storage(count);
  new Uint8Array(copy.buffer).set(bytes);
  return new Tensor(dtype, shape, copy);
}

/** Below this, copying a misaligned tensor costs less than deferring the copy. */
const DEFER_COPY_BYTES = 4096;

function parseShape(raw: readonly (string | number)[], field: string): number[] {
  return raw.map((entry, axis) => {
    const dim = Number(entry);
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new ValidationError(
        `Input '${field}': dimension ${axis} of shape ${describeClientShape(raw)} is ${quoteClientText(String(entry))}; dimensions must be integers >= 0`,
        field,
      );
    }
    return dim;
  });
}

function checkedElementCount(shape: number[], dtype: TensorDType, byteLength: number, field: string): number {
  const itemSize = itemSizeOf(dtype);
  const count = elementCount(shape);
  const needed = count * itemSize;
  if (!Number.isSafeInteger(needed)) {
    throw new ValidationError(
      `Input '${field}': shape ${describeClientShape(shape)} has more elements than any message can hold`,
      field,
    );
  }
  if (needed !== byteLength) {
    throw new ValidationError(
      `Input '${field}': data has ${byteLength} bytes, but shape ${describeClientShape(shape)} of ${dtype} needs ${needed} ` +
        `(${count} elements x ${itemSize} bytes)`,
      field,
    );
  }
  return count;
}

function assertBooleanBytes(data: Uint8Array, field: string): void {
  const bad = data.findIndex((byte) => byte > 1);
  if (bad >= 0) {
    throw new ValidationError(
      `Input '${field}': bool element ${bad} is byte ${data[bad]}; bool tensors hold 0 or 1 per byte`,
      field,
    );
  }
}

function assertLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) {
    throw new Error('nestjs-blazerpc tensors need a little-endian host (x86-64, arm64)');
  }
}
