import { StreamType } from './stream-type.js';
import { isTypeRef, type TypeRef } from './type-ref.js';

/** What `@Input(name, type)` accepts: a `TypeRef`, or `Stream(TypeRef)` for an input the client streams. */
export type InputTypeRef = TypeRef | StreamType;

/** Tells an `@Input` type (a `TypeRef` or `Stream(...)`) from a pipe. */
export function isInputTypeRef(value: unknown): value is InputTypeRef {
  return value instanceof StreamType || isTypeRef(value);
}
