import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * A value could not be encoded or decoded for the wire, e.g. a `Tensor` whose
 * data does not fit its shape. Raised on the server by handler or pipe code,
 * it is answered `INTERNAL` with a generic message and logged; in
 * `BlazeClient`, it is the caller's input.
 */
export class SerializationError extends BlazeRpcError {
  declare readonly code: GrpcStatus;

  constructor(
    message: string,
    /** The tensor dtype involved, when a tensor was being converted. */
    readonly dtype?: string,
  ) {
    super(message, { code: GrpcStatus.INTERNAL });
  }
}
