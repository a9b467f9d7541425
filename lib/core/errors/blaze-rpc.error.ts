import type { status as GrpcStatus } from '@grpc/grpc-js';
import { IntrinsicException } from '@nestjs/common';

/**
 * Base class of every error nestjs-blazerpc raises. Catch it to handle any
 * library failure; the subclasses say which part failed. `code` is the gRPC
 * status it answers a call with, when it is a refusal with one; `cause` is
 * logged on the server, never sent.
 *
 * NOTE: it extends Nest's `IntrinsicException`, which Nest's own exception
 * filter does not log: the server decides what is worth a log line (an
 * unexpected failure, once) and what is an expected refusal (none).
 */
export class BlazeRpcError extends IntrinsicException {
  readonly code?: GrpcStatus;

  constructor(message: string, options?: { cause?: unknown; code?: GrpcStatus }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.code !== undefined) this.code = options.code;
  }
}
