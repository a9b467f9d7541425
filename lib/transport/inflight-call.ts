import { status as GrpcStatus, type ServerUnaryCall } from '@grpc/grpc-js';
import { CallStatusError } from '../core/errors/call-status.error.js';
import type { ModelId } from '../core/registry/model-id.js';
import type { TracedCall } from '../observability/call-tracer.js';
import type { ModelCall, ServedCall } from '../protocols/shared/call-route.js';

/** How far ahead of our deadline a client's own deadline may fire (clock reading and transit). */
const DEADLINE_SKEW_MS = 25;

/** Why a call's signal fired: the status it ends with (and the signal's `reason`). */
type StopReason = CallStatusError;

/**
 * @internal One call being served: fires its `AbortSignal` when the client
 * cancels, the deadline passes or the server gives up on it at shutdown.
 * The AbortController is made only if someone asks for the signal: most
 * calls finish without anyone listening.
 */
export class InflightCall implements ServedCall {
  readonly deadline: Date | undefined;
  /** The model version the call turned out to be for, once its route knows (for per-model statistics and traces). */
  model?: ModelId;
  /** The call's OpenTelemetry server span, when traced. */
  trace?: TracedCall;
  /** Request messages read so far (streams only). */
  messagesIn = 0;
  /** Response messages written so far (streams only). */
  messagesOut = 0;
  /** When the first response message was written, in `performance.now()` time (streams only). */
  firstResponseAt?: number;
  private controller?: AbortController;
  private stopped?: StopReason;
  private ended = false;
  private deadlineTimer?: NodeJS.Timeout;
  // NOTE: checked before the reason is made: grpc-js emits 'cancelled' after every call's end, and an Error (its stack) costs µs.
  private readonly onCancelled = () => this.ended || this.abort(this.cancelReason());

  constructor(
    readonly call: ModelCall,
    /** Ends the call with this status (no-op once it has ended). */
    readonly stop: (reason: StopReason) => void,
  ) {
    const deadline = call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    this.deadline = Number.isFinite(at) ? new Date(at) : undefined;
    // NOTE: grpc-js emits 'cancelled' when the stream closes, even after a normal end; abort() ignores it once the call has ended.
    // (Not unhooked in dispose(): the listener goes with the call, and once/off cost about 0.8 µs per call.)
    (call as ServerUnaryCall<Buffer, Buffer>).on('cancelled', this.onCancelled);
    if (this.deadline) {
      // grpc-js ends the call at its deadline, but the handler learns of it only through this signal.
      this.deadlineTimer = setTimeout(
        () => this.abort(new CallStatusError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded')),
        Math.max(0, at - Date.now()),
      );
      this.deadlineTimer.unref();
    }
  }

  /** Fires when the call is cancelled, expires or is given up on. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort(this.stopped);
    }
    return this.controller.signal;
  }

  /** Fires the signal and ends the call with `reason`. */
  abort(reason: StopReason): void {
    if (this.ended) return;
    this.stopped ??= reason;
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(reason);
    this.stop(reason);
  }

  /** The call has ended: nothing may fire any more. */
  dispose(): void {
    this.ended = true;
    clearTimeout(this.deadlineTimer);
  }

  /**
   * NOTE: a client whose deadline passes resets the stream, which reaches us as
   * a cancel a little before our own reading of the deadline; count it as the deadline.
   */
  private cancelReason(): StopReason {
    return this.deadline && Date.now() >= this.deadline.getTime() - DEADLINE_SKEW_MS
      ? new CallStatusError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded')
      : new CallStatusError(GrpcStatus.CANCELLED, 'Cancelled by the client');
  }
}
