import type { OipDatatype } from '../../protocols/shared/oip-datatype.js';
import type { Tensor } from '../../core/tensor/tensor.js';

/**
 * An `InferParameter` value. Integers (numbers without a fraction, and
 * bigints) travel as `int64_param` (`uint64_param` above the int64 range),
 * other numbers as `double_param`.
 */
export type OipParameterValue = boolean | number | bigint | string;

/** Request or response parameters by name. Received 64-bit integers are numbers when safe, bigints beyond 2^53. */
export type OipParameters = Record<string, OipParameterValue>;

/**
 * One input spelled out with its OIP datatype.
 *
 * - `data` holds the elements in row-major order: a typed array of the
 *   datatype's storage (`Float32Array` for FP32, `BigInt64Array` for INT64, ...)
 *   or plain numbers, bigints (or integer strings) for 64-bit types, booleans for BOOL.
 * - BYTES takes strings (sent as UTF-8) or byte arrays.
 * - FP16 takes raw IEEE half bit patterns (`Uint16Array`), as `float16` tensors do.
 * - BF16 takes raw bfloat16 bit patterns (`Uint16Array`), or float32 values
 *   (`Float32Array`, numbers), rounded to the nearest bfloat16.
 */
export interface OipTensorInput {
  datatype: OipDatatype;
  /** @default [number of elements] */
  shape?: readonly number[];
  data: ArrayLike<number | bigint | boolean | string> | readonly (string | Uint8Array)[];
}

/**
 * A model input: a `Tensor` (its OIP datatype follows from its dtype),
 * text or binary elements as BYTES (a single string is shape `[1]`, an array
 * shape `[n]`), or `{ datatype, shape, data }` for anything else (BF16, BYTES
 * with another shape).
 */
export type OipInput = Tensor | string | readonly string[] | readonly Uint8Array[] | OipTensorInput;

/** Inputs of an inference request by name. */
export type OipInputs = Record<string, OipInput>;

/**
 * A received output:
 * - numeric datatypes as a `Tensor` whose data views the received bytes when
 *   they are aligned for the dtype (a copy otherwise, made on first read);
 *   FP16 as a `float16` tensor of raw bit patterns; BF16 widened (exactly) to a
 *   `float` tensor, since there is no bfloat16 typed array.
 * - BYTES as `string[]` (UTF-8, the default) or, with `bytesAs: 'buffer'`,
 *   `Buffer[]` viewing the received bytes (lossless, for binary payloads).
 *   The element order is row-major; the shape is in `outputInfo`.
 */
export type OipOutput = Tensor | string[] | Buffer[];

/** How the server described an output. */
export interface OipOutputInfo {
  /** The OIP datatype the server sent, e.g. `'BF16'` for an output returned as a float tensor. */
  datatype: string;
  shape: number[];
  parameters: OipParameters;
}

/** The answer of `ModelInfer` (or one response of `ModelStreamInfer`). */
export interface OipInferResult {
  modelName: string;
  modelVersion: string;
  /** The request id the server echoed (empty when the request had none). */
  id: string;
  parameters: OipParameters;
  /** Outputs by name, in the order the server sent them. */
  outputs: Record<string, OipOutput>;
  /** Datatype, shape and parameters of each output, by name. */
  outputInfo: Record<string, OipOutputInfo>;
}
