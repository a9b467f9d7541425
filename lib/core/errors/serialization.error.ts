import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * A value could not be encoded or decoded for the wire, e.g. a `Tensor` whose
 * data does not fit its shape. Raised on the server by handler or pipe code,
 * it is answered `INTERNAL` and logged; in `BlazeClient`, it is the caller's input.
 */
export class SerializationError extends BlazeRpcError {
  constructor(
    message: string,
    /** The tensor dtype involved, when a tensor was being converted. */
    readonly dtype?: string,
  ) {
    super(message);
  }
}
