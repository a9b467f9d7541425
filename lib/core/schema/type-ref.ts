import { TensorSpec } from '../tensor/tensor-spec.js';
import { ScalarType } from './scalar-type.js';

/**
 * What `@Input(name, type)` and `@Model({ returns })` accept: `String`,
 * `Boolean`, `Number`, a scalar token (`Float32`, `Int64`, `Bytes`, ...),
 * `Tensor.of(dtype, shape)`, or a one-element array for a list (`[String]`).
 */
export type TypeRef =
  StringConstructor | BooleanConstructor | NumberConstructor | ScalarType<unknown> | TensorSpec | readonly [TypeRef];

/** Named outputs: one response field per entry, e.g. `{ label: String, score: Float32 }`. */
export type NamedTypeRefs = Readonly<Record<string, TypeRef>>;

/** Tells a `TypeRef` from a plain object of named outputs. */
export function isTypeRef(value: unknown): value is TypeRef {
  return (
    value === String ||
    value === Boolean ||
    value === Number ||
    value instanceof ScalarType ||
    value instanceof TensorSpec ||
    Array.isArray(value)
  );
}
