import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * A request input failed validation. Answered with `INVALID_ARGUMENT`; the
 * message names the field.
 */
export class ValidationError extends BlazeRpcError {
  declare readonly code: GrpcStatus;
  declare readonly details: string;

  constructor(
    message: string,
    /** The request field that failed, when one is to blame. */
    readonly field?: string,
  ) {
    super(message, { code: GrpcStatus.INVALID_ARGUMENT, details: message });
  }
}
