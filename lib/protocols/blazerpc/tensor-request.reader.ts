import { endianness } from 'node:os';
import type { ModelFieldSpec } from '../../core/schema/model-descriptor.interface.js';
import {
  DTYPE_STORAGE,
  TENSOR_DTYPE_ALIASES,
  TENSOR_DTYPES,
  type TensorDType,
} from '../../core/tensor/tensor-dtype.js';
import { fromReceivedBytes } from '../shared/tensor-proto.codec.js';
import { MAX_REQUEST_DIMS } from '../../core/tensor/tensor-spec.check.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { VarintCursor } from '../shared/varint.js';

/** The wire type of every field this reader takes: length-delimited. */
const LENGTH_DELIMITED = 2;
/** `TensorProto` field numbers: `repeated int64 shape = 1; string dtype = 2; bytes data = 3;`. */
const SHAPE = 1;
const DTYPE = 2;
const DATA = 3;

/** Larger shape entries (and negative ones, ten bytes long) are left to the full decoder. */
const MAX_DIM_VARINT_BYTES = 7;

const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/** Every dtype name and alias a request may send, as bytes, with the dtype it names. */
const DTYPE_NAMES: readonly { readonly bytes: Buffer; readonly dtype: TensorDType }[] = [
  ...TENSOR_DTYPES.map((dtype) => ({ bytes: Buffer.from(dtype), dtype })),
  ...Object.entries(TENSOR_DTYPE_ALIASES).map(([alias, dtype]) => ({ bytes: Buffer.from(alias), dtype })),
];

/**
 * @internal Reads a request whose every field is a singular `TensorProto`
 * straight from its bytes into tensors, in one pass: the common, well-formed
 * case only. It gives up (`undefined`) on anything else: a field sent twice
 * or packed twice, an unknown field, a missing tensor or part, an unpacked or
 * out-of-range shape entry, more than `MAX_REQUEST_DIMS` of them, an unknown
 * dtype, a size mismatch, a bool byte other than 0 or 1. The caller then runs the full strict decoder, which
 * accepts or refuses those bytes and words the error. So for any bytes this
 * reader accepts, its tensors are the ones the full decoder makes (the same
 * dtype, shape and data over the same bytes, aligned or not), and every
 * refusal still comes from the full decoder.
 */
export class TensorRequestReader extends VarintCursor {
  private readonly byTag = new Map<number, number>();

  constructor(private readonly inputs: readonly ModelFieldSpec[]) {
    super();
    inputs.forEach((input, index) => this.byTag.set(input.number * 8 + LENGTH_DELIMITED, index));
  }

  /** Whether this reader serves a model with these inputs: one or more singular tensors. */
  static serves(inputs: readonly ModelFieldSpec[]): boolean {
    return inputs.length > 0 && inputs.every((input) => input.type.kind === 'tensor');
  }

  /** The inputs' tensors in declaration order, or `undefined` to leave the bytes to the full decoder. */
  read(bytes: Uint8Array): Tensor[] | undefined {
    if (!HOST_IS_LITTLE_ENDIAN) return undefined;
    const tensors: (Tensor | undefined)[] = new Array<Tensor | undefined>(this.inputs.length).fill(undefined);
    const end = bytes.length;
    this.pos = 0;
    while (this.pos < end) {
      const index = this.byTag.get(this.varint(bytes, end, 5));
      if (index === undefined || tensors[index] !== undefined) return undefined;
      const length = this.varint(bytes, end, 5);
      const start = this.pos;
      if (length < 0 || start + length > end) return undefined;
      const tensor = this.tensor(bytes, start + length);
      if (!tensor) return undefined;
      tensors[index] = tensor;
    }
    for (const tensor of tensors) if (tensor === undefined) return undefined;
    return tensors as Tensor[];
  }

  /** One `TensorProto` from `pos` to `stop`, with shape, dtype and data each sent once. */
  private tensor(bytes: Uint8Array, stop: number): Tensor | undefined {
    let shape: number[] | undefined;
    let dtype: TensorDType | undefined;
    let data: Uint8Array | undefined;
    while (this.pos < stop) {
      const tag = this.varint(bytes, stop, 1);
      const length = this.varint(bytes, stop, 5);
      const start = this.pos;
      if (length < 0 || start + length > stop) return undefined;
      this.pos = start + length;
      if (tag === SHAPE * 8 + LENGTH_DELIMITED && shape === undefined) {
        shape = this.dims(bytes, start, start + length);
        if (!shape) return undefined;
      } else if (tag === DTYPE * 8 + LENGTH_DELIMITED && dtype === undefined) {
        dtype = dtypeNamed(bytes, start, length);
        if (!dtype) return undefined;
      } else if (tag === DATA * 8 + LENGTH_DELIMITED && data === undefined && length > 0) {
        data = bytes.subarray(start, start + length);
      } else {
        return undefined;
      }
    }
    if (shape === undefined || dtype === undefined || data === undefined) return undefined;
    let count = 1;
    for (let axis = 0; axis < shape.length; axis++) count *= shape[axis];
    if (count * DTYPE_STORAGE[dtype].BYTES_PER_ELEMENT !== data.length) return undefined;
    if (dtype === 'bool' && data.some((byte) => byte > 1)) return undefined;
    return fromReceivedBytes(dtype, shape, count, data);
  }

  /** A packed shape's entries, each a non-negative integer of at most seven varint bytes. */
  private dims(bytes: Uint8Array, start: number, stop: number): number[] | undefined {
    const shape: number[] = [];
    this.pos = start;
    while (this.pos < stop) {
      const dim = this.varint(bytes, stop, MAX_DIM_VARINT_BYTES);
      // Past the bound, the full decoder refuses the shape without reading it.
      if (dim < 0 || shape.length === MAX_REQUEST_DIMS) return undefined;
      shape.push(dim);
    }
    return shape;
  }
}

function dtypeNamed(bytes: Uint8Array, start: number, length: number): TensorDType | undefined {
  for (const name of DTYPE_NAMES) {
    if (name.bytes.length !== length) continue;
    let i = 0;
    while (i < length && name.bytes[i] === bytes[start + i]) i++;
    if (i === length) return name.dtype;
  }
  return undefined;
}
