import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcClientError } from '../blaze-rpc-client.error.js';
import type { InferParameterMessage, ParameterMapMessage } from './oip-messages.js';
import type { OipParameters, OipParameterValue } from './oip-tensors.interface.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** @internal Parameters as `InferParameter` messages. */
export function encodeParameters(parameters: OipParameters | undefined, where: string): ParameterMapMessage {
  const out: ParameterMapMessage = {};
  for (const [name, value] of Object.entries(parameters ?? {}))
    out[name] = encodeParameter(value, `${where} parameter '${name}'`);
  return out;
}

/** @internal Received `InferParameter`s as plain values (unset ones are left out). */
export function decodeParameters(parameters: ParameterMapMessage | null | undefined): OipParameters {
  const out: OipParameters = {};
  for (const [name, parameter] of Object.entries(parameters ?? {})) {
    const value = decodeParameter(parameter);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function encodeParameter(value: OipParameterValue, what: string): InferParameterMessage {
  switch (typeof value) {
    case 'boolean':
      return { bool_param: value };
    case 'string':
      return { string_param: value };
    case 'number':
      // Servers read counts, ids and priorities from int64_param: integral numbers go there, not into double_param.
      return Number.isSafeInteger(value) ? { int64_param: String(value) } : { double_param: value };
    case 'bigint':
      if (value >= INT64_MIN && value <= INT64_MAX) return { int64_param: value.toString() };
      if (value > INT64_MAX && value <= UINT64_MAX) return { uint64_param: value.toString() };
      throw new BlazeRpcClientError(GrpcStatus.INVALID_ARGUMENT, `The ${what} is ${value}, outside the 64-bit range`);
    default:
      throw new BlazeRpcClientError(
        GrpcStatus.INVALID_ARGUMENT,
        `The ${what} is a ${typeof value}; parameters are booleans, numbers, bigints or strings`,
      );
  }
}

function decodeParameter(parameter: InferParameterMessage): OipParameterValue | undefined {
  // Only the oneof member the sender set is present on the decoded message.
  if (parameter.bool_param !== undefined) return parameter.bool_param;
  if (parameter.string_param !== undefined) return parameter.string_param;
  if (parameter.double_param !== undefined) return parameter.double_param;
  const integer = parameter.int64_param ?? parameter.uint64_param;
  if (integer === undefined) return undefined;
  const big = BigInt(integer);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}
