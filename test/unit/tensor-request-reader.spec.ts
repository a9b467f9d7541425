import protobuf from 'protobufjs';
import { Tensor } from '../../lib/index.js';
import { TensorRequestReader } from '../../lib/protocols/blazerpc/tensor-request.reader.js';
import type { ModelFieldSpec } from '../../lib/core/schema/model-descriptor.interface.js';
import { decodeTensorProto, type TensorProtoMessage } from '../../lib/protocols/shared/tensor-proto.codec.js';
import { bytesOf } from '../../lib/core/tensor/tensor.js';
import { createRequestDecoder } from '../../lib/protocols/shared/request-decoder.js';
import { mutateBytes, seededRandom } from '../helpers/seeded-mutations.js';
import { atOffset } from '../helpers/received-bytes.js';

const PROTO = `syntax = "proto3"; package t;
message TensorProto { repeated int64 shape = 1; string dtype = 2; bytes data = 3; }
message PairRequest { TensorProto a = 1; TensorProto b = 2; }`;
const root = protobuf.parse(PROTO, { keepCase: true }).root;
const PairRequest = root.lookupType('t.PairRequest');
const inputs: ModelFieldSpec[] = [
  { name: 'a', number: 1, type: { kind: 'tensor', spec: Tensor.of('float32', ['batch', 4]) } },
  { name: 'b', number: 2, type: { kind: 'tensor', spec: Tensor.of('int64', ['batch']) } },
];
const reader = new TensorRequestReader(inputs);
const decodeRequest = createRequestDecoder(root, 't.PairRequest');

/** What the full strict decoder makes of the bytes: each input's tensor, or the error's message. */
function fullDecode(bytes: Buffer): Tensor[] | string {
  try {
    const message = decodeRequest(bytes);
    return inputs.map(({ name }) => decodeTensorProto(message[name] as TensorProtoMessage, name));
  } catch (error) {
    return (error as Error).message;
  }
}

/** The same dtype, shape and values, and the same bytes kept in place (or both copied), at the same offset. */
function expectSameTensors(got: Tensor[], want: Tensor[], received: Uint8Array): void {
  expect(got.length).toBe(want.length);
  got.forEach((tensor, i) => {
    expect(tensor.dtype).toBe(want[i].dtype);
    expect(tensor.shape).toEqual(want[i].shape);
    const [g, w] = [bytesOf(tensor), bytesOf(want[i])];
    expect([g.buffer === received.buffer, g.byteOffset, g.byteLength]).toEqual([
      w.buffer === received.buffer,
      w.byteOffset,
      w.byteLength,
    ]);
    const [gd, wd] = [tensor.data, want[i].data];
    expect([gd.buffer === received.buffer, gd.byteOffset]).toEqual([wd.buffer === received.buffer, wd.byteOffset]);
    expect(Array.from(tensor.data as ArrayLike<unknown>)).toEqual(Array.from(want[i].data as ArrayLike<unknown>));
  });
}

const pair = (rows: number, dtypeA = 'float') =>
  PairRequest.encode({
    a: { shape: [rows, 4], dtype: dtypeA, data: Buffer.from(new Float32Array(rows * 4).map((_, i) => i / 3).buffer) },
    b: {
      shape: [rows],
      dtype: 'int64',
      data: Buffer.from(new BigInt64Array(rows).map((_, i) => BigInt(i) - 7n).buffer),
    },
  }).finish();

describe('TensorRequestReader', () => {
  it('serves models whose every input is a singular tensor', () => {
    expect(TensorRequestReader.serves(inputs)).toBe(true);
    expect(TensorRequestReader.serves([])).toBe(false);
    expect(
      TensorRequestReader.serves([...inputs, { name: 'c', number: 3, type: { kind: 'scalar', protoType: 'string' } }]),
    ).toBe(false);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7])(
    'reads a well-formed request at byte offset %i into the tensors the full decoder makes, over the same bytes',
    (offset) => {
      const bytes = atOffset(offset, pair(3));
      const tensors = reader.read(bytes);
      expect(tensors).toBeDefined();
      expectSameTensors(tensors!, fullDecode(bytes) as Tensor[], bytes);
    },
  );

  it('takes the float32 alias, and fields in any order', () => {
    const a = PairRequest.encode({
      b: { data: Buffer.alloc(8), dtype: 'int64', shape: [1] },
      a: { data: Buffer.alloc(16), shape: [1, 4], dtype: 'float32' },
    }).finish();
    const tensors = reader.read(Buffer.from(a));
    expect(tensors?.map((t) => t.dtype)).toEqual(['float', 'int64']);
    const bytes = Buffer.from(a);
    expectSameTensors(reader.read(bytes)!, fullDecode(bytes) as Tensor[], bytes);
  });

  it.each([
    ['no bytes', Buffer.alloc(0)],
    [
      'a missing input',
      Buffer.from(PairRequest.encode({ a: { shape: [1, 4], dtype: 'float', data: Buffer.alloc(16) } }).finish()),
    ],
    ['an input sent twice (merged by proto3)', Buffer.concat([Buffer.from(pair(1)), Buffer.from(pair(1))])],
    ['an unknown field', Buffer.concat([Buffer.from(pair(1)), Buffer.from([0x18, 0x01])])],
    ['an unknown dtype', Buffer.from(pair(1, 'complex'))],
    [
      'empty data',
      Buffer.from(
        PairRequest.encode({ a: { shape: [0, 4], dtype: 'float' }, b: { shape: [0], dtype: 'int64' } }).finish(),
      ),
    ],
    [
      'a size mismatch',
      Buffer.from(
        PairRequest.encode({
          a: { shape: [2, 4], dtype: 'float', data: Buffer.alloc(16) },
          b: { shape: [1], dtype: 'int64', data: Buffer.alloc(8) },
        }).finish(),
      ),
    ],
    [
      'a negative dimension',
      Buffer.from(
        PairRequest.encode({
          a: { shape: [-1, 4], dtype: 'float', data: Buffer.alloc(16) },
          b: { shape: [1], dtype: 'int64', data: Buffer.alloc(8) },
        }).finish(),
      ),
    ],
    // a = { shape: [1, 4] unpacked, dtype 'float', data 16 bytes }, b as usual
    [
      'an unpacked shape',
      Buffer.concat([
        Buffer.from([0x0a, 0x1d, 0x08, 0x01, 0x08, 0x04, 0x12, 0x05]),
        Buffer.from('float'),
        Buffer.from([0x1a, 0x10]),
        Buffer.alloc(16),
        Buffer.from(PairRequest.encode({ b: { shape: [1], dtype: 'int64', data: Buffer.alloc(8) } }).finish()),
      ]),
    ],
  ])('leaves %s to the full decoder', (_case, bytes) => {
    expect(reader.read(bytes)).toBeUndefined();
  });

  it('leaves valid requests it does not take (an unpacked shape, a merged input) to the full decoder, which reads them', () => {
    const unpacked = Buffer.concat([
      Buffer.from([0x0a, 0x1d, 0x08, 0x01, 0x08, 0x04, 0x12, 0x05]),
      Buffer.from('float'),
      Buffer.from([0x1a, 0x10]),
      Buffer.alloc(16),
      Buffer.from(PairRequest.encode({ b: { shape: [1], dtype: 'int64', data: Buffer.alloc(8) } }).finish()),
    ]);
    expect((fullDecode(unpacked) as Tensor[]).map((t) => t.shape)).toEqual([[1, 4], [1]]);
    const merged = Buffer.concat([
      Buffer.from(pair(1)),
      Buffer.from(PairRequest.encode({ a: { dtype: 'float32' } }).finish()),
    ]);
    expect((fullDecode(merged) as Tensor[]).map((t) => t.dtype)).toEqual(['float', 'int64']);
    expect(reader.read(unpacked)).toBeUndefined();
    expect(reader.read(merged)).toBeUndefined();
  });

  it('fuzz: for 20,000 seeded mutations, whatever it reads, the full decoder reads the same; it reads the unmutated requests', () => {
    const random = seededRandom(0x5eed);
    const seeds = [pair(1), pair(2), pair(5), pair(1, 'float32')];
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      const seed = seeds[i % seeds.length];
      const mutated = i < seeds.length ? Buffer.from(seed) : mutateBytes(seed, random, { deletions: true });
      const bytes = atOffset(random(8), mutated);
      const tensors = reader.read(bytes);
      if (i < seeds.length) expect(tensors).toBeDefined();
      if (!tensors) continue;
      read++;
      const full = fullDecode(bytes);
      if (typeof full === 'string')
        throw new Error(`read bytes the full decoder refuses (${full}): ${bytes.toString('hex')}`);
      expectSameTensors(tensors, full, bytes);
    }
    expect(read).toBeGreaterThan(seeds.length);
  });
});
