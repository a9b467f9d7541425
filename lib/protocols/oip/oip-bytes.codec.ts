/**
 * The raw form of an OIP `BYTES` tensor: each element as a 4-byte
 * little-endian length followed by that many bytes, elements in row-major
 * order (what Triton's clients send in `raw_input_contents` and read from
 * `raw_output_contents`).
 */

/** Encodes elements (strings as UTF-8) into one raw BYTES buffer. */
export function encodeRawBytes(elements: ReadonlyArray<string | Uint8Array>): Buffer {
  const parts = elements.map((element) => (typeof element === 'string' ? Buffer.from(element, 'utf8') : element));
  const out = Buffer.allocUnsafe(parts.reduce((total, part) => total + 4 + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.writeUInt32LE(part.byteLength, offset);
    out.set(part, offset + 4);
    offset += 4 + part.byteLength;
  }
  return out;
}

/**
 * Splits a raw BYTES buffer into its elements (views over `raw`, no copy).
 * @returns the elements, or a reason when the buffer is not `count` well-formed elements
 */
export function decodeRawBytes(raw: Uint8Array, count: number): Uint8Array[] | string {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const elements: Uint8Array[] = [];
  let offset = 0;
  while (offset < raw.byteLength) {
    if (offset + 4 > raw.byteLength) return `element ${elements.length} has a cut-off length prefix`;
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > raw.byteLength) return `element ${elements.length} claims ${length} bytes, but only ${raw.byteLength - offset} remain`;
    elements.push(raw.subarray(offset, offset + length));
    offset += length;
  }
  if (elements.length !== count) return `holds ${elements.length} elements, but the shape has ${count}`;
  return elements;
}
