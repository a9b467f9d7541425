/** A seeded pseudo-random integer in [0, n): the same seed gives the same fuzz run every time. */
export function seededRandom(seed: number): (n: number) => number {
  let state = seed;
  return (n) => (state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) % n;
}

/**
 * One random byte-level mutation of a valid message: flipped bits, a
 * truncation, inserted bytes, a deleted run (when `deletions`), or an
 * overwritten byte.
 */
export function mutateBytes(original: Uint8Array, random: (n: number) => number, { deletions = false } = {}): Buffer {
  const out = Buffer.from(original);
  switch (random(deletions ? 5 : 4)) {
    case 0: // flip bits
      for (let i = 0, n = 1 + random(3); i < n && out.length; i++) out[random(out.length)] ^= 1 << random(8);
      return out;
    case 1: // truncate
      return out.subarray(0, random(out.length + 1));
    case 2: // insert random bytes
      return Buffer.concat([
        out.subarray(0, random(out.length + 1)),
        Buffer.from(Array.from({ length: 1 + random(4) }, () => random(256))),
        out,
      ]);
    case 3: {
      if (!deletions) return overwriteOneByte(out, random); // without deletions, 3 is an overwrite
      // delete a run of bytes
      const at = random(out.length + 1);
      return Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + random(4))]);
    }
    default:
      return overwriteOneByte(out, random);
  }
}

function overwriteOneByte(out: Buffer, random: (below: number) => number): Buffer {
  if (out.length) out[random(out.length)] = random(256);
  return out;
}
