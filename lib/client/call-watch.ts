import { Metadata, status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import type { EventEmitter } from 'node:events';
import { BlazeRpcClientError, type GrpcStatusName } from './blaze-rpc-client.error.js';
import type { CallDetails } from './call-details.interface.js';

/** What `CallWatch.untilEnded` resolves to when the call ended first. */
export const CALL_ENDED = Symbol('call ended');

/**
 * @internal Follows one grpc-js call's 'metadata' and 'status' events: its
 * headers once they arrive and its details once it ends, as promises that
 * never reject (so an unread one cannot become an unhandled rejection), and
 * a synchronous `outcome` for code that must not write to a finished call.
 */
export class CallWatch {
  /** Set once the call has ended. */
  outcome: CallDetails | undefined;
  readonly headers: Promise<Metadata>;
  readonly details: Promise<CallDetails>;
  private received: Metadata | undefined;
  private resolveHeaders!: (metadata: Metadata) => void;
  private resolveDetails!: (details: CallDetails) => void;
  private readonly onEnd = new Set<() => void>();

  constructor() {
    this.headers = new Promise((resolve) => (this.resolveHeaders = resolve));
    this.details = new Promise((resolve) => (this.resolveDetails = resolve));
  }

  /** Starts following `call` (any grpc-js call object). */
  attach(call: EventEmitter): void {
    call.on('metadata', (metadata: Metadata) => {
      this.received = metadata;
      this.resolveHeaders(metadata);
    });
    call.on('status', (status: StatusObject) => this.end(status.code, status.details, status.metadata));
  }

  /** Ends the watch of a call that failed on the client before anything was sent. */
  endBeforeStart(error: unknown): void {
    const failure =
      error instanceof BlazeRpcClientError
        ? error
        : new BlazeRpcClientError(GrpcStatus.INVALID_ARGUMENT, (error as Error)?.message ?? String(error));
    this.end(failure.code, failure.details, failure.metadata ?? new Metadata());
  }

  /** The error a finished call stands for: its status, or FAILED_PRECONDITION for one that ended OK. */
  endedError(): BlazeRpcClientError {
    const { status, trailers } = this.outcome!;
    if (status.code !== GrpcStatus.OK) return new BlazeRpcClientError(status.code, status.details, trailers);
    return new BlazeRpcClientError(
      GrpcStatus.FAILED_PRECONDITION,
      'The call has already ended; nothing more can be sent on it',
    );
  }

  /**
   * Waits for `work` unless the call ends first. A request stream can stall
   * (a source that never yields, a server that never reads): the call's end
   * must still wake the writer. The listener is removed when `work` settles,
   * so a long stream does not pile them up.
   */
  untilEnded<T>(work: Promise<T>): Promise<T | typeof CALL_ENDED> {
    if (this.outcome) return Promise.resolve(CALL_ENDED);
    return new Promise((resolve, reject) => {
      const ended = () => resolve(CALL_ENDED);
      this.onEnd.add(ended);
      work.then(
        (value) => {
          this.onEnd.delete(ended);
          resolve(value);
        },
        (error: unknown) => {
          this.onEnd.delete(ended);
          reject(error);
        },
      );
    });
  }

  private end(code: GrpcStatus, details: string, trailers: Metadata): void {
    if (this.outcome) return;
    // A trailers-only response (e.g. an immediate refusal) has no headers.
    const metadata = this.received ?? new Metadata();
    this.outcome = { metadata, trailers, status: { code, codeName: GrpcStatus[code] as GrpcStatusName, details } };
    this.resolveHeaders(metadata);
    this.resolveDetails(this.outcome);
    for (const ended of this.onEnd) ended();
    this.onEnd.clear();
  }
}
