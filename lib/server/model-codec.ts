import { status as GrpcStatus, type MethodDefinition } from '@grpc/grpc-js';
import { InferenceError } from '../errors/inference.error.js';
import { ValidationError } from '../errors/validation.error.js';
import { describeFieldType, type FieldType } from '../schema/field-type.js';
import type { ModelDescriptor, ModelFieldSpec } from '../schema/model-descriptor.interface.js';
import { CallStatusError } from '../status/grpc-status.mapper.js';

/** Decoded request fields, keyed by input name. */
export type ModelRequest = Record<string, unknown>;

/**
 * Turns one model's request bytes into handler arguments and its results into
 * response bytes, checking both against the declaration. Decoding is done
 * here rather than by grpc-js so that malformed bytes get INVALID_ARGUMENT,
 * not the library's INTERNAL.
 */
export class ModelCodec {
  constructor(
    private readonly model: ModelDescriptor,
    private readonly method: MethodDefinition<object, object>,
  ) {}

  decode(bytes: Buffer): ModelRequest {
    let message: ModelRequest;
    try {
      message = this.method.requestDeserialize(bytes) as ModelRequest;
    } catch (error) {
      throw new ValidationError(`Malformed ${this.model.requestType} message: ${(error as Error).message}`);
    }
    for (const input of this.model.inputs) {
      message[input.name] = fromWire(input, message[input.name]);
    }
    return message;
  }

  encode(result: unknown): Buffer {
    const message: Record<string, unknown> = {};
    if (this.model.namedOutputs) {
      if (result === null || typeof result !== 'object') {
        throw this.badResult(`returned ${describeValue(result)}; it declares named outputs, so return an object with ${this.outputNames()}`);
      }
      for (const output of this.model.outputs) {
        message[output.name] = this.toWire(output, (result as Record<string, unknown>)[output.name]);
      }
    } else {
      message.result = this.toWire(this.model.outputs[0], result);
    }
    return this.method.responseSerialize(message);
  }

  private toWire(field: ModelFieldSpec, value: unknown): unknown {
    const converted = toWireValue(field.type, value);
    if (converted === INVALID) {
      throw this.badResult(`returned ${describeValue(value)} for '${field.name}', which is declared ${describeFieldType(field.type)}`);
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

function fromWire(input: ModelFieldSpec, value: unknown): unknown {
  const { type } = input;
  if (type.kind === 'tensor' || (type.kind === 'list' && type.element.kind === 'tensor')) {
    throw new CallStatusError(GrpcStatus.UNIMPLEMENTED, `Input '${input.name}': tensor inputs are not served by this version`);
  }
  if (type.kind === 'list') {
    return isLong(type.element) ? (value as string[]).map(BigInt) : value;
  }
  return isLong(type) ? BigInt(value as string) : value;
}

function toWireValue(type: FieldType, value: unknown): unknown {
  if (type.kind === 'list') {
    if (!Array.isArray(value) && !ArrayBuffer.isView(value)) return INVALID;
    const items = Array.from(value as ArrayLike<unknown>, (item) => toWireValue(type.element, item));
    return items.includes(INVALID) ? INVALID : items;
  }
  if (type.kind === 'tensor') return INVALID;
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
