/*
 * Protobuf varints for the one-pass readers and writers of the common
 * request and response shapes (BlazeRPC tensors, OIP ModelInfer). Values are
 * JavaScript numbers: callers keep to non-negative safe integers and leave
 * anything else to protobufjs.
 */

/** Bytes a non-negative integer takes as a varint. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes a non-negative integer as a varint at `pos`; returns the position after it. */
export function writeVarint(out: Buffer, pos: number, value: number): number {
  while (value >= 128) {
    out[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

/** Bytes a packed repeated field of these dimensions takes, or -1 when one is not a non-negative safe integer. */
export function packedDimsSize(shape: readonly number[]): number {
  let size = 0;
  for (let axis = 0; axis < shape.length; axis++) {
    const dim = shape[axis];
    if (!Number.isSafeInteger(dim) || dim < 0) return -1;
    size += varintSize(dim);
  }
  return size;
}

/** A read position over message bytes, for one-pass readers. */
export class VarintCursor {
  protected pos = 0;

  /** A varint of at most `maxBytes` bytes, or -1 (cut off, or longer); a failed read moves the position to `end`. */
  protected varint(bytes: Uint8Array, end: number, maxBytes: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes && this.pos < end; i++) {
      const byte = bytes[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    this.pos = end;
    return -1;
  }
}

/** Writes a packed repeated varint field (`tag`, byte length, the dimensions); nothing for no dimensions. Returns the position after it. */
export function writePackedDims(out: Buffer, pos: number, tag: number, shape: readonly number[]): number {
  if (shape.length === 0) return pos;
  out[pos++] = tag;
  pos = writeVarint(out, pos, packedDimsSize(shape));
  for (let axis = 0; axis < shape.length; axis++) pos = writeVarint(out, pos, shape[axis]!);
  return pos;
}

/** Writes a length-delimited bytes field (`tag`, byte length, the bytes); returns the position after it. */
export function writeBytesField(out: Buffer, pos: number, tag: number, bytes: Uint8Array): number {
  out[pos++] = tag;
  pos = writeVarint(out, pos, bytes.byteLength);
  out.set(bytes, pos);
  return pos + bytes.byteLength;
}
