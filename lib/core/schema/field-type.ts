import { TensorSpec } from '../tensor/tensor-spec.js';
import { ScalarType, type ScalarProtoType } from './scalar-type.js';

/** A scalar field on the wire. */
export interface ScalarFieldType {
  readonly kind: 'scalar';
  readonly protoType: ScalarProtoType;
}

/** A `TensorProto` field with its declared dtype and shape. */
export interface TensorFieldType {
  readonly kind: 'tensor';
  readonly spec: TensorSpec;
}

/** A `repeated` field of scalars or tensors. */
export interface ListFieldType {
  readonly kind: 'list';
  readonly element: ScalarFieldType | TensorFieldType;
}

/** The resolved wire type of one request or response field. */
export type FieldType = ScalarFieldType | TensorFieldType | ListFieldType;

/** Why a `TypeRef` could not be resolved; the caller turns it into a message. */
export type TypeResolution = { type: FieldType } | { problem: string };

/** Resolves a declared type token into a wire field type. */
export function resolveTypeRef(ref: unknown): TypeResolution {
  if (Array.isArray(ref)) {
    if (ref.length !== 1) {
      return { problem: 'a list type is written as a one-element array, e.g. [String] or [Float32]' };
    }
    const element = resolveTypeRef(ref[0]);
    if ('problem' in element) {
      return element;
    }
    if (element.type.kind === 'list') {
      return { problem: 'lists of lists have no proto3 form; use Tensor.of(dtype, shape) for nested data' };
    }
    return { type: { kind: 'list', element: element.type } };
  }
  const scalar = scalarOf(ref);
  if (scalar) {
    return { type: { kind: 'scalar', protoType: scalar } };
  }
  if (ref instanceof TensorSpec) {
    return { type: { kind: 'tensor', spec: ref } };
  }
  return { problem: `${describeValue(ref)} is not a type token` };
}

/**
 * Reads a field type from TypeScript's emitted `design:paramtypes` /
 * `design:returntype`, where that is unambiguous (`string`, `boolean`,
 * `number`, `Buffer`). Anything else needs an explicit token.
 */
export function inferFromDesignType(designType: unknown): FieldType | undefined {
  const scalar = designType === Buffer || designType === Uint8Array ? 'bytes' : scalarOf(designType);
  return scalar ? { kind: 'scalar', protoType: scalar } : undefined;
}

/** Readable form of a field type, e.g. `string`, `[float]`, `Tensor<float>[batch, 4]`. */
export function describeFieldType(type: FieldType): string {
  switch (type.kind) {
    case 'scalar':
      return type.protoType;
    case 'tensor':
      return type.spec.toString();
    case 'list':
      return `[${describeFieldType(type.element)}]`;
  }
}

function scalarOf(ref: unknown): ScalarProtoType | undefined {
  if (ref === String) return 'string';
  if (ref === Boolean) return 'bool';
  if (ref === Number) return 'double';
  if (ref instanceof ScalarType) return ref.protoType;
  return undefined;
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return value.name || 'an anonymous function';
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? String(value);
}
