import type { MethodDefinition } from '@grpc/grpc-js';
import { InferenceError } from '../../core/errors/inference.error.js';
import { ValidationError } from '../../core/errors/validation.error.js';
import {
  describeFieldType,
  type FieldType,
  type ScalarFieldType,
  type TensorFieldType,
} from '../../core/schema/field-type.js';
import type { ModelDescriptor, ModelFieldSpec } from '../../core/schema/model-descriptor.interface.js';
import type { RequestDecoder } from '../shared/request-decoder.js';
import { decodeTensorProto, encodeTensorProto, type TensorProtoMessage } from '../shared/tensor-proto.codec.js';
import { checkTensorSpec, type SymbolBindings } from '../../core/tensor/tensor-spec.check.js';
import { Tensor } from '../../core/tensor/tensor.js';
import { TensorRequestReader } from './tensor-request.reader.js';
import { TensorResponseWriter } from './tensor-response.writer.js';

import type { ModelRequest } from '../../pipeline/model-request.js';
import { InputStream } from '../../pipeline/input-stream.js';

/** A decoded request and the sizes its tensors bound to symbolic dimensions (e.g. `batch`). */
export interface DecodedRequest {
  readonly request: ModelRequest;
  readonly bindings: SymbolBindings;
}

/**
 * Turns one model's request bytes into handler arguments and its results into
 * response bytes, checking both against the declaration. Decoding is done
 * here rather than by grpc-js, strictly (see `createRequestDecoder`), so that
 * every malformed message gets INVALID_ARGUMENT; results that break the
 * declaration are never sent.
 */
export class ModelCodec {
  /** Only tensor fields bind symbolic dimensions; other models share one empty, never-written map. */
  private readonly bindsDimensions: boolean;
  /** The one-pass reader of well-formed all-tensor requests, when every input is a tensor. */
  private readonly tensorReader?: TensorRequestReader;
  /** The direct writer of all-tensor responses, when every output is a tensor. */
  private readonly tensorWriter?: TensorResponseWriter;

  constructor(
    private readonly model: ModelDescriptor,
    private readonly method: MethodDefinition<object, object>,
    private readonly decodeRequest: RequestDecoder,
  ) {
    const hasTensor = (type: FieldType) =>
      type.kind === 'tensor' || (type.kind === 'list' && type.element.kind === 'tensor');
    this.bindsDimensions = [...model.inputs, ...model.outputs].some((field) => hasTensor(field.type));
    if (TensorRequestReader.serves(model.inputs)) this.tensorReader = new TensorRequestReader(model.inputs);
    if (TensorResponseWriter.serves(model.outputs)) this.tensorWriter = new TensorResponseWriter(model.outputs);
  }

  decode(bytes: Buffer): DecodedRequest {
    const tensors = this.tensorReader?.read(bytes);
    if (tensors) return this.checked(tensors);
    const message: ModelRequest = this.decodeRequest(bytes);
    const bindings: SymbolBindings = this.bindsDimensions ? new Map() : NO_BINDINGS;
    for (const input of this.model.inputs) {
      message[input.name] = fromWire(input, message[input.name], bindings);
    }
    return { request: message, bindings };
  }

  /** The tensors the reader took from a well-formed request, checked against their declarations as `fromWire` checks them. */
  private checked(tensors: Tensor[]): DecodedRequest {
    const message: ModelRequest = {};
    const bindings: SymbolBindings = new Map();
    const { inputs } = this.model;
    for (let i = 0; i < inputs.length; i++) {
      const { name, type } = inputs[i];
      const problem = checkTensorSpec(tensors[i], (type as TensorFieldType).spec, name, bindings);
      if (problem) throw new ValidationError(`Input ${problem}`, name);
      message[name] = tensors[i];
    }
    return { request: message, bindings };
  }

  /**
   * The values of the model's one streamed input, each message decoded as it
   * is read. A bad message fails the read with INVALID_ARGUMENT naming the
   * field and the message's index (`chunk[3]`); the messages before it were
   * already handed over.
   */
  decodeStream(messages: AsyncIterable<Buffer>): InputStream<unknown> {
    const input = this.model.inputs[0]!;
    const decode = (bytes: Buffer, index: number): unknown => {
      try {
        const message: ModelRequest = this.decodeRequest(bytes);
        return fromWire(input, message[input.name], new Map());
      } catch (error) {
        const field = `${input.name}[${index}]`;
        throw new ValidationError(`${field}: ${(error as Error).message}`, field);
      }
    };
    return new InputStream({
      async *[Symbol.asyncIterator]() {
        let index = 0;
        for await (const bytes of messages) yield decode(bytes, index++);
      },
    });
  }

  encode(result: unknown, bindings: SymbolBindings): Buffer {
    // Each result is checked against the request's sizes without adding its own to them (streams encode many).
    const scope: SymbolBindings = this.bindsDimensions ? new Map(bindings) : NO_BINDINGS;
    const message: Record<string, unknown> = {};
    if (this.model.namedOutputs) {
      if (result === null || typeof result !== 'object') {
        throw this.badResult(
          `returned ${describeValue(result)}; it declares named outputs, so return an object with ${this.outputNames()}`,
        );
      }
      for (const output of this.model.outputs) {
        message[output.name] = this.toWire(output, (result as Record<string, unknown>)[output.name], scope);
      }
    } else {
      message.result = this.toWire(this.model.outputs[0], result, scope);
    }
    return this.tensorWriter?.write(message) ?? this.method.responseSerialize(message);
  }

  private toWire(field: ModelFieldSpec, value: unknown, bindings: SymbolBindings): unknown {
    const problem = { text: '' };
    const converted = toWireValue(field.type, value, field.name, bindings, problem);
    if (converted === INVALID) {
      throw this.badResult(
        problem.text
          ? `returned an output that breaks its declaration: ${problem.text}`
          : `returned ${describeValue(value)} for '${field.name}', which is declared ${describeFieldType(field.type)}`,
      );
    }
    return converted;
  }

  private badResult(problem: string): InferenceError {
    return new InferenceError(`Model '${this.model.name}' (${this.model.handler}) ${problem}`, this.model.name);
  }

  private outputNames(): string {
    return this.model.outputs.map((o) => `'${o.name}'`).join(', ');
  }
}

const INVALID = Symbol('invalid');
const NO_BINDINGS: SymbolBindings = new Map();

function fromWire(input: ModelFieldSpec, value: unknown, bindings: SymbolBindings): unknown {
  const { type, name } = input;
  if (type.kind === 'tensor') return decodeTensor(type, value as TensorProtoMessage, name, bindings);
  if (type.kind === 'list') {
    const items = value as unknown[];
    if (type.element.kind === 'tensor') {
      const element = type.element;
      // Elements of a list may differ in their symbolic sizes (e.g. images of several sizes).
      return items.map((item, i) => decodeTensor(element, item as TensorProtoMessage, `${name}[${i}]`, new Map()));
    }
    return isLong(type.element) ? items.map((item) => BigInt(item as string)) : items;
  }
  return isLong(type) ? BigInt(value as string) : value;
}

function decodeTensor(
  type: TensorFieldType,
  message: TensorProtoMessage,
  field: string,
  bindings: SymbolBindings,
): Tensor {
  const tensor = decodeTensorProto(message, field);
  const problem = checkTensorSpec(tensor, type.spec, field, bindings);
  if (problem) throw new ValidationError(`Input ${problem}`, field);
  return tensor;
}

function toWireValue(
  type: FieldType,
  value: unknown,
  field: string,
  bindings: SymbolBindings,
  problem: { text: string },
): unknown {
  if (type.kind === 'list') {
    if (!Array.isArray(value) && !ArrayBuffer.isView(value)) return INVALID;
    const items = Array.from(value as ArrayLike<unknown>, (item, i) =>
      toWireValue(type.element, item, `${field}[${i}]`, type.element.kind === 'tensor' ? new Map() : bindings, problem),
    );
    return items.includes(INVALID) ? INVALID : items;
  }
  if (type.kind === 'tensor') {
    if (!(value instanceof Tensor)) return INVALID;
    const mismatch = checkTensorSpec(value, type.spec, field, bindings);
    if (mismatch) {
      problem.text = mismatch;
      return INVALID;
    }
    return encodeTensorProto(value);
  }
  return scalarToWire(type, value);
}

function scalarToWire(type: ScalarFieldType, value: unknown): unknown {
  switch (type.protoType) {
    case 'string':
      return typeof value === 'string' ? value : INVALID;
    case 'bool':
      return typeof value === 'boolean' ? value : INVALID;
    case 'double':
    case 'float':
      return typeof value === 'number' ? value : INVALID;
    case 'int32':
    case 'uint32':
      return Number.isInteger(value) ? value : INVALID;
    case 'int64':
    case 'uint64':
      return typeof value === 'bigint' || Number.isInteger(value) ? String(value) : INVALID;
    case 'bytes':
      return value instanceof Uint8Array ? value : INVALID;
  }
}

function isLong(type: FieldType): boolean {
  return type.kind === 'scalar' && (type.protoType === 'int64' || type.protoType === 'uint64');
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : `a ${typeof value}`;
}
