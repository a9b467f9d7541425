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

/** Bytes of each element's length prefix: a raw BYTES buffer of n bytes holds at most n / 4 elements. */
const LENGTH_PREFIX_BYTES = 4;

/**
 * Splits a raw BYTES buffer into its elements (views over `raw`, no copy).
 * The buffer is first walked without making anything (see `checkRawBytes`),
 * so views are made only for one that holds exactly `count` elements.
 * @returns the elements, or a reason when the buffer is not `count` well-formed elements
 */
export function decodeRawBytes(raw: Uint8Array, count: number): Uint8Array[] | string {
  const problem = checkRawBytes(raw, count);
  if (problem !== undefined) return problem;
  const elements = new Array<Uint8Array>(count);
  for (let i = 0, offset = 0; i < count; i++) {
    const length = lengthAt(raw, offset);
    elements[i] = raw.subarray(offset + LENGTH_PREFIX_BYTES, offset + LENGTH_PREFIX_BYTES + length);
    offset += LENGTH_PREFIX_BYTES + length;
  }
  return elements;
}

/** `decodeRawStrings`' reason for an element that is not UTF-8. */
export const NOT_UTF8 = 'not valid UTF-8';
/** Elements at most this long are checked for ASCII in place, and read without a view. */
const INLINE_ASCII_BYTES = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a raw BYTES buffer as `count` UTF-8 strings, as `decodeRawBytes`
 * splits it but with no view per element: empty and short ASCII elements,
 * the common kind, are read straight from the buffer.
 * @returns the strings, or a reason (`NOT_UTF8` when an element is not UTF-8)
 */
export function decodeRawStrings(raw: Uint8Array, count: number): string[] | string {
  const problem = checkRawBytes(raw, count);
  if (problem !== undefined) return problem;
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const strings = new Array<string>(count);
  for (let i = 0, offset = 0; i < count; i++) {
    const start = offset + LENGTH_PREFIX_BYTES;
    const end = start + lengthAt(bytes, offset);
    offset = end;
    if (start === end) {
      strings[i] = '';
      continue;
    }
    let ascii = end - start <= INLINE_ASCII_BYTES;
    for (let at = start; ascii && at < end; at++) ascii = bytes[at]! < 0x80;
    if (ascii) {
      strings[i] = bytes.toString('latin1', start, end);
      continue;
    }
    try {
      strings[i] = utf8.decode(bytes.subarray(start, end));
    } catch {
      return NOT_UTF8;
    }
  }
  return strings;
}

/**
 * Why a raw BYTES buffer is not `count` well-formed elements, or `undefined`
 * when it is. Nothing is made: its byte length must leave room for `count`
 * length prefixes, and the walk stops at the first element past `count`, so
 * any buffer is refused in at most `count` steps, whatever it holds.
 */
function checkRawBytes(raw: Uint8Array, count: number): string | undefined {
  if (count * LENGTH_PREFIX_BYTES > raw.byteLength) {
    return `has ${raw.byteLength} bytes, too few for the ${count} elements of the shape (each takes at least ${LENGTH_PREFIX_BYTES})`;
  }
  const size = raw.byteLength;
  let held = 0;
  for (let offset = 0; offset < size;) {
    if (offset + LENGTH_PREFIX_BYTES > size) return `element ${held} has a cut-off length prefix`;
    const length = lengthAt(raw, offset);
    offset += LENGTH_PREFIX_BYTES;
    if (offset + length > size) return `element ${held} claims ${length} bytes, but only ${size - offset} remain`;
    offset += length;
    if (++held > count) return `holds more than ${count} elements, but the shape has ${count}`;
  }
  return held === count ? undefined : `holds ${held} elements, but the shape has ${count}`;
}

/** The little-endian length prefix at `offset`. */
function lengthAt(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16)) + bytes[offset + 3]! * 0x1000000;
}
