import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BlazeRpcModule,
  Bytes,
  Float32,
  Float64,
  InferenceError,
  Input,
  Int32,
  Int64,
  Model,
  ModelRegistry,
  Tensor,
  UInt32,
  UInt64,
  ValidationError,
  type FieldType,
  type ModelDescriptor,
  type TensorDType,
} from '../../lib/index.js';
import { decodeRawBytes } from '../../lib/protocols/shared/oip-bytes.codec.js';
import type { OipDatatype } from '../../lib/protocols/shared/oip-datatype.js';
import {
  decodeInferInputs,
  encodeInferOutputs,
  type InferInputMessage,
  type TensorContentsMessage,
} from '../../lib/protocols/oip/oip-infer.codec.js';
import { oipSignatureOf, type OipTensorSignature } from '../../lib/protocols/oip/oip-signature.js';
import type { SymbolBindings } from '../../lib/core/tensor/tensor-spec.check.js';
import { OipModels } from '../fixtures/oip.models.js';
import { TypedModels } from '../fixtures/typed.models.js';

/** Every scalar type as an input and as a named output. */
@Injectable()
class ScalarModels {
  @Model('scalars', {
    returns: {
      flag: Boolean,
      i32: Int32,
      u32: UInt32,
      i64: Int64,
      u64: UInt64,
      f32: Float32,
      f64: Float64,
      text: String,
      blob: Bytes,
    },
  })
  scalars(
    @Input('flag', Boolean) flag: boolean,
    @Input('i32', Int32) i32: number,
    @Input('u32', UInt32) u32: number,
    @Input('i64', Int64) i64: bigint,
    @Input('u64', UInt64) u64: bigint,
    @Input('f32', Float32) f32: number,
    @Input('f64', Float64) f64: number,
    @Input('text', String) text: string,
    @Input('blob', Bytes) blob: Buffer,
  ) {
    return { flag, i32, u32, i64, u64, f32, f64, text, blob };
  }

  @Model('lists', {
    returns: {
      flags: [Boolean],
      ints: [Int32],
      longs: [Int64],
      ulongs: [UInt64],
      floats: [Float32],
      words: [String],
      blobs: [Bytes],
    },
  })
  lists(
    @Input('flags', [Boolean]) flags: boolean[],
    @Input('ints', [Int32]) ints: number[],
    @Input('longs', [Int64]) longs: bigint[],
    @Input('ulongs', [UInt64]) ulongs: bigint[],
    @Input('floats', [Float32]) floats: number[],
    @Input('words', [String]) words: string[],
    @Input('blobs', [Bytes]) blobs: Buffer[],
  ) {
    return { flags, ints, longs, ulongs, floats, words, blobs };
  }

  /** Two outputs sharing a symbolic dimension that no input binds. */
  @Model('pair', { returns: { a: Tensor.of('float32', ['m']), b: Tensor.of('float32', ['m']) } })
  pair(@Input('x', Tensor.of('float32', ['n'])) x: Tensor) {
    return { a: x, b: x };
  }
}

// --- building requests as the route hands them over (decoded ModelInferRequest parts) ---

const EMPTY_CONTENTS: TensorContentsMessage = {
  bool_contents: [],
  int_contents: [],
  int64_contents: [],
  uint_contents: [],
  uint64_contents: [],
  fp32_contents: [],
  fp64_contents: [],
  bytes_contents: [],
};

function input(
  name: string,
  datatype: string,
  shape: Array<number | string>,
  contents?: Partial<TensorContentsMessage>,
): InferInputMessage {
  return { name, datatype, shape: shape.map(String), contents: contents ? { ...EMPTY_CONTENTS, ...contents } : null };
}

/** A typed array's bytes, in a fresh (aligned) buffer. */
const bytesOfArray = (array: ArrayBufferView) =>
  Buffer.from(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
const raw32 = (...values: number[]) => bytesOfArray(new Float32Array(values));
const rawText = (...texts: Array<string | Uint8Array>) =>
  Buffer.concat(
    texts.flatMap((text) => {
      const bytes = typeof text === 'string' ? Buffer.from(text) : Buffer.from(text);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
/** Raw FP32 bytes read back as numbers. */
const readFloats = (raw: Uint8Array) => Array.from(new Float32Array(Uint8Array.from(raw).buffer));
const readRawBytes = (raw: Uint8Array, count: number) => {
  const elements = decodeRawBytes(raw, count);
  if (typeof elements === 'string') throw new Error(elements);
  return elements.map((e) => Buffer.from(e).toString());
};

/** What a call throws, for asserting on its class and message together. */
function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw, got none');
}

/** A model descriptor built by hand, for tensors of every dtype (one input `x`, one output `result`). */
function tensorModel(dtype: TensorDType): ModelDescriptor {
  const type: FieldType = { kind: 'tensor', spec: Tensor.of(dtype, ['n']) };
  return {
    name: `t-${dtype}`,
    version: '1',
    isDefault: true,
    streaming: false,
    inputStreaming: false,
    inputs: [{ name: 'x', number: 1, type }],
    outputs: [{ name: 'result', number: 1, type }],
    namedOutputs: false,
    rpcMethods: [],
    requestType: 'TRequest',
    responseType: 'TResponse',
    handler: 'Hand.built',
  };
}

function signatureOf(model: ModelDescriptor): {
  inputs: readonly OipTensorSignature[];
  outputs: readonly OipTensorSignature[];
} {
  const signature = oipSignatureOf(model);
  if ('unsupported' in signature) throw new Error(signature.unsupported);
  return signature;
}

/** Each numeric datatype with three values (edges included), its raw form and its typed `contents`. */
const NUMERIC: Array<{
  datatype: OipDatatype;
  dtype: TensorDType;
  values: ArrayBufferView & ArrayLike<number | bigint>;
  typed?: Partial<TensorContentsMessage>;
}> = [
  { datatype: 'BOOL', dtype: 'bool', values: new Uint8Array([1, 0, 1]), typed: { bool_contents: [true, false, true] } },
  { datatype: 'UINT8', dtype: 'uint8', values: new Uint8Array([0, 7, 255]), typed: { uint_contents: [0, 7, 255] } },
  {
    datatype: 'UINT16',
    dtype: 'uint16',
    values: new Uint16Array([0, 300, 65535]),
    typed: { uint_contents: [0, 300, 65535] },
  },
  {
    datatype: 'UINT32',
    dtype: 'uint32',
    values: new Uint32Array([0, 70000, 4294967295]),
    typed: { uint_contents: [0, 70000, 4294967295] },
  },
  {
    datatype: 'UINT64',
    dtype: 'uint64',
    values: new BigUint64Array([0n, 2n ** 53n + 1n, 2n ** 64n - 1n]),
    typed: { uint64_contents: ['0', '9007199254740993', '18446744073709551615'] },
  },
  { datatype: 'INT8', dtype: 'int8', values: new Int8Array([-128, 0, 127]), typed: { int_contents: [-128, 0, 127] } },
  {
    datatype: 'INT16',
    dtype: 'int16',
    values: new Int16Array([-32768, -1, 32767]),
    typed: { int_contents: [-32768, -1, 32767] },
  },
  {
    datatype: 'INT32',
    dtype: 'int32',
    values: new Int32Array([-2147483648, -1, 2147483647]),
    typed: { int_contents: [-2147483648, -1, 2147483647] },
  },
  {
    datatype: 'INT64',
    dtype: 'int64',
    values: new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n]),
    typed: { int64_contents: ['-9223372036854775808', '9007199254740993', '9223372036854775807'] },
  },
  {
    datatype: 'FP32',
    dtype: 'float',
    values: new Float32Array([1.5, -0.25, Infinity]),
    typed: { fp32_contents: [1.5, -0.25, Infinity] },
  },
  {
    datatype: 'FP64',
    dtype: 'double',
    values: new Float64Array([Math.PI, -1e300, 5e-324]),
    typed: { fp64_contents: [Math.PI, -1e300, 5e-324] },
  },
  { datatype: 'FP16', dtype: 'float16', values: new Uint16Array([0x3c00, 0xc000, 0x7bff]) },
];

describe('OIP ModelInfer codec', () => {
  let registry: ModelRegistry;
  const model = (name: string) => registry.get(name);
  const sig = (name: string) => signatureOf(model(name));

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot({ protoFile: false })],
      providers: [TypedModels, OipModels, ScalarModels],
    }).compile();
    await moduleRef.init();
    registry = moduleRef.get(ModelRegistry);
    await moduleRef.close();
  });

  describe('numeric tensors of every datatype', () => {
    it.each(NUMERIC)(
      '$datatype from raw_input_contents: the same values, dtype $dtype, shape [3]',
      ({ datatype, dtype, values }) => {
        const request = decodeInferInputs(
          signatureOf(tensorModel(dtype)).inputs,
          [input('x', datatype, [3])],
          [bytesOfArray(values)],
          new Map(),
        );
        const tensor = request.x as Tensor;
        expect(tensor).toBeInstanceOf(Tensor);
        expect(tensor.dtype).toBe(dtype);
        expect(tensor.shape).toEqual([3]);
        expect(Array.from(tensor.data as ArrayLike<number | bigint>)).toEqual(Array.from(values));
      },
    );

    it.each(NUMERIC)(
      '$datatype from raw bytes at an odd offset in a larger buffer: still the same values',
      ({ datatype, dtype, values }) => {
        const backing = Buffer.concat([Buffer.from([0xee]), bytesOfArray(values), Buffer.from([0xee])]);
        const raw = backing.subarray(1, 1 + values.byteLength);
        const tensor = decodeInferInputs(
          signatureOf(tensorModel(dtype)).inputs,
          [input('x', datatype, [3])],
          [raw],
          new Map(),
        ).x as Tensor;
        expect(Array.from(tensor.data as ArrayLike<number | bigint>)).toEqual(Array.from(values));
      },
    );

    it.each(NUMERIC.filter((c) => c.typed))(
      '$datatype from typed contents: the same values as raw',
      ({ datatype, dtype, values, typed }) => {
        const tensor = decodeInferInputs(
          signatureOf(tensorModel(dtype)).inputs,
          [input('x', datatype, [3], typed)],
          [],
          new Map(),
        ).x as Tensor;
        expect(tensor.dtype).toBe(dtype);
        expect(tensor.shape).toEqual([3]);
        expect(Array.from(tensor.data as ArrayLike<number | bigint>)).toEqual(Array.from(values));
      },
    );

    it.each(NUMERIC)(
      '$datatype out: the tensor as raw_output_contents, byte for byte, with its datatype and shape',
      ({ datatype, dtype, values }) => {
        const descriptor = tensorModel(dtype);
        const result = new Tensor(dtype, [3], values as never);
        const { outputs, raw } = encodeInferOutputs(descriptor, signatureOf(descriptor).outputs, result, new Map(), []);
        expect(outputs).toEqual([{ name: 'result', datatype, shape: [3] }]);
        expect(Buffer.from(raw[0]!)).toEqual(bytesOfArray(values));
      },
    );

    it('keeps a raw tensor over the received bytes (no copy when aligned)', () => {
      const raw = raw32(1, 2, 3, 4);
      const tensor = decodeInferInputs(sig('drop-row').inputs, [input('points', 'FP32', [2, 2])], [raw], new Map())
        .points as Tensor;
      expect(tensor.data.buffer).toBe(raw.buffer);
      expect(tensor.rows()).toEqual([
        [1, 2],
        [3, 4],
      ]);
    });

    it('INT64 and UINT64 keep precision beyond 2^53, raw and typed', () => {
      const descriptor = tensorModel('int64');
      const rawIn = bytesOfArray(new BigInt64Array([2n ** 53n + 1n]));
      const fromRaw = decodeInferInputs(signatureOf(descriptor).inputs, [input('x', 'INT64', [1])], [rawIn], new Map())
        .x as Tensor;
      const fromTyped = decodeInferInputs(
        signatureOf(descriptor).inputs,
        [input('x', 'INT64', [1], { int64_contents: ['9007199254740993'] })],
        [],
        new Map(),
      ).x as Tensor;
      expect(fromRaw.data[0]).toBe(9007199254740993n);
      expect(fromTyped.data[0]).toBe(9007199254740993n);
      const unsigned = decodeInferInputs(
        signatureOf(tensorModel('uint64')).inputs,
        [input('x', 'UINT64', [1], { uint64_contents: ['18446744073709551615'] })],
        [],
        new Map(),
      );
      expect((unsigned.x as Tensor).data[0]).toBe(18446744073709551615n);
    });

    it('refuses FP16 in typed contents: it has no typed form, only raw', () => {
      const error = thrown(() =>
        decodeInferInputs(
          signatureOf(tensorModel('float16')).inputs,
          [input('x', 'FP16', [3], { fp32_contents: [1, 2, 3] })],
          [],
          new Map(),
        ),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Input 'x': FP16 data must be sent in raw_input_contents");
    });

    it('carries FP16 raw bits in and out unchanged (the half fixture)', () => {
      const bits = bytesOfArray(new Uint16Array([0x3c00, 0x7e00, 0xfc00]));
      const request = decodeInferInputs(sig('half').inputs, [input('x', 'FP16', [3])], [bits], new Map());
      expect(Array.from((request.x as Tensor).data as Uint16Array)).toEqual([0x3c00, 0x7e00, 0xfc00]);
      const { outputs, raw } = encodeInferOutputs(model('half'), sig('half').outputs, request.x, new Map(), []);
      expect(outputs).toEqual([{ name: 'result', datatype: 'FP16', shape: [3] }]);
      expect(Buffer.from(raw[0]!)).toEqual(bits);
    });

    it('refuses values in the wrong typed list, naming the list the datatype uses', () => {
      const error = thrown(() =>
        decodeInferInputs(
          signatureOf(tensorModel('float')).inputs,
          [input('x', 'FP32', [3], { fp64_contents: [1, 2, 3] })],
          [],
          new Map(),
        ),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Input 'x': the shape has 3 elements, contents.fp32_contents has 0");
    });

    it.each([
      ['INT8', 'int8', { int_contents: [300] }],
      ['INT8', 'int8', { int_contents: [-200] }],
      ['INT16', 'int16', { int_contents: [40000] }],
      ['UINT8', 'uint8', { uint_contents: [256] }],
      ['UINT16', 'uint16', { uint_contents: [70000] }],
    ] as Array<[OipDatatype, TensorDType, Partial<TensorContentsMessage>]>)(
      'refuses a typed %s value out of its range (%s %j)',
      (datatype, dtype, typed) => {
        const error = thrown(() =>
          decodeInferInputs(signatureOf(tensorModel(dtype)).inputs, [input('x', datatype, [1], typed)], [], new Map()),
        );
        expect(error).toBeInstanceOf(ValidationError);
        expect(error.message).toMatch(/^Input 'x': .*out of range/);
      },
    );
  });

  describe('scalars travel as shape [1]', () => {
    const names = ['flag', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'text', 'blob'];
    const rawInputs = () => ({
      inputs: [
        input('flag', 'BOOL', [1]),
        input('i32', 'INT32', [1]),
        input('u32', 'UINT32', [1]),
        input('i64', 'INT64', [1]),
        input('u64', 'UINT64', [1]),
        input('f32', 'FP32', [1]),
        input('f64', 'FP64', [1]),
        input('text', 'BYTES', [1]),
        input('blob', 'BYTES', [1]),
      ],
      raw: [
        Buffer.from([1]),
        bytesOfArray(new Int32Array([-7])),
        bytesOfArray(new Uint32Array([4294967295])),
        bytesOfArray(new BigInt64Array([-(2n ** 53n) - 3n])),
        bytesOfArray(new BigUint64Array([2n ** 64n - 1n])),
        raw32(0.1),
        bytesOfArray(new Float64Array([0.1])),
        rawText('héllo'),
        rawText(new Uint8Array([0xff, 0x00, 0xc3])),
      ],
    });
    const expected = {
      flag: true,
      i32: -7,
      u32: 4294967295,
      i64: -(2n ** 53n) - 3n,
      u64: 2n ** 64n - 1n,
      f32: Math.fround(0.1),
      f64: 0.1,
      text: 'héllo',
      blob: Buffer.from([0xff, 0x00, 0xc3]),
    };

    it('declares every scalar input as shape [1], with its OIP datatype', () => {
      expect(sig('scalars').inputs.map((s) => `${s.name}:${s.datatype}[${s.shape}]`)).toEqual([
        'flag:BOOL[1]',
        'i32:INT32[1]',
        'u32:UINT32[1]',
        'i64:INT64[1]',
        'u64:UINT64[1]',
        'f32:FP32[1]',
        'f64:FP64[1]',
        'text:BYTES[1]',
        'blob:BYTES[1]',
      ]);
    });

    it('decodes every scalar from raw contents as the handler expects it (bigint for 64-bit, Buffer for bytes)', () => {
      const { inputs, raw } = rawInputs();
      const request = decodeInferInputs(sig('scalars').inputs, inputs, raw, new Map());
      expect(request).toEqual(expected);
      expect(Object.keys(request)).toEqual(names);
    });

    it('decodes every scalar from typed contents the same way', () => {
      const request = decodeInferInputs(
        sig('scalars').inputs,
        [
          input('flag', 'BOOL', [1], { bool_contents: [true] }),
          input('i32', 'INT32', [1], { int_contents: [-7] }),
          input('u32', 'UINT32', [1], { uint_contents: [4294967295] }),
          input('i64', 'INT64', [1], { int64_contents: [String(-(2n ** 53n) - 3n)] }),
          input('u64', 'UINT64', [1], { uint64_contents: ['18446744073709551615'] }),
          input('f32', 'FP32', [1], { fp32_contents: [0.1] }),
          input('f64', 'FP64', [1], { fp64_contents: [0.1] }),
          input('text', 'BYTES', [1], { bytes_contents: [Buffer.from('héllo')] }),
          input('blob', 'BYTES', [1], { bytes_contents: [new Uint8Array([0xff, 0x00, 0xc3])] }),
        ],
        [],
        new Map(),
      );
      expect(request).toEqual(expected);
    });

    it('reads a BOOL scalar as false for 0 and true for any other byte', () => {
      const { inputs, raw } = rawInputs();
      expect(
        decodeInferInputs(sig('scalars').inputs, inputs, [Buffer.from([0]), ...raw.slice(1)], new Map()).flag,
      ).toBe(false);
      expect(
        decodeInferInputs(sig('scalars').inputs, inputs, [Buffer.from([2]), ...raw.slice(1)], new Map()).flag,
      ).toBe(true);
    });

    it('refuses a scalar sent with more than one element, naming it', () => {
      const { inputs, raw } = rawInputs();
      inputs[1] = input('i32', 'INT32', [2]);
      raw[1] = bytesOfArray(new Int32Array([1, 2]));
      const error = thrown(() => decodeInferInputs(sig('scalars').inputs, inputs, raw, new Map()));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Input 'i32': expected shape [1], got [2]");
    });

    it('encodes every scalar output as shape [1] raw contents a Triton client reads back', () => {
      const { outputs, raw } = encodeInferOutputs(model('scalars'), sig('scalars').outputs, expected, new Map(), []);
      expect(outputs.map((o) => `${o.name}:${o.datatype}[${o.shape}]`)).toEqual([
        'flag:BOOL[1]',
        'i32:INT32[1]',
        'u32:UINT32[1]',
        'i64:INT64[1]',
        'u64:UINT64[1]',
        'f32:FP32[1]',
        'f64:FP64[1]',
        'text:BYTES[1]',
        'blob:BYTES[1]',
      ]);
      const buffers = raw.map((r) => Buffer.from(r));
      expect(buffers[0]).toEqual(Buffer.from([1]));
      expect(buffers[1]!.readInt32LE(0)).toBe(-7);
      expect(buffers[2]!.readUInt32LE(0)).toBe(4294967295);
      expect(buffers[3]!.readBigInt64LE(0)).toBe(-(2n ** 53n) - 3n);
      expect(buffers[4]!.readBigUInt64LE(0)).toBe(2n ** 64n - 1n);
      expect(buffers[5]!.readFloatLE(0)).toBe(Math.fround(0.1));
      expect(buffers[6]!.readDoubleLE(0)).toBe(0.1);
      expect(readRawBytes(buffers[7]!, 1)).toEqual(['héllo']);
      expect(buffers[8]).toEqual(rawText(new Uint8Array([0xff, 0x00, 0xc3])));
    });

    it('encodes an Int64 result beyond 2^53 exactly (next-id)', () => {
      const request = decodeInferInputs(
        sig('next-id').inputs,
        [input('id', 'INT64', [1], { int64_contents: ['9007199254740993'] })],
        [],
        new Map(),
      );
      const result = new TypedModels().nextId(request.id as bigint);
      const { raw } = encodeInferOutputs(model('next-id'), sig('next-id').outputs, result, new Map(), []);
      expect(Buffer.from(raw[0]!).readBigInt64LE(0)).toBe(9007199254740994n);
    });
  });

  describe('lists travel as shape [n]', () => {
    const listInputs = (n: 0 | 3) => ({
      inputs: [
        input('flags', 'BOOL', [n]),
        input('ints', 'INT32', [n]),
        input('longs', 'INT64', [n]),
        input('ulongs', 'UINT64', [n]),
        input('floats', 'FP32', [n]),
        input('words', 'BYTES', [n]),
        input('blobs', 'BYTES', [n]),
      ],
      raw:
        n === 0
          ? Array.from({ length: 7 }, () => Buffer.alloc(0))
          : [
              Buffer.from([1, 0, 1]),
              bytesOfArray(new Int32Array([1, -2, 3])),
              bytesOfArray(new BigInt64Array([2n ** 62n, -1n, 2n ** 53n + 1n])),
              bytesOfArray(new BigUint64Array([0n, 1n, 2n ** 64n - 1n])),
              raw32(0.5, -1, 2.25),
              rawText('a', '', 'ç'),
              rawText(new Uint8Array([1]), new Uint8Array([]), new Uint8Array([0xff])),
            ],
    });

    it('declares list inputs as shape [-1]', () => {
      expect(sig('lists').inputs.map((s) => `${s.name}:${s.datatype}[${s.shape}]`)).toEqual([
        'flags:BOOL[-1]',
        'ints:INT32[-1]',
        'longs:INT64[-1]',
        'ulongs:UINT64[-1]',
        'floats:FP32[-1]',
        'words:BYTES[-1]',
        'blobs:BYTES[-1]',
      ]);
    });

    it('decodes lists from raw contents into arrays of the handler types', () => {
      const { inputs, raw } = listInputs(3);
      expect(decodeInferInputs(sig('lists').inputs, inputs, raw, new Map())).toEqual({
        flags: [true, false, true],
        ints: [1, -2, 3],
        longs: [2n ** 62n, -1n, 2n ** 53n + 1n],
        ulongs: [0n, 1n, 2n ** 64n - 1n],
        floats: [0.5, -1, 2.25],
        words: ['a', '', 'ç'],
        blobs: [Buffer.from([1]), Buffer.alloc(0), Buffer.from([0xff])],
      });
    });

    it('decodes lists from typed contents the same way', () => {
      const request = decodeInferInputs(
        sig('lists').inputs,
        [
          input('flags', 'BOOL', [3], { bool_contents: [true, false, true] }),
          input('ints', 'INT32', [3], { int_contents: [1, -2, 3] }),
          input('longs', 'INT64', [3], { int64_contents: [String(2n ** 62n), '-1', '9007199254740993'] }),
          input('ulongs', 'UINT64', [3], { uint64_contents: ['0', '1', '18446744073709551615'] }),
          input('floats', 'FP32', [3], { fp32_contents: [0.5, -1, 2.25] }),
          input('words', 'BYTES', [3], { bytes_contents: [Buffer.from('a'), Buffer.alloc(0), Buffer.from('ç')] }),
          input('blobs', 'BYTES', [3], { bytes_contents: [Buffer.from([1]), Buffer.alloc(0), Buffer.from([0xff])] }),
        ],
        [],
        new Map(),
      );
      expect(request).toEqual(
        decodeInferInputs(sig('lists').inputs, listInputs(3).inputs, listInputs(3).raw, new Map()),
      );
    });

    it('decodes shape [0] as empty lists', () => {
      const { inputs, raw } = listInputs(0);
      expect(decodeInferInputs(sig('lists').inputs, inputs, raw, new Map())).toEqual({
        flags: [],
        ints: [],
        longs: [],
        ulongs: [],
        floats: [],
        words: [],
        blobs: [],
      });
    });

    it('refuses a list sent with a 2-D shape', () => {
      const { inputs, raw } = listInputs(3);
      inputs[1] = input('ints', 'INT32', [1, 3]);
      const error = thrown(() => decodeInferInputs(sig('lists').inputs, inputs, raw, new Map()));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Input 'ints': expected a 1-D shape [n], got [1, 3]");
    });

    it('encodes list outputs as shape [n]', () => {
      const result = {
        flags: [true, false],
        ints: [1, -2],
        longs: [2n ** 62n, -1n],
        ulongs: [5n, 2n ** 64n - 1n],
        floats: [0.5, 2.25],
        words: ['x', 'yz'],
        blobs: [Buffer.from([7]), Buffer.alloc(0)],
      };
      const { outputs, raw } = encodeInferOutputs(model('lists'), sig('lists').outputs, result, new Map(), []);
      expect(outputs.map((o) => `${o.name}:${o.datatype}[${o.shape}]`)).toEqual([
        'flags:BOOL[2]',
        'ints:INT32[2]',
        'longs:INT64[2]',
        'ulongs:UINT64[2]',
        'floats:FP32[2]',
        'words:BYTES[2]',
        'blobs:BYTES[2]',
      ]);
      const [flags, ints, longs, ulongs, floats, words, blobs] = raw.map((r) => Buffer.from(r));
      expect([...flags!]).toEqual([1, 0]);
      expect([ints!.readInt32LE(0), ints!.readInt32LE(4)]).toEqual([1, -2]);
      expect([longs!.readBigInt64LE(0), longs!.readBigInt64LE(8)]).toEqual([2n ** 62n, -1n]);
      expect([ulongs!.readBigUInt64LE(0), ulongs!.readBigUInt64LE(8)]).toEqual([5n, 2n ** 64n - 1n]);
      expect([floats!.readFloatLE(0), floats!.readFloatLE(4)]).toEqual([0.5, 2.25]);
      expect(readRawBytes(words!, 2)).toEqual(['x', 'yz']);
      expect(blobs).toEqual(rawText(new Uint8Array([7]), new Uint8Array([])));
    });
  });

  describe('BYTES', () => {
    it('decodes raw BYTES for a list of strings and a string (join)', () => {
      const request = decodeInferInputs(
        sig('join').inputs,
        [input('words', 'BYTES', [2]), input('separator', 'BYTES', [1])],
        [rawText('héllo', 'wörld'), rawText(' · ')],
        new Map(),
      );
      expect(request).toEqual({ words: ['héllo', 'wörld'], separator: ' · ' });
      expect(new TypedModels().join(request.words as string[], request.separator as string)).toBe('héllo · wörld');
    });

    it('decodes typed bytes_contents the same way', () => {
      const request = decodeInferInputs(
        sig('join').inputs,
        [
          input('words', 'BYTES', [2], { bytes_contents: [Buffer.from('héllo'), Buffer.from('wörld')] }),
          input('separator', 'BYTES', [1], { bytes_contents: [Buffer.from(' · ')] }),
        ],
        [],
        new Map(),
      );
      expect(request).toEqual({ words: ['héllo', 'wörld'], separator: ' · ' });
    });

    it('hands a Bytes input over as a Buffer over the received bytes, invalid UTF-8 and all (reverse)', () => {
      const raw = rawText(new Uint8Array([0xc3, 0x28, 0x00, 0xff]));
      const { payload } = decodeInferInputs(sig('reverse').inputs, [input('payload', 'BYTES', [1])], [raw], new Map());
      expect(Buffer.isBuffer(payload)).toBe(true);
      expect(payload).toEqual(Buffer.from([0xc3, 0x28, 0x00, 0xff]));
      expect((payload as Buffer).buffer).toBe(raw.buffer);
      const { raw: out } = encodeInferOutputs(
        model('reverse'),
        sig('reverse').outputs,
        new TypedModels().reverse(payload as Buffer),
        new Map(),
        [],
      );
      expect(Buffer.from(out[0]!)).toEqual(rawText(new Uint8Array([0xff, 0x00, 0x28, 0xc3])));
    });

    it.each([
      [
        'raw',
        [input('words', 'BYTES', [1]), input('separator', 'BYTES', [1])],
        [rawText('ok'), rawText(new Uint8Array([0xc3, 0x28]))],
      ],
      [
        'typed',
        [
          input('words', 'BYTES', [1], { bytes_contents: [Buffer.from('ok')] }),
          input('separator', 'BYTES', [1], { bytes_contents: [Buffer.from([0xff])] }),
        ],
        [],
      ],
    ] as const)('refuses invalid UTF-8 in a String input (%s), naming it', (_, inputs, raw) => {
      const error = thrown(() =>
        decodeInferInputs(
          sig('join').inputs,
          inputs as unknown as InferInputMessage[],
          raw as unknown as Buffer[],
          new Map(),
        ),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Input 'separator': not valid UTF-8");
    });

    it('refuses invalid UTF-8 in an element of a [String] list', () => {
      const error = thrown(() =>
        decodeInferInputs(
          sig('join').inputs,
          [input('words', 'BYTES', [2]), input('separator', 'BYTES', [1])],
          [rawText('ok', new Uint8Array([0xe2, 0x82])), rawText('-')],
          new Map(),
        ),
      );
      expect(error.message).toBe("Input 'words': not valid UTF-8");
    });

    it.each([
      [
        'a length past the end',
        [1],
        Buffer.from([9, 0, 0, 0, 0x61]),
        "Input 'words': raw BYTES element 0 claims 9 bytes, but only 1 remain",
      ],
      [
        'a cut-off length prefix',
        [1],
        Buffer.concat([rawText('a'), Buffer.from([1, 0])]),
        "Input 'words': raw BYTES element 1 has a cut-off length prefix",
      ],
      [
        'fewer elements than the shape',
        [3],
        rawText('abcdefgh'),
        "Input 'words': raw BYTES holds 1 elements, but the shape has 3",
      ],
      [
        'more elements than the shape',
        [1],
        rawText('a', 'b', 'c'),
        "Input 'words': raw BYTES holds more than 1 elements, but the shape has 1",
      ],
      [
        'too few bytes for the shape',
        [2],
        rawText('a'),
        "Input 'words': raw BYTES has 5 bytes, too few for the 2 elements of the shape (each takes at least 4)",
      ],
    ])('refuses malformed raw BYTES (%s) with the reason', (_, shape, raw, message) => {
      const error = thrown(() =>
        decodeInferInputs(
          sig('join').inputs,
          [input('words', 'BYTES', shape), input('separator', 'BYTES', [1])],
          [raw, rawText('-')],
          new Map(),
        ),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe(message);
    });

    it('refuses typed BYTES whose count differs from the shape', () => {
      const error = thrown(() =>
        decodeInferInputs(
          sig('reverse').inputs,
          [input('payload', 'BYTES', [1], { bytes_contents: [] })],
          [],
          new Map(),
        ),
      );
      expect(error.message).toBe("Input 'payload': the shape has 1 elements, contents.bytes_contents has 0");
    });
  });

  describe('request structure', () => {
    const weighInputs = (batch = 2, weights = batch) => [
      input('points', 'FP32', [batch, 2]),
      input('weights', 'FP32', [weights]),
      input('scale', 'FP32', [1]),
      input('tags', 'BYTES', [2]),
    ];
    const weighRaw = (batch = 2, weights = batch) => [
      raw32(...Array.from({ length: batch * 2 }, (_, i) => i + 1)),
      raw32(...Array.from({ length: weights }, (_, i) => 10 ** i)),
      raw32(2),
      rawText('a', 'b'),
    ];

    it('refuses raw contents for some inputs and typed for others', () => {
      const error = thrown(() =>
        decodeInferInputs(sig('weigh').inputs, weighInputs(), weighRaw().slice(0, 2), new Map()),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe('raw_input_contents holds 2 entries for 4 inputs: send every input raw, or none');
    });

    it('refuses an input with data both raw and in contents, naming it', () => {
      const inputs = weighInputs();
      inputs[2] = input('scale', 'FP32', [1], { fp32_contents: [2] });
      const error = thrown(() => decodeInferInputs(sig('weigh').inputs, inputs, weighRaw(), new Map()));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Input 'scale': data both in raw_input_contents and in contents; send one");
    });

    it('takes empty contents lists beside raw data (what clients send as defaults)', () => {
      const inputs = weighInputs().map((i) => ({ ...i, contents: { ...EMPTY_CONTENTS } }));
      expect(decodeInferInputs(sig('weigh').inputs, inputs, weighRaw(), new Map()).scale).toBe(2);
    });

    it.each([
      ['a negative dimension', ['-1', '2'], "Input 'points': invalid shape [-1, 2]"],
      ['a non-integer dimension', ['1.5', '2'], "Input 'points': invalid shape [1.5, 2]"],
      ['a dimension beyond 2^53', ['9007199254740993', '2'], "Input 'points': invalid shape [9007199254740993, 2]"],
      ['a dimension that is not a number', ['two', '2'], "Input 'points': invalid shape [two, 2]"],
    ])('refuses %s, naming the tensor', (_, shape, message) => {
      const inputs = weighInputs();
      inputs[0] = { ...inputs[0]!, shape };
      const error = thrown(() => decodeInferInputs(sig('weigh').inputs, inputs, weighRaw(), new Map()));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe(message);
    });

    it('refuses a missing input, an unknown one, and one sent twice', () => {
      const weigh = sig('weigh').inputs;
      expect(thrown(() => decodeInferInputs(weigh, weighInputs().slice(1), [], new Map())).message).toBe(
        "Input 'points' is missing",
      );
      const extra = [...weighInputs(), input('bonus', 'FP32', [1])];
      expect(thrown(() => decodeInferInputs(weigh, extra, [...weighRaw(), raw32(1)], new Map())).message).toBe(
        "Input 'bonus' is not an input of this model (it takes 'points', 'weights', 'scale', 'tags')",
      );
      const twice = [...weighInputs(), input('scale', 'FP32', [1])];
      const error = thrown(() => decodeInferInputs(weigh, twice, [...weighRaw(), raw32(3)], new Map()));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Input 'scale' is sent twice");
    });

    it('refuses a wrong datatype and a wrong raw byte length, naming the tensor', () => {
      const inputs = weighInputs();
      inputs[1] = input('weights', 'FP64', [2]);
      expect(thrown(() => decodeInferInputs(sig('weigh').inputs, inputs, weighRaw(), new Map())).message).toBe(
        "Input 'weights': expected datatype FP32, got FP64",
      );
      const raw = weighRaw();
      raw[0] = raw[0]!.subarray(0, 15);
      expect(thrown(() => decodeInferInputs(sig('weigh').inputs, weighInputs(), raw, new Map())).message).toBe(
        "Input 'points': shape [2, 2] of FP32 needs 16 bytes, raw_input_contents has 15",
      );
    });

    it('refuses typed contents whose count differs from the shape', () => {
      const error = thrown(() =>
        decodeInferInputs(
          sig('drop-row').inputs,
          [input('points', 'FP32', [2, 2], { fp32_contents: [1, 2, 3] })],
          [],
          new Map(),
        ),
      );
      expect(error.message).toBe("Input 'points': the shape has 4 elements, contents.fp32_contents has 3");
    });

    it('refuses a tensor of the wrong rank or fixed dimension', () => {
      expect(
        thrown(() =>
          decodeInferInputs(sig('drop-row').inputs, [input('points', 'FP32', [4])], [raw32(1, 2, 3, 4)], new Map()),
        ).message,
      ).toBe("Input 'points': expected shape [batch, 2] (rank 2), got [4] (rank 1)");
      expect(
        thrown(() =>
          decodeInferInputs(sig('drop-row').inputs, [input('points', 'FP32', [1, 4])], [raw32(1, 2, 3, 4)], new Map()),
        ).message,
      ).toBe("Input 'points': dimension 1 of [batch, 2] must be 2, got 4");
    });
  });

  describe('symbolic dimensions', () => {
    const weigh = () => sig('weigh');
    const inputs = (batch: number, weights: number) => [
      input('points', 'FP32', [batch, 2]),
      input('weights', 'FP32', [weights]),
      input('scale', 'FP32', [1]),
      input('tags', 'BYTES', [1]),
    ];
    const raw = (batch: number, weights: number) => [
      raw32(...Array.from({ length: batch * 2 }, (_, i) => i + 1)),
      raw32(...Array.from({ length: weights }, () => 10)),
      raw32(0.5),
      rawText('t'),
    ];

    it("binds 'batch' from points and holds weights to it", () => {
      const bindings: SymbolBindings = new Map();
      const request = decodeInferInputs(weigh().inputs, inputs(3, 3), raw(3, 3), bindings);
      expect(bindings.get('batch')).toEqual({ size: 3, field: 'points' });
      expect((request.weights as Tensor).shape).toEqual([3]);
    });

    it("refuses weights whose 'batch' differs from points', naming both", () => {
      const error = thrown(() => decodeInferInputs(weigh().inputs, inputs(3, 2), raw(3, 2), new Map()));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Input 'weights': dimension 'batch' is 2, but 'points' has 'batch' = 3");
    });

    it('binds the same way from typed contents', () => {
      const typed = [
        input('points', 'FP32', [1, 2], { fp32_contents: [1, 2] }),
        input('weights', 'FP32', [2], { fp32_contents: [1, 2] }),
        input('scale', 'FP32', [1], { fp32_contents: [1] }),
        input('tags', 'BYTES', [1], { bytes_contents: [Buffer.from('t')] }),
      ];
      expect(thrown(() => decodeInferInputs(weigh().inputs, typed, [], new Map())).message).toBe(
        "Input 'weights': dimension 'batch' is 2, but 'points' has 'batch' = 1",
      );
    });

    it("checks outputs against the request's bindings: weigh answers for its rows; drop-row's fewer rows raise InferenceError", () => {
      const bindings: SymbolBindings = new Map();
      const request = decodeInferInputs(weigh().inputs, inputs(2, 2), raw(2, 2), bindings);
      const result = new TypedModels().weigh(
        request.points as Tensor,
        request.weights as Tensor,
        request.scale as number,
        request.tags as string[],
      );
      const { outputs, raw: out } = encodeInferOutputs(model('weigh'), weigh().outputs, result, bindings, []);
      expect(outputs).toEqual([
        { name: 'weighted', datatype: 'FP32', shape: [2, 2] },
        { name: 'summary', datatype: 'BYTES', shape: [1] },
      ]);
      expect(readFloats(out[0]!)).toEqual([5, 10, 15, 20]);
      expect(readRawBytes(out[1]!, 1)).toEqual(['2 rows: t']);

      const dropBindings: SymbolBindings = new Map();
      const dropRequest = decodeInferInputs(
        sig('drop-row').inputs,
        [input('points', 'FP32', [3, 2])],
        [raw32(1, 2, 3, 4, 5, 6)],
        dropBindings,
      );
      const dropped = new TypedModels().dropRow(dropRequest.points as Tensor);
      const error = thrown(() =>
        encodeInferOutputs(model('drop-row'), sig('drop-row').outputs, dropped, dropBindings, []),
      );
      expect(error).toBeInstanceOf(InferenceError);
      expect(error).not.toBeInstanceOf(ValidationError);
      expect(error.message).toBe(
        "Model 'drop-row' (TypedModels.dropRow) returned an output that breaks its declaration: 'result': dimension 'batch' is 2, but 'points' has 'batch' = 3",
      );
    });

    it('does not add the outputs’ sizes to the request’s bindings', () => {
      const bindings: SymbolBindings = new Map();
      encodeInferOutputs(
        model('pair'),
        sig('pair').outputs,
        { a: Tensor.from('float32', [2], [1, 2]), b: Tensor.from('float32', [2], [1, 2]) },
        bindings,
        [],
      );
      expect(bindings.size).toBe(0);
    });

    it('refuses outputs that disagree on a symbolic dimension the inputs do not bind, as BlazeRPC does', () => {
      const error = thrown(() =>
        encodeInferOutputs(
          model('pair'),
          sig('pair').outputs,
          { a: Tensor.from('float32', [2], [1, 2]), b: Tensor.from('float32', [3], [1, 2, 3]) },
          new Map(),
          [],
        ),
      );
      expect(error).toBeInstanceOf(InferenceError);
      expect(error.message).toMatch(/'b': dimension 'm' is 3, but 'a' has 'm' = 2/);
    });
  });

  describe('output selection', () => {
    const result = { weighted: Tensor.from('float32', [1, 2], [1, 2]), summary: '1 rows: x' };
    const bindings = (): SymbolBindings => new Map([['batch', { size: 1, field: 'points' }]]);

    it('answers every output, in declaration order, when none is requested', () => {
      expect(
        encodeInferOutputs(model('weigh'), sig('weigh').outputs, result, bindings(), []).outputs.map((o) => o.name),
      ).toEqual(['weighted', 'summary']);
    });

    it('answers only the requested outputs, in the requested order, each with its own raw contents', () => {
      const only = encodeInferOutputs(model('weigh'), sig('weigh').outputs, result, bindings(), ['summary']);
      expect(only.outputs).toEqual([{ name: 'summary', datatype: 'BYTES', shape: [1] }]);
      expect(only.raw).toHaveLength(1);
      expect(readRawBytes(only.raw[0]!, 1)).toEqual(['1 rows: x']);
      const both = encodeInferOutputs(model('weigh'), sig('weigh').outputs, result, bindings(), [
        'summary',
        'weighted',
      ]);
      expect(both.outputs.map((o) => o.name)).toEqual(['summary', 'weighted']);
      expect(readFloats(both.raw[1]!)).toEqual([1, 2]);
    });

    it('selects among named scalar and list outputs too (stats)', () => {
      const stats = new TypedModels().stats([1, 2, 6]);
      const { outputs, raw } = encodeInferOutputs(model('stats'), sig('stats').outputs, stats, new Map(), [
        'labels',
        'count',
      ]);
      expect(outputs).toEqual([
        { name: 'labels', datatype: 'BYTES', shape: [3] },
        { name: 'count', datatype: 'UINT32', shape: [1] },
      ]);
      expect(readRawBytes(raw[0]!, 3)).toEqual(['low', 'low', 'high']);
      expect(Buffer.from(raw[1]!).readUInt32LE(0)).toBe(3);
    });
  });

  describe('results that break the declaration raise InferenceError, not ValidationError', () => {
    const weighBindings = (): SymbolBindings => new Map([['batch', { size: 1, field: 'points' }]]);
    it.each([
      [
        'liar returns a number for a String',
        'liar',
        () => new TypedModels().liar(),
        new Map(),
        "Model 'liar' (TypedModels.liar) returned a number for 'result', which is declared string",
      ],
      [
        'weigh returns a string instead of its named outputs',
        'weigh',
        () => 'oops',
        weighBindings(),
        "Model 'weigh' (TypedModels.weigh) returned string; it declares named outputs, so return an object with them",
      ],
      [
        'weigh leaves out a tensor output',
        'weigh',
        () => ({ summary: 's' }),
        weighBindings(),
        "Model 'weigh' (TypedModels.weigh) returned undefined for 'weighted', which is declared a tensor",
      ],
      [
        'weigh returns a tensor of the wrong dtype',
        'weigh',
        () => ({ weighted: Tensor.from('float64', [1, 2], [1, 2]), summary: 's' }),
        weighBindings(),
        "Model 'weigh' (TypedModels.weigh) returned an output that breaks its declaration: 'weighted': expected dtype float, got double",
      ],
      [
        'weigh returns a tensor with a wrong fixed dimension',
        'weigh',
        () => ({ weighted: Tensor.from('float32', [1, 3], [1, 2, 3]), summary: 's' }),
        weighBindings(),
        "Model 'weigh' (TypedModels.weigh) returned an output that breaks its declaration: 'weighted': dimension 1 of [batch, 2] must be 2, got 3",
      ],
      [
        'weigh returns a number for a String output',
        'weigh',
        () => ({ weighted: Tensor.from('float32', [1, 2], [1, 2]), summary: 7 }),
        weighBindings(),
        "Model 'weigh' (TypedModels.weigh) returned a number for 'summary', which is declared string",
      ],
      [
        'stats returns a fraction for a UInt32',
        'stats',
        () => ({ count: 1.5, mean: 1, labels: [] }),
        new Map(),
        "Model 'stats' (TypedModels.stats) returned a number for 'count', which is declared uint32",
      ],
      [
        'stats returns a string for a list',
        'stats',
        () => ({ count: 1, mean: 1, labels: 'high' }),
        new Map(),
        "Model 'stats' (TypedModels.stats) returned a string for 'labels', which is declared a list",
      ],
      [
        'stats returns a number inside a [String] list',
        'stats',
        () => ({ count: 1, mean: 1, labels: ['high', 3] }),
        new Map(),
        /^Model 'stats' \(TypedModels\.stats\) returned an array for 'labels', which is declared /,
      ],
      [
        'next-id returns a fraction for an Int64',
        'next-id',
        () => 1.5,
        new Map(),
        "Model 'next-id' (TypedModels.nextId) returned a number for 'result', which is declared int64",
      ],
      [
        'reverse returns a string for Bytes',
        'reverse',
        () => 'abc',
        new Map(),
        "Model 'reverse' (TypedModels.reverse) returned a string for 'result', which is declared bytes",
      ],
      [
        'scalars returns a number for a Boolean',
        'scalars',
        () => ({ flag: 1 }),
        new Map(),
        "Model 'scalars' (ScalarModels.scalars) returned a number for 'flag', which is declared bool",
      ],
    ] as Array<[string, string, () => unknown, SymbolBindings, string | RegExp]>)(
      '%s',
      (_, name, result, bindings, message) => {
        const error = thrown(() => encodeInferOutputs(model(name), sig(name).outputs, result(), bindings, []));
        expect(error).toBeInstanceOf(InferenceError);
        expect(error).not.toBeInstanceOf(ValidationError);
        if (typeof message === 'string') expect(error.message).toBe(message);
        else expect(error.message).toMatch(message);
        expect((error as InferenceError).modelName).toBe(name);
      },
    );
  });
});
