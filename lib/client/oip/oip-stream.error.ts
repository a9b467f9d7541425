import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcClientError } from '../blaze-rpc-client.error.js';

/**
 * One response of a `ModelStreamInfer` stream that failed, while the stream
 * goes on: the server's `error_message` (code `UNKNOWN`, since the protocol
 * carries no status for it), or a response the client could not read
 * (`INTERNAL`). Yielded in place of that response, never thrown.
 *
 * @example
 * ```ts
 * for await (const response of stream) {
 *   if (response instanceof OipStreamError) console.warn(response.requestId, response.details);
 *   else use(response.outputs);
 * }
 * ```
 */
export class OipStreamError extends BlazeRpcClientError {
  constructor(
    details: string,
    /** The id of the request it answers, when the server sent one with the error. */
    readonly requestId: string | undefined,
    code: GrpcStatus = GrpcStatus.UNKNOWN,
    options?: { cause?: unknown },
  ) {
    super(code, details, undefined, options);
  }
}
