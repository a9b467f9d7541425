/**
 * Protobuf wire pieces, written and read by hand: tests, attacks and benches
 * send exactly the bytes they mean, including what no client library would
 * write, and read answers without the server's own decoder.
 */

/** A base-128 varint. */
export function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 127) {
    bytes.push((value % 128) | 128);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** A length-delimited field (string, bytes, message or packed list). */
export function field(number: number, payload: Buffer | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint(number * 8 + 2), varint(bytes.length), bytes]);
}

/** A varint field. */
export function varintField(number: number, value: number): Buffer {
  return Buffer.concat([varint(number * 8), varint(value)]);
}

/** `count` copies of `piece`, back to back. */
export function repeat(piece: Buffer, count: number): Buffer {
  return Buffer.concat(new Array<Buffer>(count).fill(piece));
}

/** The fields of a message by number, the last of each: length-delimited ones as bytes, varints as numbers. */
export function readFields(message: Buffer): Map<number, Buffer | number> {
  const fields = new Map<number, Buffer | number>();
  let at = 0;
  const next = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = message[at++]!;
      value += (byte & 127) * 2 ** shift;
      shift += 7;
      if (byte < 128) return value;
    }
  };
  while (at < message.length) {
    const key = next();
    const wire = key & 7;
    if (wire === 2) {
      const length = next();
      fields.set(key >> 3, message.subarray(at, at + length));
      at += length;
    } else if (wire === 0) fields.set(key >> 3, next());
    else if (wire === 5) at += 4;
    else if (wire === 1) at += 8;
    else throw new Error(`unexpected wire type ${wire} at byte ${at}`);
  }
  return fields;
}

/** A length-delimited field of `message`, or `undefined`. */
export function bytesField(message: Buffer, number: number): Buffer | undefined {
  const value = readFields(message).get(number);
  return Buffer.isBuffer(value) ? value : undefined;
}
