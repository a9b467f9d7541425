import { SerializationError } from '../core/errors/serialization.error.js';
import {
  decodeTensorProto,
  encodeTensorProto,
  type TensorProtoMessage,
} from '../protocols/shared/tensor-proto.codec.js';
import { Tensor } from '../core/tensor/tensor.js';
import type { ClientField, ClientModel } from './client-model-catalog.js';

/** A tensor as JSON (e.g. from the CLI): `{ dtype, shape, data: [...] }`. */
export interface TensorJson {
  dtype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

/**
 * Request fields for a model: `Tensor`s (or tensor JSON) become TensorProtos, bigints become int64 strings.
 * `asked` is the model name as the caller spelled it, for errors (a catalog read over reflection knows only the rpc's spelling).
 */
export function toRequestMessage(
  model: ClientModel,
  inputs: Record<string, unknown>,
  asked = model.name,
): Record<string, unknown> {
  const known = new Set(model.inputs.map((f) => f.name));
  const unknown = Object.keys(inputs).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    const expected = model.inputs.map((f) => f.name).join(', ') || 'no inputs';
    throw new SerializationError(
      `Model '${asked}' has no input ${unknown.map((k) => `'${k}'`).join(', ')}; it takes: ${expected}`,
    );
  }
  const message: Record<string, unknown> = {};
  for (const field of model.inputs) {
    if (inputs[field.name] === undefined) continue;
    const value = inputs[field.name];
    if (field.repeated && !Array.isArray(value)) throw wrongType(field, value, 'a list');
    message[field.name] = field.repeated
      ? (value as unknown[]).map((item) => toWire(field, item))
      : toWire(field, value);
  }
  return message;
}

/** The call's result: the `result` field, or all named outputs; tensors as `Tensor` (views over the response bytes). */
export function fromResponseMessage(model: ClientModel, message: Record<string, unknown>): unknown {
  const convert = (field: ClientField) => {
    const value = message[field.name];
    return field.repeated ? (value as unknown[]).map((item) => fromWire(field, item)) : fromWire(field, value);
  };
  if (!model.namedOutputs) return convert(model.outputs[0]);
  return Object.fromEntries(model.outputs.map((field) => [field.name, convert(field)]));
}

function toWire(field: ClientField, value: unknown): unknown {
  if (field.kind === 'tensor') {
    const tensor = value instanceof Tensor ? value : tensorFromJson(value as TensorJson, field.name);
    return encodeTensorProto(tensor);
  }
  if (field.kind === 'int64') {
    if (typeof value === 'bigint') return value.toString();
    if (Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value))) return value;
    throw wrongType(field, value, 'an integer (a bigint, a safe integer or a string of digits)');
  }
  const expected = SCALAR_EXPECTATIONS[field.protoType ?? ''];
  if (expected && !expected.accepts(value)) throw wrongType(field, value, expected.what);
  return value;
}

/** What each scalar field type takes, for the check before sending (protobufjs would coerce or drop it silently). */
const SCALAR_EXPECTATIONS: Record<string, { what: string; accepts: (value: unknown) => boolean }> = {
  TYPE_STRING: { what: 'a string', accepts: (v) => typeof v === 'string' },
  TYPE_BOOL: { what: 'a boolean', accepts: (v) => typeof v === 'boolean' },
  TYPE_DOUBLE: { what: 'a number', accepts: (v) => typeof v === 'number' },
  TYPE_FLOAT: { what: 'a number', accepts: (v) => typeof v === 'number' },
  TYPE_INT32: { what: 'an integer', accepts: (v) => Number.isInteger(v) },
  TYPE_UINT32: { what: 'a non-negative integer', accepts: (v) => Number.isInteger(v) && (v as number) >= 0 },
  TYPE_BYTES: {
    what: 'bytes (a Buffer or Uint8Array, or base64 text)',
    accepts: (v) => v instanceof Uint8Array || typeof v === 'string',
  },
};

function wrongType(field: ClientField, value: unknown, expected: string): SerializationError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return new SerializationError(
    `Input '${field.name}' must be ${expected}${field.repeated ? ' (per item)' : ''}, got ${got}`,
  );
}

function fromWire(field: ClientField, value: unknown): unknown {
  if (field.kind === 'tensor') return value ? decodeTensorProto(value as TensorProtoMessage, field.name) : undefined;
  if (field.kind === 'int64') return BigInt(value as string);
  return value;
}

function tensorFromJson(json: TensorJson, field: string): Tensor {
  if (!json || !Array.isArray(json.shape) || !Array.isArray(json.data) || typeof json.dtype !== 'string') {
    throw new SerializationError(`Input '${field}' is a tensor: pass a Tensor or { dtype, shape: [...], data: [...] }`);
  }
  const big = json.dtype === 'int64' || json.dtype === 'uint64';
  return Tensor.from(
    json.dtype as never,
    json.shape,
    json.data.map((v) => (big ? BigInt(v) : typeof v === 'boolean' ? v : Number(v))),
  );
}

/** A tensor as plain JSON (for printing). */
export function tensorToJson(tensor: Tensor): TensorJson {
  return {
    dtype: tensor.dtype,
    shape: [...tensor.shape],
    data: Array.from(tensor.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v.toString() : v)),
  };
}
