/** The bytes at an offset of a larger buffer, as grpc-js hands a message over (so alignment varies as on the wire). */
export function atOffset(offset: number, bytes: Uint8Array): Buffer {
  const backing = Buffer.alloc(offset + bytes.length + 8);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}
