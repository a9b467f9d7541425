import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * A model failed while running or returned something its declaration does not
 * allow. Answered with `INTERNAL` and a generic message; the details stay in
 * the server log.
 */
export class InferenceError extends BlazeRpcError {
  declare readonly code: GrpcStatus;

  constructor(
    message: string,
    readonly modelName: string,
    options?: { cause?: unknown },
  ) {
    super(message, { ...options, code: GrpcStatus.INTERNAL });
  }
}
