import { status as GrpcStatus } from '@grpc/grpc-js';
import { decodeRawBytes } from '../../protocols/shared/oip-bytes.codec.js';
import {
  isOipDatatype,
  OIP_CONTENTS_FIELD,
  OIP_ITEM_SIZE,
  OIP_TO_DTYPE,
  type OipDatatype,
} from '../../protocols/shared/oip-datatype.js';
import { DTYPE_STORAGE } from '../../core/tensor/tensor-dtype.js';
import { elementCount, Tensor, tensorOverBytes } from '../../core/tensor/tensor.js';
import { BlazeRpcClientError } from '../blaze-rpc-client.error.js';
import { bf16BytesToFloat32 } from './bfloat16.js';
import type { OipBytesAs } from './oip-client-options.interface.js';
import type { InferTensorMessage, ModelInferResponseMessage } from './oip-messages.js';
import { decodeParameters } from './oip-parameters.js';
import type { OipInferResult, OipOutput, OipOutputInfo } from './oip-tensors.interface.js';

/**
 * @internal A `ModelInferResponse` as a result. Outputs are read from
 * `raw_output_contents` (matched by position, as the spec says) and, for
 * servers that answer in typed `contents` instead (some KServe runtimes),
 * from those.
 * @throws BlazeRpcClientError INTERNAL when an output does not match its datatype and shape
 */
export function decodeInferResponse(message: ModelInferResponseMessage, bytesAs: OipBytesAs): OipInferResult {
  const outputs: Record<string, OipOutput> = {};
  const outputInfo: Record<string, OipOutputInfo> = {};
  const raw = message.raw_output_contents ?? [];
  (message.outputs ?? []).forEach((output, index) => {
    const shape = output.shape.map(Number);
    if (!shape.every((dim) => Number.isInteger(dim) && dim >= 0))
      throw malformed(output.name, `its shape [${shape.join(', ')}] is not a tensor shape`);
    outputs[output.name] = decodeOutput(output, shape, index < raw.length ? raw[index] : undefined, bytesAs);
    outputInfo[output.name] = { datatype: output.datatype, shape, parameters: decodeParameters(output.parameters) };
  });
  return {
    modelName: message.model_name,
    modelVersion: message.model_version,
    id: message.id,
    parameters: decodeParameters(message.parameters),
    outputs,
    outputInfo,
  };
}

function decodeOutput(
  output: InferTensorMessage,
  shape: number[],
  raw: Uint8Array | undefined,
  bytesAs: OipBytesAs,
): OipOutput {
  const { name, datatype } = output;
  if (!isOipDatatype(datatype)) throw malformed(name, `'${datatype}' is not an OIP datatype`);
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    const elements = raw ? decodeRawBytes(raw, count) : (output.contents?.bytes_contents ?? []);
    if (typeof elements === 'string') throw malformed(name, `its raw BYTES ${elements}`);
    if (elements.length !== count)
      throw malformed(name, `shape [${shape.join(', ')}] has ${count} elements, bytes_contents has ${elements.length}`);
    // Views over the received message: no copy for 'buffer', one decode for 'string'.
    const buffers = elements.map((element) => Buffer.from(element.buffer, element.byteOffset, element.byteLength));
    return bytesAs === 'buffer' ? buffers : buffers.map((buffer) => buffer.toString('utf8'));
  }
  if (!raw) return fromContents(output, datatype, shape, count);
  const expected = count * OIP_ITEM_SIZE[datatype];
  if (raw.byteLength !== expected)
    throw malformed(name, `${count} ${datatype} elements take ${expected} bytes, the server sent ${raw.byteLength}`);
  if (datatype === 'BF16') return new Tensor('float', shape, bf16BytesToFloat32(raw));
  return tensorOverBytes(OIP_TO_DTYPE[datatype]!, shape, raw);
}

function fromContents(
  output: InferTensorMessage,
  datatype: Exclude<OipDatatype, 'BYTES'>,
  shape: number[],
  count: number,
): Tensor {
  const field = OIP_CONTENTS_FIELD[datatype];
  if (!field) {
    if (count === 0)
      return new Tensor(
        datatype === 'BF16' ? 'float' : 'float16',
        shape,
        datatype === 'BF16' ? new Float32Array(0) : new Uint16Array(0),
      );
    throw malformed(
      output.name,
      `${datatype} has no typed contents, and the server sent no raw_output_contents for it`,
    );
  }
  const values = (output.contents?.[field] ?? []) as ArrayLike<number | string | boolean>;
  if (values.length !== count)
    throw malformed(
      output.name,
      `shape [${shape.join(', ')}] has ${count} elements, contents.${field} has ${values.length}`,
    );
  const dtype = OIP_TO_DTYPE[datatype]!;
  const big = dtype === 'int64' || dtype === 'uint64';
  const data = new DTYPE_STORAGE[dtype](count) as unknown as { [index: number]: number | bigint };
  for (let i = 0; i < count; i++) data[i] = big ? BigInt(values[i]) : Number(values[i]);
  return new Tensor(dtype, shape, data as never);
}

function malformed(output: string, reason: string): BlazeRpcClientError {
  return new BlazeRpcClientError(GrpcStatus.INTERNAL, `Output '${output}' of the response cannot be read: ${reason}`);
}
