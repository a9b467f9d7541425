import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * A request input failed validation. Answered with `INVALID_ARGUMENT`; the
 * message names the field.
 */
export class ValidationError extends BlazeRpcError {
  constructor(
    message: string,
    /** The request field that failed, when one is to blame. */
    readonly field?: string,
  ) {
    super(message);
  }
}
