import type { status as GrpcStatus, Metadata } from '@grpc/grpc-js';
import { IntrinsicException } from '@nestjs/common';
import { boundStatusDetails } from './client-text.js';
import { foreignErrorStatus } from './error-status.js';

/** What a `BlazeRpcError` carries besides its message. */
interface BlazeRpcErrorOptions {
  /** The gRPC status of the failure. */
  readonly code?: GrpcStatus;
  /** Metadata that goes with the status (the client's errors: the trailers the server sent). */
  readonly metadata?: Metadata | Readonly<Record<string, string>>;
  /**
   * The status message that goes with `code`. On the server, an error with a
   * `code` but no `details` is a failure: the client gets `INTERNAL` with a
   * generic message and the error is logged.
   */
  readonly details?: string;
  /** What led to it; logged on the server, never sent. */
  readonly cause?: unknown;
}

/**
 * Base class of every error nestjs-blazerpc raises. Catch it to handle any
 * library failure; the subclasses say which part failed. `code` is the gRPC
 * status of the failure, when it has one, and `details` the status message a
 * server answers a call with (a refusal: invalid input, unknown model, queue
 * full); without `details` the client gets `INTERNAL` and a generic message.
 * `cause` is logged on the server, never sent.
 *
 * NOTE: it extends Nest's `IntrinsicException`, which Nest's own exception
 * filter does not log: the server decides what is worth a log line (an
 * unexpected failure, once) and what is an expected refusal (none).
 */
export class BlazeRpcError extends IntrinsicException {
  readonly code?: GrpcStatus;
  readonly details?: string;
  readonly metadata?: Metadata | Readonly<Record<string, string>>;

  constructor(message: string, options?: BlazeRpcErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.code !== undefined) this.code = options.code;
    if (options?.details !== undefined) this.details = options.details;
    if (options?.metadata !== undefined) this.metadata = options.metadata;
  }

  /**
   * @internal Whether a server that catches this error answers the call with
   * its `code` and `details`. False for a status received from another server.
   */
  get answersCall(): boolean {
    return true;
  }

  /**
   * The error as a `BlazeRpcError`: itself when it is one, else wrapped with
   * the status a server would answer it with (the same mapping as a call's
   * failure: `HttpException`s by HTTP status, `RpcException`s and
   * `{ code, message }` objects as given, anything else `INTERNAL` with a
   * generic message and no `details`) and the original as `cause`.
   */
  static from(error: unknown): BlazeRpcError {
    if (error instanceof BlazeRpcError) return error;
    const status = foreignErrorStatus(error);
    const details = boundStatusDetails(status.details);
    return new BlazeRpcError(details, {
      code: status.code,
      details: status.unexpected ? undefined : details,
      cause: error,
    });
  }
}
