import type { ModelFieldSpec } from '../../core/schema/model-descriptor.interface.js';
import type { TensorProtoMessage } from '../shared/tensor-proto.codec.js';
import { packedDimsSize, varintSize, writeBytesField, writePackedDims, writeVarint } from '../shared/varint.js';

/** `TensorProto` tags: `repeated int64 shape = 1` (packed), `string dtype = 2`, `bytes data = 3`. */
const SHAPE_TAG = 0x0a;
const DTYPE_TAG = 0x12;
const DATA_TAG = 0x1a;

/**
 * @internal Writes a response whose every field is a singular `TensorProto`
 * (already checked against its declaration) straight into one buffer: the
 * bytes protobufjs writes for it, field by field in field-number order, a
 * packed shape left out when empty, dtype and data always written. It gives
 * up (`undefined`) on a shape entry that is not a non-negative safe integer
 * (protobufjs writes those as 64-bit two's complement, or truncated); the
 * caller then serializes with protobufjs as before.
 */
export class TensorResponseWriter {
  /** Field name and its tag, in field-number order. */
  private readonly fields: readonly { readonly name: string; readonly tag: number }[];

  constructor(outputs: readonly ModelFieldSpec[]) {
    this.fields = [...outputs]
      .sort((a, b) => a.number - b.number)
      .map(({ name, number }) => ({ name, tag: number * 8 + 2 }));
  }

  /** Whether this writer serves a model with these outputs: one or more singular tensors, with field numbers of one tag byte. */
  static serves(outputs: readonly ModelFieldSpec[]): boolean {
    return outputs.length > 0 && outputs.every((output) => output.type.kind === 'tensor' && output.number < 16);
  }

  write(message: Record<string, unknown>): Buffer | undefined {
    const { fields } = this;
    let size = 0;
    for (let f = 0; f < fields.length; f++) {
      const tensor = message[fields[f].name] as TensorProtoMessage;
      const inner = tensorSize(tensor);
      if (inner < 0) return undefined;
      size += 1 + varintSize(inner) + inner;
    }
    const out = Buffer.allocUnsafe(size);
    let pos = 0;
    for (let f = 0; f < fields.length; f++) {
      const { shape, dtype, data } = message[fields[f].name] as TensorProtoMessage;
      out[pos++] = fields[f].tag;
      pos = writeVarint(out, pos, tensorSize(message[fields[f].name] as TensorProtoMessage));
      pos = writePackedDims(out, pos, SHAPE_TAG, shape as readonly number[]);
      out[pos++] = DTYPE_TAG;
      pos = writeVarint(out, pos, dtype.length);
      pos += out.write(dtype, pos, 'latin1');
      pos = writeBytesField(out, pos, DATA_TAG, data);
    }
    return out;
  }
}

/** The encoded size of one `TensorProto`, or -1 when a shape entry is not a non-negative safe integer. */
function tensorSize({ shape, dtype, data }: TensorProtoMessage): number {
  let size = 0;
  if (shape.length > 0) {
    const packed = packedDimsSize(shape as readonly number[]);
    if (packed < 0) return -1;
    size += 1 + varintSize(packed) + packed;
  }
  // NOTE: dtype is one of the wire names (ASCII), so its length in characters is its length in bytes.
  size += 1 + varintSize(dtype.length) + dtype.length;
  return size + 1 + varintSize(data.byteLength) + data.byteLength;
}
