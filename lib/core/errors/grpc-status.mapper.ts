import { BlazeRpcError } from './blaze-rpc.error.js';
import { boundStatusDetails } from './client-text.js';
import { foreignErrorStatus, UNEXPECTED_STATUS, type ErrorStatus } from './error-status.js';

export { INTERNAL_MESSAGE, type ErrorStatus } from './error-status.js';

/**
 * Maps whatever a call threw to the status the client gets: a library error
 * by its `code` and `details` (`INTERNAL` with a generic message when it has
 * no `details` to send), Nest `HttpException`s by HTTP status,
 * `RpcException({ code, message })` and a plain `{ code, message }` object
 * (what filters written for Nest's gRPC transport emit) as given, anything
 * else `INTERNAL` with a generic message.
 */
export function toCallStatus(error: unknown): ErrorStatus {
  const status = mapError(error);
  return { ...status, details: boundStatusDetails(status.details) };
}

function mapError(error: unknown): ErrorStatus {
  if (error instanceof BlazeRpcError && error.code !== undefined) {
    // A refusal (validation, unknown model, queue full, ...) goes out as it is; a failure
    // (INTERNAL without details) or a status received from another server is logged, never sent.
    if (!error.answersCall || error.details === undefined) return UNEXPECTED_STATUS;
    return { code: error.code, details: error.details, unexpected: false };
  }
  return foreignErrorStatus(error);
}
