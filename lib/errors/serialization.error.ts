import { BlazeRpcError } from './blaze-rpc.error.js';

/** A value could not be encoded or decoded for the wire. Answered with `INVALID_ARGUMENT`. */
export class SerializationError extends BlazeRpcError {
  constructor(
    message: string,
    /** The tensor dtype involved, when a tensor was being converted. */
    readonly dtype?: string,
  ) {
    super(message);
  }
}
