import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcError } from './blaze-rpc.error.js';

/** No model is registered under this name (and version). Answered with `NOT_FOUND`. */
export class ModelNotFoundError extends BlazeRpcError {
  declare readonly code: GrpcStatus;
  declare readonly details: string;

  constructor(
    readonly modelName: string,
    readonly version?: string,
  ) {
    const message =
      version === undefined
        ? `Model '${modelName}' is not registered`
        : `Model '${modelName}' version '${version}' is not registered`;
    super(message, { code: GrpcStatus.NOT_FOUND, details: message });
  }
}
