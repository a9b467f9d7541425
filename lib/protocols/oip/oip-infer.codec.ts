import { describeClientShape, quoteClientText } from '../../core/errors/client-text.js';
import { InferenceError } from '../../core/errors/inference.error.js';
import { ValidationError } from '../../core/errors/validation.error.js';
import type { ModelRequest } from '../../pipeline/model-request.js';
import type { ModelDescriptor } from '../../core/schema/model-descriptor.interface.js';
import type { ScalarFieldType } from '../../core/schema/field-type.js';
import { checkTensorSpec, type SymbolBindings } from '../../core/tensor/tensor-spec.check.js';
import { DTYPE_STORAGE, type TensorDType } from '../../core/tensor/tensor-dtype.js';
import { bytesOf, Tensor } from '../../core/tensor/tensor.js';
import { fromReceivedBytes } from '../shared/tensor-proto.codec.js';
import type { TensorData } from '../../core/tensor/tensor-data.js';
import { DEFAULT_LIMITS } from '../../core/options/resolve-options.js';
import { overLimit } from '../shared/request-caps.js';
import { decodeRawBytes, decodeRawStrings, encodeRawBytes, NOT_UTF8 } from '../shared/oip-bytes.codec.js';
import { OIP_CONTENTS_FIELD, OIP_ITEM_SIZE, OIP_TO_DTYPE, type OipDatatype } from '../shared/oip-datatype.js';
import type { InferRequestLimits, InferRequestOutline } from './oip-infer-request.reader.js';
import type { OipTensorSignature } from './oip-signature.js';

/** `InferTensorContents` as decoded: every list present (possibly empty). */
export interface TensorContentsMessage {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: string[];
  uint_contents: number[];
  uint64_contents: string[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

/** An `InferInputTensor` as decoded (64-bit integers as strings). */
export interface InferInputMessage {
  name: string;
  datatype: string;
  shape: string[];
  contents: TensorContentsMessage | null;
}

/** An `InferOutputTensor` as this server sends it: data always in `raw_output_contents`. */
export interface InferOutputMessage {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @internal Turns an OIP request's input tensors into the model's request:
 * every declared input present once, with its declared datatype and a shape
 * that fits; data either all in `raw_input_contents` (in input order) or all
 * in typed `contents`, never mixed. Numeric tensors stay over the received
 * bytes (see `tensorOverBytes`). Every count is checked before the work it
 * sizes: the BYTES elements of all inputs against `limits.maxBytesElements`
 * before any is split, each shape against the bytes sent before any copy.
 *
 * @throws ValidationError naming the tensor, for anything that does not fit
 * @throws CallStatusError RESOURCE_EXHAUSTED past `maxBytesElements`
 */
export function decodeInferInputs(
  signature: readonly OipTensorSignature[],
  inputs: readonly InferInputMessage[],
  raw: readonly Uint8Array[],
  bindings: SymbolBindings,
  limits: Pick<InferRequestLimits, 'maxBytesElements'> = DEFAULT_LIMITS,
): ModelRequest {
  if (raw.length > 0 && raw.length !== inputs.length) throw rawCountMismatch(raw.length, inputs.length);
  const byName = new Map<string, number>();
  inputs.forEach((input, index) => {
    if (byName.has(input.name))
      throw new ValidationError(`Input '${quoteClientText(input.name)}' is sent twice`, input.name);
    byName.set(input.name, index);
  });
  checkBytesElements(inputs, raw.length > 0, limits.maxBytesElements);
  const request: ModelRequest = {};
  for (const declared of signature) {
    const index = byName.get(declared.name);
    if (index === undefined) throw new ValidationError(`Input '${declared.name}' is missing`, declared.name);
    byName.delete(declared.name);
    const input = inputs[index]!;
    if (raw.length > 0 && input.contents && hasContents(input.contents)) throw bothRawAndContents(declared.name);
    request[declared.name] = decodeInput(declared, input, raw.length > 0 ? raw[index]! : undefined, bindings);
  }
  const [unknown] = byName.keys();
  if (unknown !== undefined) {
    throw new ValidationError(
      `Input '${quoteClientText(unknown)}' is not an input of this model (it takes ${signature.map((s) => `'${s.name}'`).join(', ')})`,
      unknown,
    );
  }
  return request;
}

/**
 * @internal What `decodeInferInputs` would refuse in a request's typed
 * contents, found from its outline before protobufjs decodes any of them:
 * a datatype other than the declared one, a shape that does not fit the
 * declaration, contents beside raw contents, values in a list other than the
 * datatype's, and a list whose element count is not the shape's. Inputs the
 * model does not declare are left to `decodeInferInputs`, which words it.
 *
 * @throws ValidationError as `decodeInferInputs` would
 */
export function checkInputsOutline(signature: readonly OipTensorSignature[], outline: InferRequestOutline): void {
  if (outline.rawCount > 0 && outline.rawCount !== outline.inputs.length)
    throw rawCountMismatch(outline.rawCount, outline.inputs.length);
  for (const input of outline.inputs) {
    const declared = signature.find((candidate) => candidate.name === input.name);
    if (!declared) continue;
    const { name } = declared;
    checkDatatype(declared, input.datatype);
    const { count } = checkedShape(declared, input.shape);
    if (input.contents.size === 0) continue;
    if (outline.rawCount > 0) throw bothRawAndContents(name);
    const key = OIP_CONTENTS_FIELD[declared.datatype];
    if (!key) throw rawOnly(name, declared.datatype);
    for (const list of input.contents.keys()) {
      if (list !== key)
        throw new ValidationError(
          `Input '${name}': ${declared.datatype} values go in contents.${key}, not contents.${list}`,
          name,
        );
    }
    const held = input.contents.get(key)!;
    if (input.more || held !== count)
      throw contentsCountMismatch(name, count, key, input.more ? `more than ${count}` : String(held));
  }
}

function decodeInput(
  declared: OipTensorSignature,
  input: InferInputMessage,
  raw: Uint8Array | undefined,
  bindings: SymbolBindings,
): unknown {
  const { name, field } = declared;
  checkDatatype(declared, input.datatype);
  const { shape, count } = checkedShape(declared, input.shape);
  const type = field.type;
  if (declared.datatype === 'BYTES') {
    const element = type.kind === 'list' ? type.element : type;
    let values: Array<string | Buffer>;
    if (raw && element.kind === 'scalar' && element.protoType === 'string') {
      // Strings straight from the raw buffer: a view per element would cost more than the strings.
      const strings = decodeRawStrings(raw, count);
      if (strings === NOT_UTF8) throw notUtf8(name);
      if (typeof strings === 'string') throw new ValidationError(`Input '${name}': raw BYTES ${strings}`, name);
      values = strings;
    } else {
      const elements = raw ? decodeRawBytes(raw, count) : typedContents(input, 'bytes_contents', count, name);
      if (typeof elements === 'string') throw new ValidationError(`Input '${name}': raw BYTES ${elements}`, name);
      values = elements.map((bytes) => bytesValue(element, bytes, name));
    }
    return type.kind === 'scalar' ? values[0] : values;
  }
  const dtype = OIP_TO_DTYPE[declared.datatype]!;
  const bytes = raw && checkedRaw(declared.datatype, shape, count, raw, name);
  if (type.kind === 'tensor') {
    // As over BlazeRPC: aligned bytes are viewed in place, small misaligned ones copied, large ones kept as received until read.
    const tensor = bytes
      ? fromReceivedBytes(dtype, shape, count, bytes)
      : new Tensor(dtype, shape, contentsData(declared.datatype, input, count, name));
    const problem = checkTensorSpec(tensor, type.spec, name, bindings);
    if (problem) throw new ValidationError(`Input ${problem}`, name);
    return tensor;
  }
  const data = bytes ? copyAligned(dtype, count, bytes) : contentsData(declared.datatype, input, count, name);
  const values = Array.from(data as ArrayLike<number | bigint>, (value) =>
    declared.datatype === 'BOOL' ? value !== 0 : value,
  );
  return type.kind === 'scalar' ? values[0] : values;
}

function checkDatatype(declared: OipTensorSignature, datatype: string): void {
  if (datatype !== declared.datatype) {
    throw new ValidationError(
      `Input '${declared.name}': expected datatype ${declared.datatype}, got ${quoteClientText(datatype)}`,
      declared.name,
    );
  }
}

/** The shape as numbers and its element count, checked against what the declared field takes. */
function checkedShape(declared: OipTensorSignature, sent: readonly string[]): { shape: number[]; count: number } {
  const { name, field } = declared;
  const shape = parseShape(sent, name);
  const count = shape.reduce((total, dim) => total * dim, 1);
  if (field.type.kind === 'scalar' && count !== 1) {
    throw new ValidationError(`Input '${name}': expected shape [1], got ${describeClientShape(sent)}`, name);
  }
  if (field.type.kind === 'list' && shape.length !== 1) {
    throw new ValidationError(`Input '${name}': expected a 1-D shape [n], got ${describeClientShape(sent)}`, name);
  }
  return { shape, count };
}

/**
 * Refuses a request whose BYTES inputs hold more elements in all than
 * `max`, from their shapes (raw) or their lists' lengths (typed), before
 * any element is split or turned into a string.
 */
function checkBytesElements(inputs: readonly InferInputMessage[], raw: boolean, max: number): void {
  let total = 0;
  for (const input of inputs) {
    if (input.datatype !== 'BYTES') continue;
    if (raw) {
      // An invalid shape adds nothing here: decodeInput refuses it, naming the input.
      total += input.shape.reduce((product, dim) => product * Math.max(0, Number(dim) || 0), 1);
    } else {
      total += input.contents?.bytes_contents.length ?? 0;
    }
  }
  if (total > max) throw overLimit(`request has ${total} BYTES elements`, max, 'maxBytesElements');
}

function rawCountMismatch(raw: number, inputs: number): ValidationError {
  return new ValidationError(
    `raw_input_contents holds ${raw} entries for ${inputs} inputs: send every input raw, or none`,
  );
}

function bothRawAndContents(name: string): ValidationError {
  return new ValidationError(`Input '${name}': data both in raw_input_contents and in contents; send one`, name);
}

function rawOnly(name: string, datatype: OipDatatype): ValidationError {
  return new ValidationError(`Input '${name}': ${datatype} data must be sent in raw_input_contents`, name);
}

function contentsCountMismatch(name: string, count: number, key: string, held: string): ValidationError {
  return new ValidationError(`Input '${name}': the shape has ${count} elements, contents.${key} has ${held}`, name);
}

function parseShape(shape: readonly string[], name: string): number[] {
  return shape.map((dim) => {
    const size = Number(dim);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new ValidationError(`Input '${name}': invalid shape ${describeClientShape(shape)}`, name);
    return size;
  });
}

/** Raw numeric bytes, checked to be exactly `count` elements' worth. */
function checkedRaw(datatype: OipDatatype, shape: number[], count: number, raw: Uint8Array, name: string): Uint8Array {
  const size = OIP_ITEM_SIZE[datatype as Exclude<OipDatatype, 'BYTES'>];
  if (raw.byteLength !== count * size) {
    throw new ValidationError(
      `Input '${name}': shape ${describeClientShape(shape)} of ${datatype} needs ${count * size} bytes, raw_input_contents has ${raw.byteLength}`,
      name,
    );
  }
  return raw;
}

/** Raw bytes as typed data in fresh, aligned memory (for scalars and lists, read out at once). */
function copyAligned(dtype: TensorDType, count: number, bytes: Uint8Array): TensorData {
  const data = new DTYPE_STORAGE[dtype](count);
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
  return data;
}

function contentsData(datatype: OipDatatype, input: InferInputMessage, count: number, name: string): TensorData {
  const key = OIP_CONTENTS_FIELD[datatype];
  const dtype = OIP_TO_DTYPE[datatype];
  if (!key || !dtype) throw rawOnly(name, datatype);
  const values = typedContents(input, key, count, name) as ArrayLike<number | string | boolean>;
  const data = new DTYPE_STORAGE[dtype](count);
  const big = dtype === 'int64' || dtype === 'uint64';
  // int_contents and uint_contents are 32-bit on the wire: a value that does not fit INT8..UINT16 must not wrap.
  const narrow = datatype === 'INT8' || datatype === 'INT16' || datatype === 'UINT8' || datatype === 'UINT16';
  const outOfRange = () =>
    new ValidationError(`Input '${name}': ${key} holds a value out of range for ${datatype}`, name);
  try {
    for (let i = 0; i < count; i++) {
      const value = big ? BigInt(values[i] as string) : Number(values[i]);
      (data as unknown as Array<number | bigint>)[i] = value;
      if (narrow && data[i] !== value) throw outOfRange();
    }
  } catch (error) {
    throw error instanceof ValidationError ? error : outOfRange();
  }
  return data;
}

function typedContents(
  input: InferInputMessage,
  key: keyof TensorContentsMessage,
  count: number,
  name: string,
): ArrayLike<unknown> & Uint8Array[] {
  const values = (input.contents?.[key] ?? []) as unknown[];
  if (values.length !== count) throw contentsCountMismatch(name, count, key, String(values.length));
  return values as Uint8Array[];
}

function bytesValue(type: ScalarFieldType | { kind: 'tensor' }, element: Uint8Array, name: string): string | Buffer {
  if (type.kind === 'scalar' && type.protoType === 'string') {
    if (element.byteLength === 0) return '';
    try {
      return utf8.decode(element);
    } catch {
      throw notUtf8(name);
    }
  }
  return Buffer.from(element.buffer, element.byteOffset, element.byteLength);
}

function notUtf8(name: string): ValidationError {
  return new ValidationError(`Input '${name}': not valid UTF-8`, name);
}

function hasContents(contents: TensorContentsMessage): boolean {
  return Object.values(contents).some((list) => Array.isArray(list) && list.length > 0);
}

/**
 * @internal The model's result as OIP outputs (all of them, or those
 * `requested`), data in `raw_output_contents`, since that is all Triton's
 * clients read: numeric tensors as their bytes, BYTES length-prefixed.
 *
 * @throws InferenceError when the result breaks the model's declaration
 */
export function encodeInferOutputs(
  model: ModelDescriptor,
  signature: readonly OipTensorSignature[],
  result: unknown,
  bindings: SymbolBindings,
  requested: readonly string[],
): { outputs: InferOutputMessage[]; raw: Uint8Array[] } {
  const chosen = requested.length === 0 ? signature : requested.map((name) => signature.find((s) => s.name === name)!);
  const outputs: InferOutputMessage[] = [];
  const raw: Uint8Array[] = [];
  // One scope for all outputs: they must agree with the request's sizes and with each other, without adding to the request's.
  const scope: SymbolBindings = new Map(bindings);
  for (const declared of chosen) {
    const value = model.namedOutputs ? namedValue(model, result, declared.name) : result;
    const encoded = encodeOutput(model, declared, value, scope);
    outputs.push({ name: declared.name, datatype: declared.datatype, shape: encoded.shape });
    raw.push(encoded.bytes);
  }
  return { outputs, raw };
}

function namedValue(model: ModelDescriptor, result: unknown, name: string): unknown {
  if (result === null || typeof result !== 'object') {
    throw badResult(model, `returned ${typeof result}; it declares named outputs, so return an object with them`);
  }
  return (result as Record<string, unknown>)[name];
}

function encodeOutput(
  model: ModelDescriptor,
  declared: OipTensorSignature,
  value: unknown,
  bindings: SymbolBindings,
): { shape: number[]; bytes: Uint8Array } {
  const type = declared.field.type;
  if (type.kind === 'tensor') {
    if (!(value instanceof Tensor))
      throw badResult(model, `returned ${describe(value)} for '${declared.name}', which is declared a tensor`);
    const problem = checkTensorSpec(value, type.spec, declared.name, bindings);
    if (problem) throw badResult(model, `returned an output that breaks its declaration: ${problem}`);
    return { shape: [...value.shape], bytes: bytesOf(value) };
  }
  const element = type.kind === 'list' ? type.element : type;
  const items =
    type.kind === 'list'
      ? Array.isArray(value) || ArrayBuffer.isView(value)
        ? Array.from(value as ArrayLike<unknown>)
        : undefined
      : [value];
  if (!items || element.kind !== 'scalar')
    throw badResult(model, `returned ${describe(value)} for '${declared.name}', which is declared a list`);
  const bytes = encodeScalars(element, declared.datatype, items);
  if (!bytes)
    throw badResult(
      model,
      `returned ${describe(value)} for '${declared.name}', which is declared ${element.protoType}`,
    );
  return { shape: [items.length], bytes };
}

/** Scalars as raw OIP bytes, or undefined when one does not fit the declared type. */
function encodeScalars(type: ScalarFieldType, datatype: OipDatatype, items: unknown[]): Uint8Array | undefined {
  if (datatype === 'BYTES') {
    const fits =
      type.protoType === 'string'
        ? items.every((item) => typeof item === 'string')
        : items.every((item) => item instanceof Uint8Array);
    return fits ? encodeRawBytes(items as Array<string | Uint8Array>) : undefined;
  }
  const dtype = OIP_TO_DTYPE[datatype]!;
  const data = new DTYPE_STORAGE[dtype](items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (datatype === 'BOOL') {
      if (typeof item !== 'boolean') return undefined;
      data[i] = item ? 1 : 0;
    } else if (dtype === 'int64' || dtype === 'uint64') {
      if (typeof item !== 'bigint' && !Number.isInteger(item)) return undefined;
      (data as BigInt64Array)[i] = BigInt(item as number | bigint);
    } else {
      if (
        typeof item !== 'number' ||
        ((datatype.startsWith('INT') || datatype.startsWith('UINT')) && !Number.isInteger(item))
      )
        return undefined;
      (data as Float64Array)[i] = item;
    }
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function badResult(model: ModelDescriptor, problem: string): InferenceError {
  return new InferenceError(`Model '${model.name}' (${model.handler}) ${problem}`, model.name);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : `a ${typeof value}`;
}
