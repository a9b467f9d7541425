import { VarintCursor } from '../../wire/varint.js';

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
  read(bytes: Buffer): Record<string, unknown> | undefined {
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
        raw.push(bytes.subarray(start, start + length));
      } else if (tag === INPUTS_TAG) {
        const input = this.input(bytes, start, next);
        if (!input) return undefined;
        inputs.push(input);
      } else if (tag === OUTPUTS_TAG) {
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
      if (dim < 0) return undefined;
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
