import { DEFAULT_LIMITS } from '../../lib/core/options/resolve-options.js';
import { InferRequestReader } from '../../lib/protocols/oip/oip-infer-request.reader.js';
import { OIP_PROTO } from '../../lib/protocols/shared/oip.proto.js';
import { parseProto } from '../../lib/core/schema/package-definition.js';
import { createRequestDecoder } from '../../lib/protocols/shared/request-decoder.js';
import { mutateBytes, seededRandom } from '../helpers/seeded-mutations.js';
import { atOffset } from '../helpers/received-bytes.js';

// As the OIP front end does: the strict decoder every ModelInferRequest went through before the reader.
const root = parseProto(OIP_PROTO);
const ModelInferRequest = root.lookupType('inference.ModelInferRequest');
const decodeRequest = createRequestDecoder(root, 'inference.ModelInferRequest');
const reader = new InferRequestReader(DEFAULT_LIMITS);

/** What the full strict decoder makes of the bytes, or the error's message. */
function fullDecode(bytes: Buffer): Record<string, unknown> | string {
  try {
    return decodeRequest(bytes);
  } catch (error) {
    return (error as Error).message;
  }
}

/** The same object, and raw contents over the same received bytes at the same offsets. */
function expectSameRequest(got: Record<string, unknown>, want: Record<string, unknown>, received: Buffer): void {
  expect(got).toStrictEqual(want);
  const [g, w] = [got.raw_input_contents as Buffer[], want.raw_input_contents as Buffer[]];
  g.forEach((bytes, i) => {
    expect(bytes).toBeInstanceOf(Buffer);
    expect([bytes.buffer === received.buffer, bytes.byteOffset, bytes.byteLength]).toEqual([
      w[i].buffer === received.buffer,
      w[i].byteOffset,
      w[i].byteLength,
    ]);
  });
}

const features = Buffer.from(new Float32Array([5.1, 3.5, 1.4, 0.2]).buffer);
const encode = (message: object) =>
  Buffer.from(ModelInferRequest.encode(ModelInferRequest.fromObject(message)).finish());
const iris = (extra: object = {}) =>
  encode({
    model_name: 'iris',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }],
    raw_input_contents: [features],
    ...extra,
  });

describe('InferRequestReader', () => {
  it.each<[string, Buffer]>([
    ['an iris request', iris()],
    [
      'a version, an id and requested outputs',
      iris({ model_version: '2', id: 'req-7', outputs: [{ name: 'scores' }, { name: 'labels' }] }),
    ],
    ['an empty request', Buffer.alloc(0)],
    [
      'inputs without raw contents, or shape',
      encode({ model_name: 'm', inputs: [{ name: 'a', datatype: 'BYTES' }, { name: 'b' }] }),
    ],
    [
      'several inputs, large dimensions and data',
      encode({
        model_name: 'm',
        inputs: [
          { name: 'image', datatype: 'UINT8', shape: [1, 300, 70] },
          { name: 'k', datatype: 'INT64', shape: [2 ** 40] },
          { name: 's', datatype: 'FP32', shape: [] },
        ],
        raw_input_contents: [new Uint8Array(21_000).map((_, i) => i), new Uint8Array(0), Buffer.from([1, 2, 3])],
      }),
    ],
    ['an input sent twice (the model decides)', iris({ inputs: [{ name: 'x' }, { name: 'x' }] })],
  ])('reads %s as the full decoder does', (_case, encoded) => {
    for (const offset of [0, 1, 3]) {
      const bytes = atOffset(offset, encoded);
      const want = fullDecode(bytes);
      expect(typeof want).toBe('object');
      expectSameRequest(reader.read(bytes)!, want as Record<string, unknown>, bytes);
    }
  });

  it.each<[string, Buffer]>([
    ['request parameters', iris({ parameters: { priority: { int64_param: 1 } } })],
    [
      'input parameters',
      iris({
        inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], parameters: { a: { bool_param: true } } }],
      }),
    ],
    ['output parameters', iris({ outputs: [{ name: 'scores', parameters: { a: { bool_param: true } } }] })],
    [
      'typed contents',
      encode({
        model_name: 'iris',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }],
      }),
    ],
    ['a non-ASCII name', iris({ model_name: 'modèle' })],
    ['a negative dimension', iris({ inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }] })],
    ['a model name sent twice', Buffer.concat([encode({ model_name: 'a' }), iris()])],
    ['an unknown field', Buffer.concat([iris(), Buffer.from([0x40, 0x01])])],
    ['an unpacked shape', Buffer.from([0x2a, 0x04, 0x18, 0x01, 0x18, 0x04])],
    ['a cut-off message', iris().subarray(0, 20)],
  ])('leaves %s to the full decoder', (_case, bytes) => {
    expect(reader.read(bytes)).toBeUndefined();
  });

  it('reads randomly mutated requests only as the full decoder does, and leaves every refusal to it', () => {
    const random = seededRandom(5);
    const originals = [
      iris(),
      iris({ model_version: '1', id: 'abc', outputs: [{ name: 'scores' }] }),
      encode({ model_name: 'm', inputs: [{ name: 'a' }, { name: 'b' }] }),
    ];
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      let bytes: Buffer = originals[i % originals.length];
      for (let n = 1 + random(3); n > 0; n--) bytes = mutateBytes(bytes, random, { deletions: true });
      bytes = atOffset(random(4), bytes);
      const got = reader.read(bytes);
      if (got === undefined) continue;
      read++;
      const want = fullDecode(bytes);
      if (typeof want === 'string')
        throw new Error(`read what the full decoder refuses (${want}): ${bytes.toString('hex')}`);
      expectSameRequest(got, want, bytes);
    }
    // Many mutations keep a well-formed request (a changed name, size or value): those are read.
    expect(read).toBeGreaterThan(2000);
  });
});
