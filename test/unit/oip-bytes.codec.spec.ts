import { decodeRawBytes, encodeRawBytes } from '../../lib/protocols/shared/oip-bytes.codec.js';

/** Decodes and fails the test with the codec's reason when the buffer is refused. */
function decoded(raw: Uint8Array, count: number): Uint8Array[] {
  const elements = decodeRawBytes(raw, count);
  if (typeof elements === 'string') throw new Error(`refused: ${elements}`);
  return elements;
}

const utf8 = (elements: Uint8Array[]) => elements.map((element) => Buffer.from(element).toString('utf8'));
const le32 = (value: number) => {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value);
  return out;
};

describe('raw OIP BYTES (4-byte little-endian length, then the bytes, per element)', () => {
  describe('encodeRawBytes', () => {
    it('writes each element as its little-endian length and its UTF-8 bytes, in order', () => {
      expect(encodeRawBytes(['ab', '', 'é'])).toEqual(
        Buffer.from([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 2, 0, 0, 0, 0xc3, 0xa9]),
      );
    });

    it('writes nothing for no elements', () => {
      expect(encodeRawBytes([])).toHaveLength(0);
    });

    it('writes a byte array as it is, and only the part a view covers', () => {
      const backing = Buffer.from([9, 9, 1, 2, 3, 9]);
      expect(encodeRawBytes([backing.subarray(2, 5), new Uint8Array([0, 255])])).toEqual(
        Buffer.from([3, 0, 0, 0, 1, 2, 3, 2, 0, 0, 0, 0, 255]),
      );
    });

    it('writes lengths of 256 and more over several little-endian bytes', () => {
      const raw = encodeRawBytes([Buffer.alloc(0x10203, 7)]);
      expect(raw.subarray(0, 4)).toEqual(Buffer.from([0x03, 0x02, 0x01, 0x00]));
      expect(raw).toHaveLength(4 + 0x10203);
    });
  });

  describe('round trips', () => {
    it('keeps empty strings, and their count', () => {
      expect(utf8(decoded(encodeRawBytes(['', '', '']), 3))).toEqual(['', '', '']);
    });

    it('keeps no elements as no elements', () => {
      expect(decoded(encodeRawBytes([]), 0)).toEqual([]);
    });

    it('keeps UTF-8 text: accents, CJK, emoji, NUL and newlines', () => {
      const texts = ['héllo wörld', '日本語のテキスト', '👩‍🔬🧪', 'a\u0000b', 'line\nbreak\r\n'];
      expect(utf8(decoded(encodeRawBytes(texts), texts.length))).toEqual(texts);
    });

    it('keeps binary data byte for byte, including every byte value and invalid UTF-8', () => {
      const every = Uint8Array.from({ length: 256 }, (_, i) => i);
      const invalid = new Uint8Array([0xc3, 0x28, 0xff, 0xfe]);
      const [first, second] = decoded(encodeRawBytes([every, invalid]), 2);
      expect(Buffer.from(first!)).toEqual(Buffer.from(every));
      expect(Buffer.from(second!)).toEqual(Buffer.from(invalid));
    });

    it('keeps 10,000 elements of varied lengths, in order', () => {
      const elements = Array.from({ length: 10_000 }, (_, i) => 'x'.repeat(i % 37) + String(i));
      const raw = encodeRawBytes(elements);
      expect(raw).toHaveLength(elements.reduce((total, e) => total + 4 + e.length, 0));
      expect(utf8(decoded(raw, elements.length))).toEqual(elements);
    });
  });

  describe('decoding shares the input memory (no copy)', () => {
    it('returns views over the input: same buffer, offsets just past each length prefix', () => {
      const raw = encodeRawBytes(['abc', 'de']);
      const [first, second] = decoded(raw, 2);
      expect(first!.buffer).toBe(raw.buffer);
      expect(second!.buffer).toBe(raw.buffer);
      expect(first!.byteOffset).toBe(raw.byteOffset + 4);
      expect(second!.byteOffset).toBe(raw.byteOffset + 4 + 3 + 4);
    });

    it('so writing the input shows through the elements', () => {
      const raw = encodeRawBytes(['abc']);
      const [element] = decoded(raw, 1);
      raw[4] = 'z'.charCodeAt(0);
      expect(Buffer.from(element!).toString()).toBe('zbc');
    });

    it('reads a view at an odd offset into a larger buffer, within the view only', () => {
      const body = encodeRawBytes(['hi', 'there']);
      const backing = Buffer.concat([Buffer.from([0xee, 0xee, 0xee]), body, Buffer.from([0xee, 0xee])]);
      const view = backing.subarray(3, 3 + body.length);
      const elements = decoded(view, 2);
      expect(utf8(elements)).toEqual(['hi', 'there']);
      expect(elements[0]!.buffer).toBe(backing.buffer);
      expect(elements[0]!.byteOffset).toBe(view.byteOffset + 4);
    });
  });

  describe('malformed buffers are refused with a reason', () => {
    it.each([
      ['a length prefix cut off at the start', Buffer.from([1, 0, 0]), 0, 'element 0 has a cut-off length prefix'],
      ['a single stray byte', Buffer.from([0]), 0, 'element 0 has a cut-off length prefix'],
      [
        'a length prefix cut off after a whole element',
        Buffer.concat([encodeRawBytes(['ok']), Buffer.from([5, 0])]),
        2,
        'element 1 has a cut-off length prefix',
      ],
      [
        'a length past the end',
        Buffer.concat([le32(10), Buffer.from('abc')]),
        1,
        'element 0 claims 10 bytes, but only 3 remain',
      ],
      [
        'a length past the end of a later element',
        Buffer.concat([encodeRawBytes(['a', 'b']), le32(2), Buffer.from('c')]),
        3,
        'element 2 claims 2 bytes, but only 1 remain',
      ],
      [
        'a huge length (0xFFFFFFFF) with nothing after it',
        le32(0xffffffff),
        1,
        'element 0 claims 4294967295 bytes, but only 0 remain',
      ],
      [
        'a big-endian length',
        Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('abc')]),
        1,
        'element 0 claims 50331648 bytes, but only 3 remain',
      ],
      ['fewer elements than the shape has', encodeRawBytes(['abcd', 'b']), 3, 'holds 2 elements, but the shape has 3'],
      [
        'more elements than the shape has (the walk stops at the first one past it)',
        encodeRawBytes(['a', 'b', 'c']),
        1,
        'holds more than 1 elements, but the shape has 1',
      ],
      [
        'nothing, for a shape of one element',
        Buffer.alloc(0),
        1,
        'has 0 bytes, too few for the 1 elements of the shape (each takes at least 4)',
      ],
      [
        'one empty element, for a shape of none',
        encodeRawBytes(['']),
        0,
        'holds more than 0 elements, but the shape has 0',
      ],
      [
        'fewer bytes than the shape needs for its length prefixes',
        encodeRawBytes(['a', 'b']),
        3,
        'has 10 bytes, too few for the 3 elements of the shape (each takes at least 4)',
      ],
    ])('%s', (_, raw, count, reason) => {
      expect(decodeRawBytes(raw, count)).toBe(reason);
    });

    it('does not read past the end of a view even when the larger buffer has the bytes', () => {
      const whole = encodeRawBytes(['abcdef']);
      expect(decodeRawBytes(whole.subarray(0, 7), 1)).toBe('element 0 claims 6 bytes, but only 3 remain');
      expect(decodeRawBytes(whole.subarray(0, 3), 0)).toBe('element 0 has a cut-off length prefix');
    });
  });
});
