import type { OipInferResult, OipInputs, OipTensorInput, OipTensorMetadata } from '../client/oip/index.js';
import { DTYPE_TO_OIP, isOipDatatype, type OipDatatype } from '../protocols/shared/oip-datatype.js';
import { normalizeDType } from '../core/tensor/tensor-dtype.js';
import { Tensor } from '../core/tensor/tensor.js';
import { CliError, EXIT } from './cli-io.js';

/** An OIP tensor as the CLI prints it. */
export interface OipTensorJson {
  datatype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

/**
 * Inputs for `call --protocol oip` from JSON. Each input is
 * - numbers, nested or flat: the datatype the model's metadata declares
 *   (FP32 when it declares none), the shape from the nesting, else the
 *   declared shape with its variable dimension filled in;
 * - a string or strings: BYTES;
 * - `{ "datatype", "shape", "data" }` (or `"dtype"` as for BlazeRPC tensors), as given.
 * @throws CliError (usage) for JSON that is not a set of inputs
 */
export function oipInputsFromJson(json: unknown, declared: readonly OipTensorMetadata[] | undefined): OipInputs {
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw usage('The inputs are a JSON object of input names, e.g. \'{"x": [1, 2, 3]}\'');
  const inputs: OipInputs = {};
  for (const [name, value] of Object.entries(json)) {
    const meta = declared?.find((input) => input.name === name);
    inputs[name] = isExplicit(value) ? explicitInput(name, value, meta) : inferredInput(name, value, meta);
  }
  return inputs;
}

/** The outputs of a response as JSON: numbers (64-bit integers as strings, as JSON numbers would round them), BYTES as UTF-8 strings. */
export function oipOutputsToJson(result: OipInferResult): Record<string, OipTensorJson> {
  return Object.fromEntries(
    Object.entries(result.outputs).map(([name, output]) => {
      const { datatype, shape } = result.outputInfo[name];
      const data =
        output instanceof Tensor ? tensorValues(output, datatype) : (output as (string | Buffer)[]).map(String);
      return [name, { datatype, shape, data }];
    }),
  );
}

interface ExplicitJson {
  datatype?: string;
  dtype?: string;
  shape?: number[];
  data: unknown;
}

function isExplicit(value: unknown): value is ExplicitJson {
  return !!value && typeof value === 'object' && !Array.isArray(value) && 'data' in value;
}

function explicitInput(name: string, value: ExplicitJson, meta: OipTensorMetadata | undefined): OipTensorInput {
  const datatype = value.datatype ?? (value.dtype === undefined ? meta?.datatype : dtypeAsOip(name, value.dtype));
  const { data, shape } = flatten(name, value.data);
  return toInput(name, datatype ?? defaultDatatype(data), value.shape ?? resolveShape(shape, data.length, meta), data);
}

function inferredInput(name: string, value: unknown, meta: OipTensorMetadata | undefined): OipTensorInput {
  const { data, shape } = flatten(name, value);
  return toInput(name, meta?.datatype ?? defaultDatatype(data), resolveShape(shape, data.length, meta), data);
}

function toInput(name: string, datatype: string, shape: number[], data: unknown[]): OipTensorInput {
  if (!isOipDatatype(datatype)) throw usage(`Input '${name}': '${datatype}' is not an OIP datatype`);
  if (datatype === 'FP16')
    throw usage(
      `Input '${name}' is FP16, which the CLI cannot write from JSON numbers; use the OipClient with raw half-float bits`,
    );
  if (datatype === 'BYTES')
    return { datatype, shape, data: data.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) };
  if (data.some((v) => typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string'))
    throw usage(`Input '${name}' is ${datatype}: its data holds numbers`);
  return { datatype: datatype as OipDatatype, shape, data: data as (number | string | boolean)[] };
}

/** Strings are BYTES, booleans BOOL, numbers FP32 (what most models take). */
function defaultDatatype(data: unknown[]): OipDatatype {
  if (data.length > 0 && data.every((v) => typeof v === 'string')) return 'BYTES';
  if (data.length > 0 && data.every((v) => typeof v === 'boolean')) return 'BOOL';
  return 'FP32';
}

function dtypeAsOip(name: string, dtype: string): OipDatatype {
  const known = normalizeDType(dtype);
  if (!known) throw usage(`Input '${name}': unknown dtype '${dtype}'`);
  return DTYPE_TO_OIP[known];
}

/** Row-major elements, and the shape the nesting spells out (undefined for a scalar). */
function flatten(name: string, value: unknown): { data: unknown[]; shape: number[] | undefined } {
  if (!Array.isArray(value)) return { data: [value], shape: undefined };
  const shape: number[] = [];
  for (let level: unknown = value; Array.isArray(level); level = level[0]) shape.push(level.length);
  const data: unknown[] = [];
  const walk = (node: unknown, depth: number) => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw usage(`Input '${name}' is nested unevenly`);
      data.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth])
      throw usage(`Input '${name}' is not rectangular: expected ${shape[depth]} elements at depth ${depth}`);
    node.forEach((child) => walk(child, depth + 1));
  };
  walk(value, 0);
  return { data, shape };
}

/**
 * The shape to send: the nesting's when it has more than one dimension, else
 * the declared shape with its variable (-1) dimensions filled in (all but the
 * last as 1, i.e. a batch of one), else the flat length.
 */
function resolveShape(nested: number[] | undefined, count: number, meta: OipTensorMetadata | undefined): number[] {
  if (nested && nested.length > 1) return nested;
  const declared = meta?.shape;
  if (declared && declared.length > 0) {
    const variable = declared.map((dim, index) => (dim < 0 ? index : -1)).filter((index) => index >= 0);
    const fixed = declared.reduce((product, dim) => (dim < 0 ? product : product * dim), 1);
    if (variable.length === 0 && fixed === count) return [...declared];
    if (variable.length > 0 && fixed > 0 && count % fixed === 0) {
      const last = variable[variable.length - 1];
      return declared.map((dim, index) => (dim >= 0 ? dim : index === last ? count / fixed : 1));
    }
  }
  return nested ?? [count];
}

function tensorValues(tensor: Tensor, datatype: string): (number | string | boolean)[] {
  const values = Array.from(tensor.data as ArrayLike<number | bigint>);
  if (datatype === 'FP16') return values.map((bits) => halfToNumber(Number(bits)));
  if (datatype === 'BOOL') return values.map((v) => v !== 0);
  return values.map((v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** IEEE half-precision bits as a number (FP16 tensors hold raw bits). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function usage(message: string): CliError {
  return new CliError(EXIT.usage, message);
}
