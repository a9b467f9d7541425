import type { InferOutputMessage } from './oip-infer.codec.js';
import { packedDimsSize, varintSize, writeBytesField, writePackedDims, writeVarint } from '../shared/varint.js';

/** `ModelInferResponse` tags: `model_name = 1`, `model_version = 2`, `id = 3`, `outputs = 5`, `raw_output_contents = 6` (all length-delimited). */
const MODEL_NAME_TAG = 0x0a;
const MODEL_VERSION_TAG = 0x12;
const ID_TAG = 0x1a;
const OUTPUTS_TAG = 0x2a;
const RAW_OUTPUT_TAG = 0x32;
/** `InferOutputTensor` tags: `name = 1`, `datatype = 2`, `repeated int64 shape = 3` (packed). */
const NAME_TAG = 0x0a;
const DATATYPE_TAG = 0x12;
const SHAPE_TAG = 0x1a;

/** What the writer puts in a `ModelInferResponse`: no parameters, outputs' data all in `raw_output_contents`. */
export interface InferResponseParts {
  readonly model_name: string;
  readonly model_version: string;
  readonly id: string;
  readonly outputs: readonly InferOutputMessage[];
  readonly raw_output_contents: readonly Uint8Array[];
}

/**
 * @internal Writes a `ModelInferResponse` straight into one buffer: the bytes
 * proto-loader's serializer (protobufjs `fromObject` then `encode`) writes for
 * the same object, field by field in field-number order: the three strings
 * always (empty ones too, as they are set), each output's name and datatype
 * always and its packed shape when not empty, every raw entry (empty ones
 * too). It gives up (`undefined`) on a string holding a surrogate (protobufjs
 * writes lone ones its own way) and on a shape entry that is not a
 * non-negative safe integer; the caller then serializes as before.
 */
export function writeInferResponse(response: InferResponseParts): Buffer | undefined {
  const { model_name, model_version, id, outputs, raw_output_contents: raw } = response;
  const nameLength = utf8Length(model_name);
  const versionLength = utf8Length(model_version);
  const idLength = utf8Length(id);
  if (nameLength < 0 || versionLength < 0 || idLength < 0) return undefined;
  let size = fieldSize(nameLength) + fieldSize(versionLength) + fieldSize(idLength);
  const outputSizes: number[] = [];
  for (let o = 0; o < outputs.length; o++) {
    const inner = outputSize(outputs[o]);
    if (inner < 0) return undefined;
    outputSizes.push(inner);
    size += fieldSize(inner);
  }
  for (let r = 0; r < raw.length; r++) size += fieldSize(raw[r].byteLength);

  const out = Buffer.allocUnsafe(size);
  let pos = writeString(out, 0, MODEL_NAME_TAG, model_name, nameLength);
  pos = writeString(out, pos, MODEL_VERSION_TAG, model_version, versionLength);
  pos = writeString(out, pos, ID_TAG, id, idLength);
  for (let o = 0; o < outputs.length; o++) {
    const { name, datatype, shape } = outputs[o];
    out[pos++] = OUTPUTS_TAG;
    pos = writeVarint(out, pos, outputSizes[o]);
    pos = writeString(out, pos, NAME_TAG, name, utf8Length(name));
    pos = writeString(out, pos, DATATYPE_TAG, datatype, datatype.length);
    pos = writePackedDims(out, pos, SHAPE_TAG, shape);
  }
  for (let r = 0; r < raw.length; r++) pos = writeBytesField(out, pos, RAW_OUTPUT_TAG, raw[r]);
  return out;
}

/** One `InferOutputTensor`'s encoded size, or -1 when the writer leaves it to protobufjs. */
function outputSize({ name, datatype, shape }: InferOutputMessage): number {
  const nameLength = utf8Length(name);
  if (nameLength < 0) return -1;
  // NOTE: datatype is one of the OIP names (ASCII), so its length in characters is its length in bytes.
  let size = fieldSize(nameLength) + fieldSize(datatype.length);
  if (shape.length > 0) {
    const packed = packedDimsSize(shape);
    if (packed < 0) return -1;
    size += fieldSize(packed);
  }
  return size;
}

/** A tag byte, a length and that many bytes. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** A string's UTF-8 length, or -1 when it holds a surrogate (paired or not). */
function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code >= 0xd800 && code <= 0xdfff) return -1;
    length += code < 0x800 ? 1 : 2;
  }
  return length;
}

function writeString(out: Buffer, pos: number, tag: number, text: string, length: number): number {
  out[pos++] = tag;
  pos = writeVarint(out, pos, length);
  return pos + (length === text.length ? out.write(text, pos, 'latin1') : out.write(text, pos, 'utf8'));
}
