import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * A model failed while running or returned something its declaration does not
 * allow. Answered with `INTERNAL`; the details stay in the server log.
 */
export class InferenceError extends BlazeRpcError {
  constructor(
    message: string,
    readonly modelName: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
