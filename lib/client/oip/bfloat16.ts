/**
 * bfloat16 is the upper half of a float32, so widening is exact and
 * narrowing is a rounding of the lower 16 bits. There is no bfloat16 typed
 * array; values are carried as float32 on our side.
 */

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** @internal float32 values as raw little-endian bfloat16 bytes, rounded to nearest, ties to even. */
export function float32ToBf16Bytes(values: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    scratch[0] = values[i];
    const bits = scratchBits[0];
    // NaN must stay NaN: rounding could carry its payload into the exponent and make it infinity.
    const half = Number.isNaN(scratch[0]) ? (bits >>> 16) | 0x0040 : (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
    out.writeUInt16LE(half & 0xffff, i * 2);
  }
  return out;
}

/** @internal Raw little-endian bfloat16 bytes widened to float32 (exact). */
export function bf16BytesToFloat32(raw: Uint8Array): Float32Array {
  const count = raw.byteLength >>> 1;
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = (raw[2 * i] | (raw[2 * i + 1] << 8)) << 16;
  return out;
}
