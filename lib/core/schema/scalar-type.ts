/** Proto3 scalar types a model field can have. */
export type ScalarProtoType =
  'string' | 'bool' | 'double' | 'float' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'bytes';

/**
 * A type token for a scalar field whose proto type cannot be read from the
 * TypeScript signature (every JS number is a `double` unless told otherwise).
 * `T` is the value the handler receives.
 */
export class ScalarType<T = unknown> {
  /** @internal Carries `T` for the compiler only. */
  declare readonly valueType?: T;

  constructor(
    /** Token name, used in error messages. */
    readonly name: string,
    /** The proto3 type on the wire. */
    readonly protoType: ScalarProtoType,
  ) {}

  toString(): string {
    return this.name;
  }
}

/** 32-bit float field (`float`); the handler gets a `number`. */
export const Float32 = new ScalarType<number>('Float32', 'float');
/** 64-bit float field (`double`); the same as `Number`. */
export const Float64 = new ScalarType<number>('Float64', 'double');
/** Signed 32-bit integer field (`int32`); the handler gets a `number`. */
export const Int32 = new ScalarType<number>('Int32', 'int32');
/** Signed 64-bit integer field (`int64`); the handler gets a `bigint`. */
export const Int64 = new ScalarType<bigint>('Int64', 'int64');
/** Unsigned 32-bit integer field (`uint32`); the handler gets a `number`. */
export const UInt32 = new ScalarType<number>('UInt32', 'uint32');
/** Unsigned 64-bit integer field (`uint64`); the handler gets a `bigint`. */
export const UInt64 = new ScalarType<bigint>('UInt64', 'uint64');
/** Raw bytes field (`bytes`); the handler gets a `Buffer`. */
export const Bytes = new ScalarType<Buffer>('Bytes', 'bytes');
