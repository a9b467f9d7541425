import { status as GrpcStatus } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { CallStatusError, Tensor, ValidationError } from '../../lib/index.js';
import { DEFAULT_LIMITS } from '../../lib/core/options/resolve-options.js';
import { blazeRpcRequestCaps } from '../../lib/protocols/blazerpc/request-caps.js';
import { TensorRequestReader } from '../../lib/protocols/blazerpc/tensor-request.reader.js';
import {
  decodeRawBytes,
  decodeRawStrings,
  encodeRawBytes,
  NOT_UTF8,
} from '../../lib/protocols/shared/oip-bytes.codec.js';
import {
  checkInputsOutline,
  decodeInferInputs,
  type InferInputMessage,
} from '../../lib/protocols/oip/oip-infer.codec.js';
import {
  InferRequestReader,
  oipRequestCaps,
  outlineInferRequest,
} from '../../lib/protocols/oip/oip-infer-request.reader.js';
import { oipSignatureOf, type OipTensorSignature } from '../../lib/protocols/oip/oip-signature.js';
import { OIP_PROTO } from '../../lib/protocols/shared/oip.proto.js';
import type { ModelDescriptor } from '../../lib/core/schema/model-descriptor.interface.js';
import { parseProto } from '../../lib/core/schema/package-definition.js';
import { MAX_REQUEST_DIMS } from '../../lib/core/tensor/tensor-spec.check.js';
import { createRequestDecoder } from '../../lib/protocols/shared/request-decoder.js';
import {
  MAX_SINGULAR_REPEATS,
  MAX_UNKNOWN_FIELDS,
  type FieldCap,
} from '../../lib/protocols/shared/wire-format.validator.js';
import { field, repeat, varint, varintField } from '../helpers/protobuf-pieces.js';

const times = (count: number, piece: Buffer) => repeat(piece, count);
const LIMITS = {
  ...DEFAULT_LIMITS,
  maxInputs: 3,
  maxOutputs: 2,
  maxParameters: 3,
  maxParameterBytes: 16,
  maxBytesElements: 5,
};

const CUT_OFF = Buffer.from([0x0a, 0x05, 0x61]); // a string field claiming 5 bytes, with 1

/** The error a call throws: its class, gRPC code and message. */
function refusal(call: () => unknown): { kind: string; code?: GrpcStatus; message: string } {
  try {
    call();
  } catch (error) {
    const code = error instanceof CallStatusError ? error.code : undefined;
    return {
      kind: (error as Error).constructor.name,
      ...(code === undefined ? {} : { code }),
      message: (error as Error).message,
    };
  }
  throw new Error('expected a refusal');
}
const exhausted = (message: string) => ({ kind: 'CallStatusError', code: GrpcStatus.RESOURCE_EXHAUSTED, message });
const invalid = (message: string) => ({ kind: 'ValidationError', message });

describe('request limits', () => {
  describe('the strict decoder counts caps while it walks, and stops at the first element past one', () => {
    const root = protobuf.parse(
      `syntax = "proto3"; package t;
       message Item { string key = 1; repeated int64 dims = 2; }
       message Request { repeated Item items = 1; repeated string words = 2; string name = 3; map<string, string> tags = 4; repeated int64 ids = 5; }`,
      { keepCase: true },
    ).root;
    const tooMany = (what: string) => () => new CallStatusError(GrpcStatus.RESOURCE_EXHAUSTED, `too many ${what}`);
    const caps: FieldCap[] = [
      { counts: (f) => f.name === 'items' || f.name === 'words', max: 4, refuse: tooMany('items and words') },
      {
        counts: (f) => f.message === 't.Item' && f.name === 'dims',
        per: 'message',
        max: 3,
        refuse: (top) => new ValidationError(`${top}: too many dims`),
      },
      { counts: (f) => f.map, max: 2, refuse: tooMany('tags') },
      {
        counts: (f) => f.mapKey || (f.message === 't.Item' && f.name === 'key'),
        measure: 'bytes',
        max: 8,
        refuse: tooMany('key bytes'),
      },
    ];
    const decode = createRequestDecoder(root, 't.Request', caps);
    const item = (key: string, dims: number[] = []) =>
      field(1, Buffer.concat([field(1, key), ...(dims.length ? [field(2, Buffer.concat(dims.map(varint)))] : [])]));
    const word = (text: string) => field(2, text);
    const tag = (key: string, value: string) => field(4, Buffer.concat([field(1, key), field(2, value)]));

    it('takes a request at every cap, with the values a full decode gives', () => {
      const request = Buffer.concat([
        item('ab', [1, 2, 3]),
        item('cd', [4, 5, 6]),
        word('x'),
        word('y'),
        tag('e', 'v'),
        tag('f', 'v'),
      ]);
      expect(decode(request)).toMatchObject({
        items: [{ key: 'ab', dims: ['1', '2', '3'] }, { key: 'cd' }],
        words: ['x', 'y'],
        tags: { e: 'v', f: 'v' },
      });
    });

    it('sums a request-wide cap over every field it counts', () => {
      expect(refusal(() => decode(Buffer.concat([item('a'), item('b'), word('x'), word('y'), word('z')])))).toEqual(
        exhausted('too many items and words'),
      );
    });

    it('refuses at the first element past a cap, never reading what follows it', () => {
      // The bytes after the fifth word are malformed; a decoder that read them would say so.
      expect(refusal(() => decode(Buffer.concat([times(5, word('w')), CUT_OFF])))).toEqual(
        exhausted('too many items and words'),
      );
      expect(refusal(() => decode(Buffer.concat([times(4, word('w')), CUT_OFF])))).toMatchObject({
        message: expect.stringMatching(/^Malformed Request/),
      });
    });

    it('keeps a per-message cap per message, counts packed runs element by element, and names the top-level field', () => {
      expect(decode(Buffer.concat([item('a', [1, 2, 3]), item('b', [1, 2, 3])]))).toMatchObject({
        items: [{ dims: ['1', '2', '3'] }, { dims: ['1', '2', '3'] }],
      });
      expect(refusal(() => decode(item('a', [1, 2, 3, 4])))).toEqual(invalid('items: too many dims'));
      // Unpacked entries and several packed runs of one message add up.
      const split = field(1, Buffer.concat([field(2, Buffer.from([1, 2])), varintField(2, 3), varintField(2, 4)]));
      expect(refusal(() => decode(split))).toEqual(invalid('items: too many dims'));
    });

    it('counts map entries, and the bytes of map keys and other fields', () => {
      expect(refusal(() => decode(Buffer.concat([tag('a', ''), tag('b', ''), tag('c', '')])))).toEqual(
        exhausted('too many tags'),
      );
      expect(refusal(() => decode(Buffer.concat([tag('abcd', ''), item('efghi')])))).toEqual(
        exhausted('too many key bytes'),
      );
      expect(decode(Buffer.concat([tag('abcd', ''), item('efgh')]))).toMatchObject({
        tags: { abcd: '' },
        items: [{ key: 'efgh' }],
      });
    });

    it('leaves what no cap counts alone: 100,000 packed ids', () => {
      const ids = field(5, Buffer.alloc(100_000, 1));
      expect((decode(ids).ids as string[]).length).toBe(100_000);
    });
  });

  describe('bounds of every strict decoder, caps or none', () => {
    const root = protobuf.parse(
      'syntax = "proto3"; package t; message Inner { string a = 1; } message Request { string name = 1; Inner inner = 2; repeated string list = 3; }',
      {
        keepCase: true,
      },
    ).root;
    const decode = createRequestDecoder(root, 't.Request');
    const unknown = varintField(15, 1);

    it(`skips ${MAX_UNKNOWN_FIELDS} fields of unknown numbers, and refuses one more, inside groups too`, () => {
      expect(decode(Buffer.concat([times(MAX_UNKNOWN_FIELDS, unknown), field(1, 'n')]))).toMatchObject({ name: 'n' });
      expect(() => decode(times(MAX_UNKNOWN_FIELDS + 1, unknown))).toThrow(
        /^Malformed Request message: more than 1024 fields of unknown numbers/,
      );
      const group = Buffer.concat([varint(16 * 8 + 3), times(MAX_UNKNOWN_FIELDS, unknown), varint(16 * 8 + 4)]);
      expect(() => decode(group)).toThrow(/more than 1024 fields of unknown numbers \(in group 16\)/);
    });

    it(`takes a singular field ${MAX_SINGULAR_REPEATS} times (the last counts, messages merge), and refuses one more, nested too`, () => {
      expect(
        decode(Buffer.concat(Array.from({ length: MAX_SINGULAR_REPEATS }, (_, i) => field(1, `n${i}`)))),
      ).toMatchObject({ name: 'n63' });
      expect(() => decode(times(MAX_SINGULAR_REPEATS + 1, field(1, 'n')))).toThrow(
        /^Malformed Request message: field 'name' sent more than 64 times/,
      );
      expect(() => decode(field(2, times(MAX_SINGULAR_REPEATS + 1, field(1, 'a'))))).toThrow(
        /field 'a' sent more than 64 times/,
      );
      expect(() => decode(times(MAX_SINGULAR_REPEATS + 1, field(2, field(1, 'a'))))).toThrow(
        /field 'inner' sent more than 64 times/,
      );
      // A repeated field has no such bound.
      expect((decode(times(10_000, field(3, 'x'))).list as string[]).length).toBe(10_000);
    });

    it('reads tags and lengths as protobufjs does: five bytes and 32 bits at most', () => {
      // The name field's tag (0x0a) written in six bytes, then in five with bits past 32.
      expect(() => decode(Buffer.from([0x8a, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01, 0x61]))).toThrow(
        /a field tag is an overlong varint/,
      );
      expect(() => decode(Buffer.from([0x8a, 0x80, 0x80, 0x80, 0x70, 0x01, 0x61]))).toThrow(
        /a field tag is over 32 bits/,
      );
      expect(() => decode(Buffer.from([0x0a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x61]))).toThrow(
        /the length of field 'name' is an overlong varint/,
      );
      // Non-minimal, but within five bytes: what protobufjs reads too.
      expect(decode(Buffer.from([0x8a, 0x80, 0x00, 0x81, 0x80, 0x00, 0x61]))).toMatchObject({ name: 'a' });
    });

    it('checks UTF-8 of short and long strings alike', () => {
      expect(() => decode(field(1, Buffer.from([0x61, 0xc3, 0x28])))).toThrow(/field 'name' is not valid UTF-8/);
      expect(() => decode(field(1, Buffer.concat([Buffer.alloc(100, 0x61), Buffer.from([0xff])])))).toThrow(
        /field 'name' is not valid UTF-8/,
      );
      expect(() => decode(Buffer.concat([field(3, 'ok'), field(3, Buffer.from([0xe2, 0x82]))]))).toThrow(
        /field 'list' is not valid UTF-8/,
      );
      expect(decode(field(1, 'héllo wörld'.repeat(20)))).toMatchObject({ name: 'héllo wörld'.repeat(20) });
    });
  });

  describe('OIP ModelInferRequest caps (oipRequestCaps)', () => {
    const root = parseProto(OIP_PROTO);
    const ModelInferRequest = root.lookupType('inference.ModelInferRequest');
    const decode = createRequestDecoder(root, 'inference.ModelInferRequest', oipRequestCaps(LIMITS));
    const encode = (message: object) =>
      Buffer.from(ModelInferRequest.encode(ModelInferRequest.fromObject(message)).finish());
    const input = (name: string, extra: object = {}) => ({ name, datatype: 'BYTES', shape: [1], ...extra });
    const params = (count: number, prefix = 'p') =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, { bool_param: true }]));

    it.each([
      [
        'inputs',
        { inputs: [input('a'), input('b'), input('c'), input('d')] },
        'request has more than 3 inputs; at most 3 are accepted (limits.maxInputs)',
      ],
      [
        'raw_input_contents entries',
        { raw_input_contents: [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)] },
        'request has more than 3 raw_input_contents entries; at most 3 are accepted (limits.maxInputs)',
      ],
      [
        'outputs',
        { outputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
        'request asks for more than 2 outputs; at most 2 are accepted (limits.maxOutputs)',
      ],
      [
        'request parameters',
        { parameters: params(4) },
        'request has more than 3 parameters; at most 3 are accepted (limits.maxParameters)',
      ],
      [
        'parameters of the request, an input and an output in all',
        {
          parameters: params(2),
          inputs: [input('a', { parameters: params(1, 'i') })],
          outputs: [{ name: 'r', parameters: params(1, 'o') }],
        },
        'request has more than 3 parameters; at most 3 are accepted (limits.maxParameters)',
      ],
      [
        'parameter key and string bytes',
        { parameters: { key: { string_param: 'x'.repeat(14) } } },
        'request parameters hold more than 16 bytes of keys and string values; at most 16 are accepted (limits.maxParameterBytes)',
      ],
      [
        'bytes_contents elements',
        {
          inputs: [
            input('a', { shape: [6], contents: { bytes_contents: Array.from({ length: 6 }, () => Buffer.from('b')) } }),
          ],
        },
        'request has more than 5 BYTES elements; at most 5 are accepted (limits.maxBytesElements)',
      ],
    ])('refuses more %s than the cap with RESOURCE_EXHAUSTED', (_, request, message) => {
      expect(refusal(() => decode(encode(request)))).toEqual(exhausted(message));
    });

    it('takes a request at every cap', () => {
      const request = {
        parameters: params(1),
        inputs: [
          input('a', {
            parameters: params(1, 'i'),
            shape: [5],
            contents: { bytes_contents: Array.from({ length: 5 }, () => Buffer.from('b')) },
          }),
          input('b'),
          input('c'),
        ],
        outputs: [{ name: 'r', parameters: params(1, 'o') }, { name: 's' }],
        raw_input_contents: [Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(1)],
      };
      expect(decode(encode(request))).toMatchObject({
        inputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
        outputs: [{ name: 'r' }, { name: 's' }],
      });
    });

    it(`refuses an input shape of more than ${MAX_REQUEST_DIMS} dimensions with INVALID_ARGUMENT, packed or not`, () => {
      const shaped = (shape: Buffer) => field(5, Buffer.concat([field(1, 'a'), field(2, 'BYTES'), shape]));
      const message = invalid(
        `an input's shape has more than ${MAX_REQUEST_DIMS} dimensions; at most ${MAX_REQUEST_DIMS} are accepted`,
      );
      expect(refusal(() => decode(shaped(field(3, Buffer.alloc(4_000_000, 1)))))).toEqual(message);
      expect(refusal(() => decode(shaped(times(MAX_REQUEST_DIMS + 1, varintField(3, 1)))))).toEqual(message);
      expect(
        (decode(shaped(field(3, Buffer.alloc(MAX_REQUEST_DIMS, 1)))).inputs as Array<{ shape: string[] }>)[0]!.shape,
      ).toHaveLength(MAX_REQUEST_DIMS);
    });

    it('gives the one-pass reader up past the caps, so that the strict decoder refuses', () => {
      const reader = new InferRequestReader(LIMITS);
      const inputs = (count: number) => encode({ inputs: Array.from({ length: count }, (_, i) => input(`x${i}`)) });
      expect(reader.read(inputs(3))).toMatchObject({ inputs: [{ name: 'x0' }, { name: 'x1' }, { name: 'x2' }] });
      expect(reader.read(inputs(4))).toBeUndefined();
      expect(reader.read(encode({ outputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }))).toBeUndefined();
      expect(
        reader.read(
          encode({ raw_input_contents: [Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(1)] }),
        ),
      ).toBeUndefined();
      const dims = (count: number) => encode({ inputs: [input('a', { shape: new Array<number>(count).fill(1) })] });
      expect(reader.read(dims(MAX_REQUEST_DIMS))).toBeDefined();
      expect(reader.read(dims(MAX_REQUEST_DIMS + 1))).toBeUndefined();
    });
  });

  describe('OIP typed contents checked against the declaration before decoding (outlineInferRequest, checkInputsOutline)', () => {
    const root = parseProto(OIP_PROTO);
    const ModelInferRequest = root.lookupType('inference.ModelInferRequest');
    const encode = (message: object) =>
      Buffer.from(ModelInferRequest.encode(ModelInferRequest.fromObject(message)).finish());
    const model = (inputs: ModelDescriptor['inputs']) =>
      ({
        name: 'm',
        version: '1',
        inputs,
        outputs: [{ name: 'result', number: 1, type: { kind: 'scalar', protoType: 'string' } }],
      }) as unknown as ModelDescriptor;
    const signature = (inputs: ModelDescriptor['inputs']) =>
      (oipSignatureOf(model(inputs)) as unknown as { inputs: OipTensorSignature[] }).inputs;
    const floats = signature([{ name: 'x', number: 1, type: { kind: 'tensor', spec: Tensor.of('float32', ['n']) } }]);
    const text = signature([{ name: 'text', number: 1, type: { kind: 'scalar', protoType: 'string' } }]);
    const half = signature([{ name: 'x', number: 1, type: { kind: 'tensor', spec: Tensor.of('float16', ['n']) } }]);
    const check = (inputs: readonly OipTensorSignature[], request: object) => () =>
      checkInputsOutline(inputs, outlineInferRequest(encode(request))!);

    it('outlines the model, version, raw count and each input, counting each list', () => {
      const outline = outlineInferRequest(
        encode({
          model_name: 'm',
          model_version: '2',
          inputs: [
            {
              name: 'x',
              datatype: 'FP32',
              shape: [2, 3],
              contents: { fp32_contents: [1, 2, 3], int_contents: [300, 1] },
            },
            { name: 'y', datatype: 'BYTES', shape: [3], contents: { bytes_contents: [Buffer.from('a')] } },
            { name: 'z', datatype: 'INT64', shape: [2, -1], contents: { int64_contents: [1, 2] } },
          ],
          raw_input_contents: [Buffer.alloc(1)],
        }),
      );
      expect(outline).toEqual({
        modelName: 'm',
        modelVersion: '2',
        rawCount: 1,
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: ['2', '3'],
            contents: new Map([
              ['int_contents', 2],
              ['fp32_contents', 3],
            ]),
            more: false,
          },
          { name: 'y', datatype: 'BYTES', shape: ['3'], contents: new Map([['bytes_contents', 1]]), more: false },
          // A negative dimension reads as the decoder gives it, and makes the shape hold nothing: counting stops at the first element.
          { name: 'z', datatype: 'INT64', shape: ['2', '-1'], contents: new Map([['int64_contents', 1]]), more: true },
        ],
      });
    });

    it('stops counting a list once it holds more elements than the shape', () => {
      const outline = outlineInferRequest(
        encode({
          inputs: [
            { name: 'x', datatype: 'INT32', shape: [2], contents: { int_contents: new Array(100_000).fill(1) } },
          ],
        }),
      )!;
      expect(outline.inputs[0]).toMatchObject({ contents: new Map([['int_contents', 3]]), more: true });
    });

    it('refuses what decodeInferInputs would, in its words', () => {
      expect(
        refusal(
          check(floats, {
            inputs: [{ name: 'x', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1, 2, 3] } }],
          }),
        ),
      ).toEqual(invalid("Input 'x': the shape has 2 elements, contents.fp32_contents has more than 2"));
      expect(
        refusal(
          check(floats, {
            inputs: [{ name: 'x', datatype: 'FP32', shape: [4], contents: { fp32_contents: [1, 2, 3] } }],
          }),
        ),
      ).toEqual(invalid("Input 'x': the shape has 4 elements, contents.fp32_contents has 3"));
      expect(
        refusal(
          check(floats, {
            inputs: [
              {
                name: 'x',
                datatype: 'FP32',
                shape: [1],
                contents: { fp32_contents: [1], bytes_contents: [Buffer.from('a')] },
              },
            ],
          }),
        ),
      ).toEqual(invalid("Input 'x': FP32 values go in contents.fp32_contents, not contents.bytes_contents"));
      expect(
        refusal(
          check(floats, { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], contents: { fp64_contents: [1] } }] }),
        ),
      ).toEqual(invalid("Input 'x': expected datatype FP32, got FP64"));
      expect(
        refusal(
          check(text, {
            inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [Buffer.from('a')] } }],
          }),
        ),
      ).toEqual(invalid("Input 'text': expected shape [1], got [2]"));
      expect(
        refusal(
          check(half, { inputs: [{ name: 'x', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }] }),
        ),
      ).toEqual(invalid("Input 'x': FP16 data must be sent in raw_input_contents"));
      expect(
        refusal(
          check(text, {
            inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('a')] } }],
            raw_input_contents: [Buffer.alloc(5)],
          }),
        ),
      ).toEqual(invalid("Input 'text': data both in raw_input_contents and in contents; send one"));
    });

    it('lets through what fits, and leaves undeclared inputs to the decoder', () => {
      expect(
        check(floats, {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [3], contents: { fp32_contents: [1, 2, 3] } }],
        }),
      ).not.toThrow();
      expect(
        check(floats, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4)] }),
      ).not.toThrow();
      expect(
        check(floats, { inputs: [{ name: 'other', datatype: 'BYTES', shape: [9], contents: { fp32_contents: [1] } }] }),
      ).not.toThrow();
    });
  });

  describe('OIP BYTES elements (decodeInferInputs, decodeRawStrings)', () => {
    const words = signature([
      { name: 'words', number: 1, type: { kind: 'list', element: { kind: 'scalar', protoType: 'string' } } },
    ]);
    const inputOf = (shape: number[], contents: Buffer[] | null = null): InferInputMessage => ({
      name: 'words',
      datatype: 'BYTES',
      shape: shape.map(String),
      contents: contents && {
        bool_contents: [],
        int_contents: [],
        int64_contents: [],
        uint_contents: [],
        uint64_contents: [],
        fp32_contents: [],
        fp64_contents: [],
        bytes_contents: contents,
      },
    });

    function signature(inputs: ModelDescriptor['inputs']): OipTensorSignature[] {
      const descriptor = {
        name: 'm',
        version: '1',
        inputs,
        outputs: [{ name: 'result', number: 1, type: { kind: 'scalar', protoType: 'string' } }],
      };
      return (oipSignatureOf(descriptor as unknown as ModelDescriptor) as unknown as { inputs: OipTensorSignature[] })
        .inputs;
    }

    it('counts raw elements from the shape, before splitting anything, and typed ones from their list', () => {
      const raw = encodeRawBytes(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(refusal(() => decodeInferInputs(words, [inputOf([6])], [raw], new Map(), LIMITS))).toEqual(
        exhausted('request has 6 BYTES elements; at most 5 are accepted (limits.maxBytesElements)'),
      );
      // Counted before the raw bytes are looked at: these do not even hold the elements the shape claims.
      expect(
        refusal(() => decodeInferInputs(words, [inputOf([1_000_000])], [Buffer.alloc(8)], new Map(), LIMITS)),
      ).toEqual(exhausted('request has 1000000 BYTES elements; at most 5 are accepted (limits.maxBytesElements)'));
      const typed = inputOf(
        [6],
        ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => Buffer.from(s)),
      );
      expect(refusal(() => decodeInferInputs(words, [typed], [], new Map(), LIMITS))).toEqual(
        exhausted('request has 6 BYTES elements; at most 5 are accepted (limits.maxBytesElements)'),
      );
      expect(
        decodeInferInputs(words, [inputOf([5])], [encodeRawBytes(['a', 'b', 'c', 'd', 'é'])], new Map(), LIMITS),
      ).toEqual({
        words: ['a', 'b', 'c', 'd', 'é'],
      });
    });

    it('reads strings straight from raw BYTES: empty, ASCII short and long, UTF-8, and refuses invalid UTF-8', () => {
      const texts = ['', 'ascii', 'x'.repeat(200), 'héllo', '日本語', '👩‍🔬'];
      expect(decodeRawStrings(encodeRawBytes(texts), texts.length)).toEqual(texts);
      expect(decodeRawStrings(encodeRawBytes(['ok', new Uint8Array([0xc3, 0x28])]), 2)).toBe(NOT_UTF8);
      expect(decodeRawStrings(encodeRawBytes(['x'.repeat(100) + '\u00ff']), 1)).toEqual(['x'.repeat(100) + '\u00ff']);
    });

    it('refuses a raw buffer as decodeRawBytes does, stopping at the first element past the shape', () => {
      // Past the second element the bytes are malformed; the walk never gets there.
      const raw = Buffer.concat([encodeRawBytes(['a', 'b']), Buffer.from([9, 9])]);
      expect(decodeRawStrings(raw, 1)).toBe('holds more than 1 elements, but the shape has 1');
      expect(decodeRawBytes(raw, 1)).toBe('holds more than 1 elements, but the shape has 1');
      expect(decodeRawStrings(Buffer.alloc(4_000_000), 1)).toBe('holds more than 1 elements, but the shape has 1');
      expect(decodeRawStrings(encodeRawBytes(['a']), 2)).toBe(
        'has 5 bytes, too few for the 2 elements of the shape (each takes at least 4)',
      );
    });
  });

  describe('BlazeRPC request caps (blazeRpcRequestCaps)', () => {
    const root = protobuf.parse(
      `syntax = "proto3"; package t;
       message TensorProto { repeated int64 shape = 1; string dtype = 2; bytes data = 3; }
       message Request { repeated string words = 1; repeated bytes blobs = 2; repeated TensorProto images = 3; TensorProto x = 4; }`,
      { keepCase: true },
    ).root;
    const decode = createRequestDecoder(root, 't.Request', blazeRpcRequestCaps(LIMITS));
    const tensor = (dims: number) =>
      Buffer.concat([field(1, Buffer.alloc(dims, 1)), field(2, 'float'), field(3, Buffer.alloc(4))]);

    it('refuses more string and bytes list elements than maxBytesElements, over all lists', () => {
      expect(decode(Buffer.concat([times(3, field(1, 'w')), times(2, field(2, 'b'))]))).toMatchObject({
        words: ['w', 'w', 'w'],
      });
      expect(refusal(() => decode(Buffer.concat([times(3, field(1, 'w')), times(3, field(2, 'b'))])))).toEqual(
        exhausted(
          "request has more than 5 string and bytes list elements (at 'blobs'); at most 5 are accepted (limits.maxBytesElements)",
        ),
      );
    });

    it('refuses more tensors in lists than maxInputs; a singular tensor does not count', () => {
      expect(decode(Buffer.concat([times(3, field(3, tensor(1))), field(4, tensor(1))]))).toMatchObject({
        images: [{}, {}, {}],
      });
      expect(refusal(() => decode(times(4, field(3, tensor(1)))))).toEqual(
        exhausted("request has more than 3 tensors in lists (at 'images'); at most 3 are accepted (limits.maxInputs)"),
      );
    });

    it(`refuses a tensor shape of more than ${MAX_REQUEST_DIMS} dimensions, naming the input, and the one-pass reader leaves it to the decoder`, () => {
      expect(refusal(() => decode(field(4, tensor(MAX_REQUEST_DIMS + 1))))).toEqual(
        invalid(
          `Input 'x': shape has more than ${MAX_REQUEST_DIMS} dimensions; at most ${MAX_REQUEST_DIMS} are accepted`,
        ),
      );
      expect(refusal(() => decode(field(3, tensor(4_000_000))))).toEqual(
        invalid(
          `Input 'images': shape has more than ${MAX_REQUEST_DIMS} dimensions; at most ${MAX_REQUEST_DIMS} are accepted`,
        ),
      );
      const reader = new TensorRequestReader([
        { name: 'x', number: 1, type: { kind: 'tensor', spec: Tensor.of('float32', ['n']) } },
      ]);
      expect(reader.read(field(1, tensor(MAX_REQUEST_DIMS)))).toBeDefined();
      expect(reader.read(field(1, tensor(MAX_REQUEST_DIMS + 1)))).toBeUndefined();
    });
  });
});
