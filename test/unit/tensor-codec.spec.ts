import protobuf from 'protobufjs';
import { Tensor, TENSOR_DTYPES, type TensorDType, ValidationError } from '../../lib/index.js';
import {
  decodeTensorProto,
  encodeTensorProto,
  type TensorProtoMessage,
} from '../../lib/protocols/shared/tensor-proto.codec.js';
import { checkTensorSpec, type SymbolBindings } from '../../lib/core/tensor/tensor-spec.check.js';

const TensorProto = protobuf
  .parse('syntax = "proto3"; message TensorProto { repeated int64 shape = 1; string dtype = 2; bytes data = 3; }')
  .root.lookupType('TensorProto');

/** Through real protobuf bytes and back, as the server sees a request. */
function overTheWire(message: TensorProtoMessage): TensorProtoMessage {
  const bytes = TensorProto.encode(TensorProto.fromObject(message)).finish();
  return TensorProto.toObject(TensorProto.decode(bytes), { longs: String, defaults: true }) as TensorProtoMessage;
}

const samples: Record<TensorDType, (number | bigint | boolean)[]> = {
  float: [1.5, -2.25, 3e30, 0],
  double: [Math.PI, -1e300, 5e-324, 0],
  int8: [-128, 127, 0, 5],
  int16: [-32768, 32767, 1, -1],
  int32: [-(2 ** 31), 2 ** 31 - 1, 7, 0],
  int64: [2n ** 60n + 1n, -(2n ** 62n), 9007199254740993n, 0n],
  uint8: [0, 255, 1, 128],
  uint16: [0, 65535, 300, 1],
  uint32: [0, 2 ** 32 - 1, 12345, 1],
  uint64: [2n ** 64n - 1n, 9007199254740993n, 0n, 1n],
  bool: [true, false, true, true],
  float16: [0x3c00, 0x7bff, 0x8000, 0xfc00],
};

describe('TensorProto codec', () => {
  it.each(TENSOR_DTYPES)('round-trips %s through protobuf bytes exactly', (dtype) => {
    const tensor = Tensor.from(dtype, [2, 2], samples[dtype]);
    const decoded = decodeTensorProto(overTheWire(encodeTensorProto(tensor)), 'x');
    expect(decoded.dtype).toBe(dtype);
    expect(decoded.shape).toEqual([2, 2]);
    expect(Array.from(decoded.data as ArrayLike<unknown>)).toEqual(Array.from(tensor.data as ArrayLike<unknown>));
  });

  it('keeps int64 values beyond 2^53 exact', () => {
    const decoded = decodeTensorProto(
      overTheWire(encodeTensorProto(Tensor.from('int64', [1], [9007199254740993n]))),
      'x',
    );
    expect(decoded.data[0]).toBe(9007199254740993n);
  });

  it('carries float16 as raw bits and bool as 0/1 bytes', () => {
    const half = decodeTensorProto(overTheWire(encodeTensorProto(Tensor.from('float16', [2], [0x3c00, 0xc000]))), 'h');
    expect(half.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(half.data as Uint16Array)).toEqual([0x3c00, 0xc000]);
    const flags = encodeTensorProto(Tensor.from('bool', [3], [true, false, true]));
    expect([...flags.data]).toEqual([1, 0, 1]);
  });

  it('handles empty tensors and scalars', () => {
    const empty = decodeTensorProto(
      overTheWire(encodeTensorProto(new Tensor('float', [0, 4], new Float32Array(0)))),
      'e',
    );
    expect(empty.shape).toEqual([0, 4]);
    expect(empty.size).toBe(0);
    const scalar = decodeTensorProto(overTheWire(encodeTensorProto(Tensor.from('double', [], [42]))), 's');
    expect(scalar.shape).toEqual([]);
    expect(scalar.data[0]).toBe(42);
  });

  it('accepts the float32/float64 aliases on input', () => {
    const data = Buffer.from(new Float64Array([1, 2]).buffer);
    expect(decodeTensorProto({ shape: ['2'], dtype: 'float64', data }, 'x').dtype).toBe('double');
  });

  it('views aligned input in place, without copying', () => {
    const backing = Buffer.alloc(64);
    const bytes = backing.subarray(8, 24);
    new Float32Array(bytes.buffer, bytes.byteOffset, 4).set([1, 2, 3, 4]);
    const tensor = decodeTensorProto({ shape: ['4'], dtype: 'float', data: bytes }, 'x');
    expect(tensor.data.buffer).toBe(backing.buffer);
    expect(tensor.data.byteOffset).toBe(bytes.byteOffset);
    expect(Array.from(tensor.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('copies misaligned input, and gets the same values', () => {
    const backing = Buffer.alloc(64);
    const bytes = backing.subarray(9, 25);
    bytes.set(Buffer.from(new Float32Array([1, 2, 3, 4]).buffer));
    const tensor = decodeTensorProto({ shape: ['4'], dtype: 'float', data: bytes }, 'x');
    expect(tensor.data.buffer).not.toBe(backing.buffer);
    expect(Array.from(tensor.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('encodes without copying: the message data is a view over the tensor', () => {
    const tensor = Tensor.from('float', [3], [1, 2, 3]);
    expect(encodeTensorProto(tensor).data.buffer).toBe(tensor.data.buffer);
  });
});

describe('tensor validation', () => {
  const floats = (n: number) => Buffer.from(new Float32Array(n).buffer);
  const failure = (message: TensorProtoMessage | null) => {
    try {
      decodeTensorProto(message, 'features');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('features');
      return (error as Error).message;
    }
    throw new Error('expected a ValidationError');
  };

  it('a missing tensor', () => {
    expect(failure(null)).toBe("Input 'features' is missing: send a TensorProto with shape, dtype and data");
  });

  it('an unknown or empty dtype', () => {
    expect(failure({ shape: ['1'], dtype: 'complex64', data: floats(1) })).toContain(
      "unknown dtype, got dtype 'complex64'; expected one of float, double",
    );
    expect(failure({ shape: ['1'], dtype: '', data: floats(1) })).toContain('unknown dtype, got an empty dtype');
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'a dtype named like an object property (%s)',
    (dtype) => {
      expect(failure({ shape: ['1'], dtype, data: floats(1) })).toContain(`unknown dtype, got dtype '${dtype}'`);
    },
  );

  it('a negative dimension', () => {
    expect(failure({ shape: ['2', '-3'], dtype: 'float', data: floats(6) })).toBe(
      "Input 'features': dimension 1 of shape [2, -3] is -3; dimensions must be integers >= 0",
    );
  });

  it('data shorter or longer than the shape needs', () => {
    expect(failure({ shape: ['2', '4'], dtype: 'float', data: floats(7) })).toBe(
      "Input 'features': data has 28 bytes, but shape [2, 4] of float needs 32 (8 elements x 4 bytes)",
    );
    expect(failure({ shape: ['2'], dtype: 'float', data: floats(3) })).toContain(
      'data has 12 bytes, but shape [2] of float needs 8',
    );
  });

  it('a shape whose element count overflows or exceeds the message', () => {
    expect(failure({ shape: ['4294967296', '4294967296', '4294967296'], dtype: 'float', data: floats(4) })).toBe(
      "Input 'features': shape [4294967296, 4294967296, 4294967296] has more elements than any message can hold",
    );
    expect(failure({ shape: ['1000000'], dtype: 'float', data: floats(4) })).toContain(
      'data has 16 bytes, but shape [1000000] of float needs 4000000',
    );
  });

  it('a bool byte other than 0 or 1', () => {
    expect(failure({ shape: ['3'], dtype: 'bool', data: Buffer.from([1, 7, 0]) })).toBe(
      "Input 'features': bool element 1 is byte 7; bool tensors hold 0 or 1 per byte",
    );
  });

  describe('against the declared spec', () => {
    const spec = Tensor.of('float32', ['batch', 4]);
    const check = (tensor: Tensor, bindings: SymbolBindings = new Map()) =>
      checkTensorSpec(tensor, spec, 'features', bindings);

    it('accepts a matching tensor and binds its symbolic dimensions', () => {
      const bindings: SymbolBindings = new Map();
      expect(check(new Tensor('float', [3, 4], new Float32Array(12)), bindings)).toBeUndefined();
      expect(bindings.get('batch')).toEqual({ size: 3, field: 'features' });
    });

    it('a dtype mismatch', () => {
      expect(check(new Tensor('double', [1, 4], new Float64Array(4)))).toBe(
        "'features': expected dtype float, got double",
      );
    });

    it('a rank mismatch', () => {
      expect(check(new Tensor('float', [4], new Float32Array(4)))).toBe(
        "'features': expected shape [batch, 4] (rank 2), got [4] (rank 1)",
      );
    });

    it('a fixed dimension mismatch', () => {
      expect(check(new Tensor('float', [2, 3], new Float32Array(6)))).toBe(
        "'features': dimension 1 of [batch, 4] must be 4, got 3",
      );
    });

    it("a symbolic dimension that differs from another input's", () => {
      const bindings: SymbolBindings = new Map([['batch', { size: 2, field: 'mask' }]]);
      expect(check(new Tensor('float', [3, 4], new Float32Array(12)), bindings)).toBe(
        "'features': dimension 'batch' is 3, but 'mask' has 'batch' = 2",
      );
    });
  });

  it('Tensor refuses data that does not fit its dtype or shape', () => {
    expect(() => new Tensor('float', [2], new Float64Array(2))).toThrow(
      'A float tensor holds its data in a Float32Array, got Float64Array',
    );
    expect(() => new Tensor('int32', [2, 2], new Int32Array(3))).toThrow(
      'Shape [2, 2] has 4 elements but the data has 3',
    );
  });
});
