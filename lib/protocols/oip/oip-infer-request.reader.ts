import type { RequestLimits } from '../../core/options/request-limits.interface.js';
import { ValidationError } from '../../core/errors/validation.error.js';
import { MAX_REQUEST_DIMS } from '../../core/tensor/tensor-spec.check.js';
import { overLimit } from '../shared/request-caps.js';
import { VarintCursor } from '../shared/varint.js';
import type { FieldCap } from '../shared/wire-format.validator.js';
import type { OipContentsField } from '../shared/oip-datatype.js';

/** The bounds of `limits` a `ModelInferRequest` is held to. */
export type InferRequestLimits = Pick<
  Readonly<Required<RequestLimits>>,
  'maxInputs' | 'maxOutputs' | 'maxParameters' | 'maxParameterBytes' | 'maxBytesElements'
>;

/** `ModelInferRequest` tags, all length-delimited: `model_name = 1`, `model_version = 2`, `id = 3`, `inputs = 5`, `outputs = 6`, `raw_input_contents = 7`. */
const MODEL_NAME_TAG = 0x0a;
const MODEL_VERSION_TAG = 0x12;
const ID_TAG = 0x1a;
const INPUTS_TAG = 0x2a;
const OUTPUTS_TAG = 0x32;
const RAW_INPUT_TAG = 0x3a;
/** `InferInputTensor` and `InferRequestedOutputTensor` tags: `name = 1`, `datatype = 2`, `repeated int64 shape = 3` (packed). */
const NAME_TAG = 0x0a;
const DATATYPE_TAG = 0x12;
const SHAPE_TAG = 0x1a;

/** Larger shape entries (and negative ones, ten bytes long) are left to the full decoder. */
const MAX_DIM_VARINT_BYTES = 7;

/**
 * @internal Reads a `ModelInferRequest` in one pass, for the common,
 * well-formed case only: model name, version and id each sent at most once
 * and ASCII; inputs with an ASCII name and datatype, each at most once, and a
 * shape packed once (entries non-negative, of at most seven varint bytes);
 * requested outputs with an ASCII name at most once; raw input contents. It
 * gives up (`undefined`) on anything else: parameters (of the request, an
 * input or an output), typed `contents`, an unpacked shape, an unknown field,
 * another wire type, a length past its end, a non-ASCII byte in a string. The
 * caller then runs the full strict decoder, which accepts or refuses those
 * bytes and words the error. So for any bytes this reader accepts, its object
 * is the one the full decoder makes: every field present (defaults
 * included), shape entries as decimal strings, raw contents as Buffers over
 * the received bytes.
 */
export class InferRequestReader extends VarintCursor {
  /**
   * @param limits past `maxInputs` inputs or raw contents, `maxOutputs`
   *   outputs, or `MAX_REQUEST_DIMS` dimensions, it gives up too, so that it
   *   never reads more of a request than is accepted; the strict decoder
   *   then refuses it (see `oipRequestCaps`)
   */
  constructor(private readonly limits: Pick<InferRequestLimits, 'maxInputs' | 'maxOutputs'>) {
    super();
  }

  read(bytes: Buffer): Record<string, unknown> | undefined {
    const { maxInputs, maxOutputs } = this.limits;
    const end = bytes.length;
    let model_name: string | undefined;
    let model_version: string | undefined;
    let id: string | undefined;
    const inputs: Record<string, unknown>[] = [];
    const outputs: Record<string, unknown>[] = [];
    const raw: Buffer[] = [];
    this.pos = 0;
    while (this.pos < end) {
      const tag = bytes[this.pos++];
      const length = this.varint(bytes, end, 5);
      const start = this.pos;
      const next = start + length;
      if (length < 0 || next > end) return undefined;
      if (tag === RAW_INPUT_TAG) {
        if (raw.length === maxInputs) return undefined;
        raw.push(bytes.subarray(start, start + length));
      } else if (tag === INPUTS_TAG) {
        if (inputs.length === maxInputs) return undefined;
        const input = this.input(bytes, start, next);
        if (!input) return undefined;
        inputs.push(input);
      } else if (tag === OUTPUTS_TAG) {
        if (outputs.length === maxOutputs) return undefined;
        const name = this.output(bytes, start, next);
        if (name === undefined) return undefined;
        outputs.push({ name, parameters: {} });
      } else if (tag === MODEL_NAME_TAG && model_name === undefined) {
        model_name = ascii(bytes, start, length);
        if (model_name === undefined) return undefined;
      } else if (tag === MODEL_VERSION_TAG && model_version === undefined) {
        model_version = ascii(bytes, start, length);
        if (model_version === undefined) return undefined;
      } else if (tag === ID_TAG && id === undefined) {
        id = ascii(bytes, start, length);
        if (id === undefined) return undefined;
      } else {
        return undefined;
      }
      this.pos = next;
    }
    return {
      model_name: model_name ?? '',
      model_version: model_version ?? '',
      id: id ?? '',
      parameters: {},
      inputs,
      outputs,
      raw_input_contents: raw,
    };
  }

  /** One `InferInputTensor` from `start` to `stop`: name, datatype and a packed shape, each at most once. */
  private input(bytes: Buffer, start: number, stop: number): Record<string, unknown> | undefined {
    let name: string | undefined;
    let datatype: string | undefined;
    let shape: string[] | undefined;
    this.pos = start;
    while (this.pos < stop) {
      const tag = bytes[this.pos++];
      const length = this.varint(bytes, stop, 5);
      const at = this.pos;
      if (length < 0 || at + length > stop) return undefined;
      if (tag === SHAPE_TAG && shape === undefined) {
        shape = this.dims(bytes, at + length);
        if (!shape) return undefined;
        continue;
      }
      this.pos = at + length;
      if (tag === NAME_TAG && name === undefined) {
        name = ascii(bytes, at, length);
        if (name === undefined) return undefined;
      } else if (tag === DATATYPE_TAG && datatype === undefined) {
        datatype = ascii(bytes, at, length);
        if (datatype === undefined) return undefined;
      } else {
        return undefined;
      }
    }
    return { name: name ?? '', datatype: datatype ?? '', shape: shape ?? [], parameters: {}, contents: null };
  }

  /** One `InferRequestedOutputTensor`'s name (its only field here), or `undefined`. */
  private output(bytes: Buffer, start: number, stop: number): string | undefined {
    if (start === stop) return '';
    if (bytes[start] !== NAME_TAG) return undefined;
    this.pos = start + 1;
    const length = this.varint(bytes, stop, 5);
    if (length < 0 || this.pos + length !== stop) return undefined;
    return ascii(bytes, this.pos, length);
  }

  /** A packed shape's entries up to `stop`, as the decimal strings the full decoder gives, or `undefined`. */
  private dims(bytes: Buffer, stop: number): string[] | undefined {
    const shape: string[] = [];
    while (this.pos < stop) {
      const dim = this.varint(bytes, stop, MAX_DIM_VARINT_BYTES);
      if (dim < 0 || shape.length === MAX_REQUEST_DIMS) return undefined;
      shape.push(String(dim));
    }
    return shape;
  }
}

/** The bytes as a string when all are ASCII (so valid UTF-8, read alike either way), or `undefined`. */
function ascii(bytes: Buffer, start: number, length: number): string | undefined {
  for (let i = start; i < start + length; i++) if (bytes[i] >= 0x80) return undefined;
  return bytes.toString('latin1', start, start + length);
}

/** Full names of the OIP messages whose fields the caps count. */
const INFER_REQUEST = 'inference.ModelInferRequest';
const INFER_INPUT = 'inference.ModelInferRequest.InferInputTensor';
const TENSOR_CONTENTS = 'inference.InferTensorContents';
const PARAMETER_TYPES = new Set(['inference.InferParameter', 'inference.ModelRepositoryParameter']);

/**
 * @internal The caps `limits` put on OIP requests, as the strict decoder
 * counts them while it walks a request's bytes, before anything is decoded:
 * inputs and raw contents entries (`maxInputs`), requested outputs
 * (`maxOutputs`), parameters of the request, its inputs and outputs (or of a
 * repository call) in all (`maxParameters`) and the bytes of their keys and
 * string values (`maxParameterBytes`), `bytes_contents` elements
 * (`maxBytesElements`), and dimensions per input shape (`MAX_REQUEST_DIMS`).
 */
export function oipRequestCaps(limits: InferRequestLimits): FieldCap[] {
  const { maxInputs, maxOutputs, maxParameters, maxParameterBytes, maxBytesElements } = limits;
  return [
    {
      counts: (field) => field.message === INFER_REQUEST && field.name === 'inputs',
      max: maxInputs,
      refuse: () => overLimit(`request has more than ${maxInputs} inputs`, maxInputs, 'maxInputs'),
    },
    {
      counts: (field) => field.message === INFER_REQUEST && field.name === 'raw_input_contents',
      max: maxInputs,
      refuse: () => overLimit(`request has more than ${maxInputs} raw_input_contents entries`, maxInputs, 'maxInputs'),
    },
    {
      counts: (field) => field.message === INFER_REQUEST && field.name === 'outputs',
      max: maxOutputs,
      refuse: () => overLimit(`request asks for more than ${maxOutputs} outputs`, maxOutputs, 'maxOutputs'),
    },
    {
      // Every map of an OIP request is a parameters map.
      counts: (field) => field.map,
      max: maxParameters,
      refuse: () => overLimit(`request has more than ${maxParameters} parameters`, maxParameters, 'maxParameters'),
    },
    {
      counts: (field) =>
        field.mapKey ||
        (PARAMETER_TYPES.has(field.message) && (field.name === 'string_param' || field.name === 'bytes_param')),
      measure: 'bytes',
      max: maxParameterBytes,
      refuse: () =>
        overLimit(
          `request parameters hold more than ${maxParameterBytes} bytes of keys and string values`,
          maxParameterBytes,
          'maxParameterBytes',
        ),
    },
    {
      counts: (field) => field.message === TENSOR_CONTENTS && field.name === 'bytes_contents',
      max: maxBytesElements,
      refuse: () =>
        overLimit(`request has more than ${maxBytesElements} BYTES elements`, maxBytesElements, 'maxBytesElements'),
    },
    {
      counts: (field) => field.message === INFER_INPUT && field.name === 'shape',
      per: 'message',
      max: MAX_REQUEST_DIMS,
      refuse: () =>
        new ValidationError(
          `an input's shape has more than ${MAX_REQUEST_DIMS} dimensions; at most ${MAX_REQUEST_DIMS} are accepted`,
        ),
    },
  ];
}

/** One input of a request, as `outlineInferRequest` reads it. */
export interface InferInputOutline {
  readonly name: string;
  readonly datatype: string;
  /** Shape entries as the decoder gives them: decimal strings of int64 values. */
  readonly shape: readonly string[];
  /** Elements in each non-empty `contents` list, over every `contents` sent. */
  readonly contents: ReadonlyMap<OipContentsField, number>;
  /** Counting stopped once the lists held more elements than the shape has: the counts are lower bounds. */
  readonly more: boolean;
}

/** What a check before decoding needs of a `ModelInferRequest`. */
export interface InferRequestOutline {
  readonly modelName: string;
  readonly modelVersion: string;
  /** Entries of `raw_input_contents`. */
  readonly rawCount: number;
  readonly inputs: readonly InferInputOutline[];
}

/** `InferTensorContents` lists by field number, and the element size of each packed fixed-size one (0 for varints). */
const CONTENTS_LISTS: readonly (OipContentsField | undefined)[] = [
  undefined,
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];
const PACKED_ELEMENT_SIZE = [0, 0, 0, 0, 0, 0, 4, 8];
const BYTES_CONTENTS = 8;
const VARINT_WIRE = 0;
const FIXED64_WIRE = 1;
const LENGTH_DELIMITED_WIRE = 2;
const START_GROUP_WIRE = 3;
const END_GROUP_WIRE = 4;
const FIXED32_WIRE = 5;

/**
 * @internal Reads, without decoding anything, what a `ModelInferRequest`
 * names (model, version), how many raw contents it has, and per input its
 * name, datatype, shape and how many elements each typed `contents` list
 * holds: enough to refuse a request whose typed contents cannot fit its
 * shape before protobufjs makes an object per element. Elements are counted
 * only until they outnumber the shape's, so a list of millions for a shape
 * of one costs a few steps. Meant for bytes the strict wire check has
 * passed (bounded counts, matched groups); it gives up (`undefined`) if they
 * are not.
 */
export function outlineInferRequest(bytes: Uint8Array): InferRequestOutline | undefined {
  return new InferRequestOutliner(bytes).request();
}

class InferRequestOutliner extends VarintCursor {
  private readonly text: Buffer;

  constructor(private readonly bytes: Uint8Array) {
    super();
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  request(): InferRequestOutline | undefined {
    const { bytes } = this;
    const end = bytes.length;
    let name: [number, number] = [0, 0];
    let version: [number, number] = [0, 0];
    let rawCount = 0;
    const inputs: Array<[number, number]> = [];
    this.pos = 0;
    while (this.pos < end) {
      const field = this.field(end);
      if (field === undefined) return undefined;
      if (field.range === undefined) continue;
      const { id, range } = field;
      if (id === 1) name = range;
      else if (id === 2) version = range;
      else if (id === 5) inputs.push(range);
      else if (id === 7) rawCount++;
    }
    const outlines: InferInputOutline[] = [];
    for (const [start, stop] of inputs) {
      const input = this.input(start, stop);
      if (!input) return undefined;
      outlines.push(input);
    }
    return { modelName: this.string(name), modelVersion: this.string(version), rawCount, inputs: outlines };
  }

  /** One `InferInputTensor`: name, datatype and shape first, then its contents counted up to the shape's element count. */
  private input(start: number, stop: number): InferInputOutline | undefined {
    let name: [number, number] = [0, 0];
    let datatype: [number, number] = [0, 0];
    const shape: string[] = [];
    let elements = 1;
    const contents: Array<[number, number]> = [];
    this.pos = start;
    while (this.pos < stop) {
      const at = this.pos;
      const field = this.field(stop);
      if (field === undefined) return undefined;
      const { id, range } = field;
      if (id === 1 && range) name = range;
      else if (id === 2 && range) datatype = range;
      else if (id === 5 && range) contents.push(range);
      else if (id === 3 && (range !== undefined || field.wire === VARINT_WIRE)) {
        // Packed (a range of varints) or one unpacked entry: either way, from the varints' own bytes.
        const [from, to] = range ?? [this.varintStart(at), this.pos];
        for (let pos = from; pos < to;) {
          const next = this.varintEnd(pos, to);
          const dim = int64Text(this.bytes, pos, next);
          shape.push(dim);
          const size = Number(dim);
          elements = Number.isSafeInteger(size) && size >= 0 ? elements * size : 0;
          pos = next;
        }
      }
    }
    // Past the shape's count the input is refused whatever the rest holds, so counting stops there.
    const limit = elements;
    const counts = new Map<OipContentsField, number>();
    let total = 0;
    let more = false;
    const add = (id: number, amount: number) => {
      // An empty packed list holds nothing: as the full decoder reads it, the input has no values there.
      if (amount === 0) return;
      const list = CONTENTS_LISTS[id]!;
      counts.set(list, (counts.get(list) ?? 0) + amount);
      total += amount;
      more = total > limit;
    };
    for (const [from, to] of contents) {
      this.pos = from;
      while (this.pos < to && !more) {
        const field = this.field(to);
        if (field === undefined) return undefined;
        const { id, wire, range } = field;
        if (id < 1 || id > BYTES_CONTENTS) continue;
        if (wire !== LENGTH_DELIMITED_WIRE) add(id, 1);
        else if (id === BYTES_CONTENTS) add(id, 1);
        else if (PACKED_ELEMENT_SIZE[id]) add(id, (range![1] - range![0]) / PACKED_ELEMENT_SIZE[id]!);
        else add(id, this.countVarints(range![0], range![1], limit - total + 1));
      }
      if (more) break;
    }
    return { name: this.string(name), datatype: this.string(datatype), shape, contents: counts, more };
  }

  /**
   * The next field up to `end`: its number, wire type and, when
   * length-delimited, its value's range; the position moves past it. Groups
   * are skipped whole. `undefined` when the bytes are not well-formed.
   */
  private field(end: number): { id: number; wire: number; range?: [number, number] } | undefined {
    const tag = this.varint(this.bytes, end, 5);
    if (tag < 0) return undefined;
    const id = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === LENGTH_DELIMITED_WIRE) {
      const length = this.varint(this.bytes, end, 5);
      const start = this.pos;
      if (length < 0 || start + length > end) return undefined;
      this.pos = start + length;
      return { id, wire, range: [start, start + length] };
    }
    return this.skip(wire, end) ? { id, wire } : undefined;
  }

  private skip(wire: number, end: number): boolean {
    if (wire === VARINT_WIRE) return this.varint(this.bytes, end, 10) >= 0;
    if (wire === FIXED64_WIRE || wire === FIXED32_WIRE) {
      this.pos += wire === FIXED64_WIRE ? 8 : 4;
      return this.pos <= end;
    }
    if (wire !== START_GROUP_WIRE) return false;
    // A group's fields up to its end (nested groups included): the wire check has matched them.
    for (let depth = 1; depth > 0;) {
      if (this.pos >= end) return false;
      const tag = this.varint(this.bytes, end, 5);
      if (tag < 0) return false;
      const inner = tag % 8;
      if (inner === START_GROUP_WIRE) depth++;
      else if (inner === END_GROUP_WIRE) depth--;
      else if (inner === LENGTH_DELIMITED_WIRE) {
        const length = this.varint(this.bytes, end, 5);
        if (length < 0 || this.pos + length > end) return false;
        this.pos += length;
      } else if (!this.skip(inner, end)) return false;
    }
    return true;
  }

  /** Varints from `from` to `to`, counted until there are `atMost`. */
  private countVarints(from: number, to: number, atMost: number): number {
    let count = 0;
    for (let pos = from; pos < to && count < atMost; pos++) if (this.bytes[pos]! < 0x80) count++;
    return count;
  }

  /** Where the varint just read (its tag at `at`) starts: right after the tag. */
  private varintStart(at: number): number {
    let pos = at;
    while (this.bytes[pos]! >= 0x80) pos++;
    return pos + 1;
  }

  /** The end of the varint at `pos` (at most `to`). */
  private varintEnd(pos: number, to: number): number {
    while (pos < to && this.bytes[pos]! >= 0x80) pos++;
    return Math.min(pos + 1, to);
  }

  private string([start, stop]: [number, number]): string {
    return this.text.toString('utf8', start, stop);
  }
}

/** An int64 varint's value as a decimal string, as the decoder gives it (negative values are ten bytes long). */
function int64Text(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 7) {
    // Up to 49 bits: exact as a number, and the common case.
    let small = 0;
    for (let pos = end - 1; pos >= start; pos--) small = small * 128 + (bytes[pos]! & 0x7f);
    return String(small);
  }
  let value = 0n;
  for (let pos = end - 1; pos >= start; pos--) value = (value << 7n) | BigInt(bytes[pos]! & 0x7f);
  return BigInt.asIntN(64, value).toString();
}
