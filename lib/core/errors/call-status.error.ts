import type { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * A call ended by the server with the status it carries: a refusal (queue
 * full, deadline passed while queued) or the reason a call's `AbortSignal`
 * fired (client cancel, deadline, shutdown). An expected outcome, counted in
 * metrics, never logged. `signal.throwIfAborted()` in a handler throws it.
 */
export class CallStatusError extends BlazeRpcError {
  declare readonly code: GrpcStatus;

  constructor(code: GrpcStatus, message: string) {
    super(message, { code });
  }

  /** The status message sent to the client. */
  get details(): string {
    return this.message;
  }
}
