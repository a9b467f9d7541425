import { status as GrpcStatus } from '@grpc/grpc-js';
import { encodeRawBytes } from '../../protocols/shared/oip-bytes.codec.js';
import { DTYPE_TO_OIP, isOipDatatype, OIP_ITEM_SIZE, OIP_TO_DTYPE } from '../../protocols/shared/oip-datatype.js';
import { DTYPE_STORAGE } from '../../core/tensor/tensor-dtype.js';
import { bytesOf, elementCount, Tensor } from '../../core/tensor/tensor.js';
import { BlazeRpcClientError } from '../blaze-rpc-client.error.js';
import { float32ToBf16Bytes } from './bfloat16.js';
import type { OipRequestOptions } from './oip-client-options.interface.js';
import type { InferTensorMessage, ModelInferRequestMessage } from './oip-messages.js';
import { encodeParameters } from './oip-parameters.js';
import type { OipInput, OipInputs, OipTensorInput } from './oip-tensors.interface.js';

/** One input as it goes on the wire: its description, and its bytes for `raw_input_contents`. */
interface EncodedInput {
  tensor: InferTensorMessage;
  raw: Uint8Array;
}

/**
 * @internal A `ModelInferRequest`. Every input travels in `raw_input_contents`
 * (the spec allows raw or typed contents, not both in one request): raw is
 * what Triton prefers, needs no per-element conversion, and is the only form
 * FP16, BF16 and raw BYTES have.
 * @throws BlazeRpcClientError INVALID_ARGUMENT naming the input that cannot be sent
 */
export function encodeInferRequest(
  model: string,
  inputs: OipInputs,
  options: OipRequestOptions,
): ModelInferRequestMessage {
  const encoded = Object.entries(inputs).map(([name, value]) => encodeInput(name, value));
  return {
    model_name: model,
    model_version: options.version ?? '',
    id: options.id ?? '',
    parameters: encodeParameters(options.parameters, 'request'),
    inputs: encoded.map((input) => input.tensor),
    outputs: (options.outputs ?? []).map((output) =>
      typeof output === 'string'
        ? { name: output, parameters: {} }
        : { name: output.name, parameters: encodeParameters(output.parameters, `output '${output.name}'`) },
    ),
    raw_input_contents: encoded.map((input) => input.raw),
  };
}

function encodeInput(name: string, value: OipInput): EncodedInput {
  if (value instanceof Tensor) {
    // The tensor's own bytes: the serializer's copy into the message is the only one.
    return { tensor: { name, datatype: DTYPE_TO_OIP[value.dtype], shape: [...value.shape] }, raw: bytesOf(value) };
  }
  if (typeof value === 'string') return bytesInput(name, [1], [value]);
  if (Array.isArray(value)) {
    const elements = value as readonly unknown[];
    if (elements.every(isBytesElement)) return bytesInput(name, [elements.length], elements);
    throw invalid(
      name,
      'an array input is BYTES and holds strings or byte arrays; pass numbers as a Tensor or { datatype, shape, data }',
    );
  }
  if (value && typeof value === 'object' && 'datatype' in value) return explicitInput(name, value as OipTensorInput);
  throw invalid(
    name,
    `got ${describe(value)}; pass a Tensor, a string, an array of strings or byte arrays, or { datatype, shape, data }`,
  );
}

function explicitInput(name: string, input: OipTensorInput): EncodedInput {
  const { datatype } = input;
  if (typeof datatype !== 'string' || !isOipDatatype(datatype)) {
    throw invalid(
      name,
      `'${String(datatype)}' is not an OIP datatype; expected one of BYTES, ${Object.keys(OIP_ITEM_SIZE).join(', ')}`,
    );
  }
  const values = input.data as ArrayLike<unknown>;
  if (!values || typeof values.length !== 'number') throw invalid(name, 'data must be an array or a typed array');
  const shape = input.shape ? [...input.shape] : [values.length];
  if (!shape.every((dim) => Number.isInteger(dim) && dim >= 0))
    throw invalid(name, `shape [${shape.join(', ')}] must hold non-negative integers`);
  const count = elementCount(shape);
  if (values.length !== count)
    throw invalid(name, `shape [${shape.join(', ')}] has ${count} elements but data has ${values.length}`);
  if (datatype === 'BYTES') {
    const elements = Array.from(values);
    if (!elements.every(isBytesElement)) throw invalid(name, 'BYTES data holds strings or byte arrays');
    return bytesInput(name, shape, elements);
  }
  const tensor = { name, datatype, shape };
  if (datatype === 'BF16' && !hasTag(values, 'Uint16Array')) {
    return { tensor, raw: float32ToBf16Bytes(Array.from(values, (v) => toNumber(name, v))) };
  }
  // BF16 given as Uint16Array is raw bit patterns, stored like FP16.
  const dtype = datatype === 'BF16' ? 'float16' : OIP_TO_DTYPE[datatype]!;
  const Storage = DTYPE_STORAGE[dtype];
  let data = values as unknown as ArrayBufferView;
  if (!hasTag(values, Storage.name)) {
    const big = dtype === 'int64' || dtype === 'uint64';
    const typed = new Storage(count) as unknown as { [index: number]: number | bigint };
    for (let i = 0; i < count; i++) typed[i] = big ? toBigInt(name, values[i]) : toNumber(name, values[i]);
    data = typed as unknown as ArrayBufferView;
  }
  return { tensor, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function bytesInput(name: string, shape: number[], elements: readonly (string | Uint8Array)[]): EncodedInput {
  return { tensor: { name, datatype: 'BYTES', shape }, raw: encodeRawBytes(elements) };
}

function isBytesElement(value: unknown): value is string | Uint8Array {
  return typeof value === 'string' || value instanceof Uint8Array;
}

// NOTE: compared by tag, not instanceof, so typed arrays from another realm (workers' VM contexts, native addons) pass.
function hasTag(value: unknown, tag: string): boolean {
  return ArrayBuffer.isView(value) && (value as Uint8Array)[Symbol.toStringTag] === tag;
}

function toNumber(name: string, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean' || typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  throw invalid(name, `${describe(value)} is not a number`);
}

function toBigInt(name: string, value: unknown): bigint {
  try {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return BigInt(value);
  } catch {
    // A fraction or a non-numeric string: reported below, naming the input.
  }
  throw invalid(name, `${describe(value)} is not an integer`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.length > 20 ? `${value.slice(0, 20)}...` : value}'`;
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return String(value);
}

function invalid(name: string, reason: string): BlazeRpcClientError {
  return new BlazeRpcClientError(GrpcStatus.INVALID_ARGUMENT, `Input '${name}': ${reason}`);
}
