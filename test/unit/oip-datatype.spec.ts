import { itemSizeOf, TENSOR_DTYPES, type TensorDType } from '../../lib/index.js';
import {
  DTYPE_TO_OIP,
  isOipDatatype,
  OIP_ITEM_SIZE,
  OIP_TO_DTYPE,
  tritonDataType,
  type OipDatatype,
} from '../../lib/protocols/shared/oip-datatype.js';

/** The OIP datatype of every tensor dtype, as the Open Inference Protocol (KServe v2) names them. */
const EXPECTED: ReadonlyArray<[TensorDType, OipDatatype, number]> = [
  ['bool', 'BOOL', 1],
  ['uint8', 'UINT8', 1],
  ['uint16', 'UINT16', 2],
  ['uint32', 'UINT32', 4],
  ['uint64', 'UINT64', 8],
  ['int8', 'INT8', 1],
  ['int16', 'INT16', 2],
  ['int32', 'INT32', 4],
  ['int64', 'INT64', 8],
  ['float16', 'FP16', 2],
  ['float', 'FP32', 4],
  ['double', 'FP64', 8],
];

/** Every datatype of the spec's tensor data types table. */
const ALL_OIP: readonly OipDatatype[] = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BF16',
  'BYTES',
];

describe('OIP datatypes', () => {
  it('covers every tensor dtype, and nothing else', () => {
    expect(EXPECTED.map(([dtype]) => dtype).sort()).toEqual([...TENSOR_DTYPES].sort());
    expect(Object.keys(DTYPE_TO_OIP).sort()).toEqual([...TENSOR_DTYPES].sort());
  });

  it.each(EXPECTED)('%s is %s and back', (dtype, oip) => {
    expect(DTYPE_TO_OIP[dtype]).toBe(oip);
    expect(OIP_TO_DTYPE[oip]).toBe(dtype);
  });

  it('maps the two ways as inverses of each other', () => {
    for (const [oip, dtype] of Object.entries(OIP_TO_DTYPE)) expect(DTYPE_TO_OIP[dtype!]).toBe(oip);
    expect(Object.keys(OIP_TO_DTYPE)).toHaveLength(TENSOR_DTYPES.length);
  });

  it('has no tensor dtype for BF16 (raw bytes only) nor for BYTES (strings and bytes)', () => {
    expect(OIP_TO_DTYPE.BF16).toBeUndefined();
    expect(OIP_TO_DTYPE.BYTES).toBeUndefined();
    expect(Object.values(DTYPE_TO_OIP)).not.toContain('BF16');
    expect(Object.values(DTYPE_TO_OIP)).not.toContain('BYTES');
  });

  it.each(EXPECTED)('%s (%s) is %d bytes per element, the same as the tensor stores it', (dtype, oip, size) => {
    expect(OIP_ITEM_SIZE[oip as Exclude<OipDatatype, 'BYTES'>]).toBe(size);
    expect(itemSizeOf(dtype)).toBe(size);
  });

  it('sizes BF16 at 2 bytes and gives BYTES no fixed size', () => {
    expect(OIP_ITEM_SIZE.BF16).toBe(2);
    expect('BYTES' in OIP_ITEM_SIZE).toBe(false);
    expect(Object.keys(OIP_ITEM_SIZE).sort()).toEqual(ALL_OIP.filter((d) => d !== 'BYTES').sort());
  });

  it("names each datatype as Triton's model config does: TYPE_<datatype>, BYTES as TYPE_STRING", () => {
    expect(Object.fromEntries(ALL_OIP.map((d) => [d, tritonDataType(d)]))).toEqual({
      BOOL: 'TYPE_BOOL',
      UINT8: 'TYPE_UINT8',
      UINT16: 'TYPE_UINT16',
      UINT32: 'TYPE_UINT32',
      UINT64: 'TYPE_UINT64',
      INT8: 'TYPE_INT8',
      INT16: 'TYPE_INT16',
      INT32: 'TYPE_INT32',
      INT64: 'TYPE_INT64',
      FP16: 'TYPE_FP16',
      FP32: 'TYPE_FP32',
      FP64: 'TYPE_FP64',
      BF16: 'TYPE_BF16',
      BYTES: 'TYPE_STRING',
    });
  });

  it.each(ALL_OIP)('isOipDatatype(%p) is true', (name) => {
    expect(isOipDatatype(name)).toBe(true);
  });

  it.each([
    ['a lower-case name', 'fp32'],
    ['a tensor dtype name', 'float'],
    ['a Triton config name', 'TYPE_FP32'],
    ['STRING (Triton config, not OIP)', 'STRING'],
    ['the empty string', ''],
    ['surrounding spaces', ' FP32 '],
  ])('isOipDatatype refuses %s', (_, name) => {
    expect(isOipDatatype(name)).toBe(false);
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'isOipDatatype refuses the Object.prototype name %p',
    (name) => {
      expect(isOipDatatype(name)).toBe(false);
    },
  );
});
