import { SerializationError } from '../errors/serialization.error.js';
import type { TensorData } from './tensor-data.js';
import { DTYPE_STORAGE, normalizeDType, type TensorDType, type TensorDTypeName } from './tensor-dtype.js';
import { TensorSpec, type TensorDim } from './tensor-spec.js';
import { tensorCopyStats } from './tensor-copy-stats.js';

export type { TensorData } from './tensor-data.js';

/**
 * An n-dimensional array: dtype, shape and row-major typed-array data.
 * Tensors decoded from a request keep the received bytes and turn them into
 * typed data only when `data` is first read: a view where alignment allows, a
 * copy where it does not. Treat their data as read-only.
 *
 * `Tensor.of(dtype, shape)` declares a tensor type for `@Input()` and `returns`:
 * @example
 * ```ts
 * @Model('iris', { returns: Tensor.of('float32', ['batch', 3]) })
 * iris(@Input('features', Tensor.of('float32', ['batch', 4])) x: Tensor) { ... }
 *
 * new Tensor('float32', [2, 2], new Float32Array([1, 2, 3, 4]));
 * Tensor.from('int64', [3], [1n, 2n, 3n]);
 * ```
 */
export class Tensor {
  readonly dtype: TensorDType;
  readonly shape: readonly number[];

  /**
   * @throws SerializationError when the data's type or length does not fit the dtype and shape
   */
  constructor(
    dtype: TensorDTypeName,
    shape: readonly number[],
    readonly data: TensorData,
  ) {
    const wire = normalizeDType(dtype);
    if (!wire) throw new SerializationError(`Unknown tensor dtype '${dtype}'`, dtype);
    const Storage = DTYPE_STORAGE[wire];
    // NOTE: compared by tag, not instanceof, so arrays made in another realm (native addons, VM contexts) pass.
    if (!ArrayBuffer.isView(data) || (data as Uint8Array)[Symbol.toStringTag] !== Storage.name) {
      throw new SerializationError(
        `A ${wire} tensor holds its data in a ${Storage.name}, got ${data?.constructor?.name}`,
        wire,
      );
    }
    const size = elementCount(shape);
    if (data.length !== size) {
      throw new SerializationError(
        `Shape [${shape.join(', ')}] has ${size} elements but the data has ${data.length}`,
        wire,
      );
    }
    this.dtype = wire;
    this.shape = Object.freeze([...shape]);
  }

  /** Declares a tensor type with fixed (`4`) and symbolic (`'batch'`) dimensions. */
  static of(dtype: TensorDTypeName, shape: readonly TensorDim[]): TensorSpec {
    return new TensorSpec(dtype, shape);
  }

  /** Builds a tensor from plain values (numbers, bigints for 64-bit integers, booleans for bool). */
  static from(dtype: TensorDTypeName, shape: readonly number[], values: ArrayLike<number | bigint | boolean>): Tensor {
    const wire = normalizeDType(dtype);
    if (!wire) throw new SerializationError(`Unknown tensor dtype '${dtype}'`, dtype);
    const data = new DTYPE_STORAGE[wire](values.length);
    const isBig = wire === 'int64' || wire === 'uint64';
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      (data as unknown as (number | bigint)[])[i] = isBig ? BigInt(value) : Number(value);
    }
    return new Tensor(wire, shape, data);
  }

  /** Number of elements. */
  get size(): number {
    return elementCount(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** The rows along the first dimension, each as a plain array (handy in tests and logs). */
  rows(): (number | bigint)[][] {
    const rowLength = this.shape.length === 0 ? 1 : this.size / Math.max(this.shape[0], 1);
    const rows: (number | bigint)[][] = [];
    for (let start = 0; start < this.size; start += rowLength) {
      rows.push(Array.from(this.data.subarray(start, start + rowLength) as ArrayLike<number | bigint>));
    }
    return rows;
  }
}

/** Product of the dimensions (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let product = 1;
  for (let axis = 0; axis < shape.length; axis++) product *= shape[axis];
  return product;
}

/** Request bytes of tensors whose typed data has not been read yet. */
const wireBytes = new WeakMap<Tensor, Uint8Array>();

/**
 * @internal A tensor over received bytes (already checked against dtype and
 * shape). `data` is made on first read: a view when the bytes are aligned for
 * the dtype, else an aligned copy. Code that only moves the bytes (batch
 * merges, the hand-over to a worker) reads them with `bytesOf()` and so copies
 * them at most once, wherever they sit.
 */
export function tensorOverBytes(dtype: TensorDType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const tensor = Object.create(Tensor.prototype) as Tensor;
  Object.defineProperties(tensor, {
    dtype: { value: dtype, enumerable: true },
    shape: { value: Object.freeze([...shape]), enumerable: true },
    data: {
      enumerable: true,
      configurable: true,
      get(this: Tensor) {
        const data = viewBytesAs(dtype, bytes);
        Object.defineProperty(this, 'data', { value: data, enumerable: true });
        wireBytes.delete(this);
        return data;
      },
    },
  });
  wireBytes.set(tensor, bytes);
  return tensor;
}

/** @internal Whether the tensor still holds received bytes whose typed data has not been read. */
export function isOverReceivedBytes(tensor: Tensor): boolean {
  return wireBytes.has(tensor);
}

/** @internal A tensor's bytes, without turning received bytes into typed data. */
export function bytesOf(tensor: Tensor): Uint8Array {
  const bytes = wireBytes.get(tensor);
  if (bytes) return bytes;
  const { buffer, byteOffset, byteLength } = tensor.data;
  return new Uint8Array(buffer, byteOffset, byteLength);
}

function viewBytesAs(dtype: TensorDType, bytes: Uint8Array): TensorData {
  const Storage = DTYPE_STORAGE[dtype];
  const count = bytes.byteLength / Storage.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % Storage.BYTES_PER_ELEMENT === 0) return new Storage(bytes.buffer, bytes.byteOffset, count);
  // Typed arrays need offsets aligned to their element size; only then is a copy made.
  if (tensorCopyStats.counting) tensorCopyStats.decodedCopiedBytes += bytes.byteLength;
  const copy = new Storage(count);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}
