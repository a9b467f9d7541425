import type { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * A call ended by the server with the status it carries: a refusal (queue
 * full, deadline passed while queued) or the reason a call's `AbortSignal`
 * fired (client cancel, deadline, shutdown). An expected outcome, counted in
 * metrics, never logged. `signal.throwIfAborted()` in a handler throws it.
 * Its message is sent as it is, whatever the code (`INTERNAL` included).
 */
export class CallStatusError extends BlazeRpcError {
  declare readonly code: GrpcStatus;
  /** The status message sent to the client: the error's message. */
  declare readonly details: string;

  constructor(code: GrpcStatus, message: string) {
    super(message, { code, details: message });
  }
}
