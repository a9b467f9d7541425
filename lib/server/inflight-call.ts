import { status as GrpcStatus, type ServerUnaryCall, type ServerWritableStream, type StatusObject } from '@grpc/grpc-js';

/** A model call as grpc-js hands it over: the raw request bytes, and the call's metadata, peer and deadline. */
export type ModelCall = ServerUnaryCall<Buffer, Buffer> | ServerWritableStream<Buffer, Buffer>;

/** How far ahead of our deadline a client's own deadline may fire (clock reading and transit). */
const DEADLINE_SKEW_MS = 25;

/** Why a call's signal fired, as a status its handler answers with if it is still running. */
type StopReason = Pick<StatusObject, 'code' | 'details'>;

/**
 * @internal One call being served: fires its `AbortSignal` when the client
 * cancels, the deadline passes or the server gives up on it at shutdown.
 */
export class InflightCall {
  readonly controller = new AbortController();
  readonly deadline: Date | undefined;
  private deadlineTimer?: NodeJS.Timeout;

  constructor(
    readonly call: ModelCall,
    /** Ends the call with this status (no-op once it has ended). */
    readonly stop: (reason: StopReason) => void,
  ) {
    const deadline = call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    this.deadline = Number.isFinite(at) ? new Date(at) : undefined;
    call.once('cancelled', () => this.abort(this.cancelReason(at)));
    if (this.deadline) {
      // NOTE: grpc-js ends the call at its deadline, but the handler learns of it only through this signal.
      this.deadlineTimer = setTimeout(
        () => this.abort({ code: GrpcStatus.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }),
        Math.max(0, at - Date.now()),
      );
      this.deadlineTimer.unref();
    }
  }

  /**
   * NOTE: a client whose deadline passes resets the stream, which reaches us as
   * a cancel a little before our own reading of the deadline; count it as the deadline.
   */
  private cancelReason(deadlineAt: number): StopReason {
    return Date.now() >= deadlineAt - DEADLINE_SKEW_MS
      ? { code: GrpcStatus.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }
      : { code: GrpcStatus.CANCELLED, details: 'Cancelled by the client' };
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Fires the signal and ends the call with `reason`. */
  abort(reason: StopReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.stop(reason);
  }

  dispose(): void {
    clearTimeout(this.deadlineTimer);
  }
}
