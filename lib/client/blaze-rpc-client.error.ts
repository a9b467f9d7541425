import { status as GrpcStatus, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { BlazeRpcError } from '../core/errors/blaze-rpc.error.js';
import { CallStatusError } from '../core/errors/call-status.error.js';

/** A gRPC status name, e.g. `'INVALID_ARGUMENT'`. */
export type GrpcStatusName = keyof typeof GrpcStatus;

/**
 * A call that ended with a non-OK status, or a client-side failure (unknown
 * model, discovery failed). `code` is the gRPC code, `codeName` its name.
 *
 * @example
 * ```ts
 * try { await client.predict('iris', { features }); }
 * catch (e) { if (e instanceof BlazeRpcClientError && e.codeName === 'INVALID_ARGUMENT') ... }
 * ```
 */
export class BlazeRpcClientError extends BlazeRpcError {
  declare readonly code: GrpcStatus;
  /** The server's status message. */
  declare readonly details: string;
  /** Trailing metadata the server sent with the status. */
  declare readonly metadata?: Metadata;

  constructor(code: GrpcStatus, details: string, metadata?: Metadata, options?: { cause?: unknown }) {
    super(`${GrpcStatus[code]}: ${details}`, { cause: options?.cause, code, details, metadata });
  }

  /**
   * @internal A status received from another server: a server whose handler
   * lets one escape answers `INTERNAL` and logs it, it does not pass it on.
   */
  override get answersCall(): boolean {
    return false;
  }

  /** The status code's name, e.g. `'DEADLINE_EXCEEDED'`. */
  get codeName(): GrpcStatusName {
    return GrpcStatus[this.code] as GrpcStatusName;
  }

  /** @internal Wraps a grpc-js error. */
  static override from(error: unknown): BlazeRpcClientError {
    if (error instanceof BlazeRpcClientError) return error;
    const serviceError = error as Partial<ServiceError>;
    // The library's own errors carry a code too; only a call's status (grpc-js, or how the call ended) is one here.
    const isStatus = !(error instanceof BlazeRpcError) || error instanceof CallStatusError;
    if (isStatus && typeof serviceError?.code === 'number') {
      return new BlazeRpcClientError(
        serviceError.code,
        serviceError.details ?? serviceError.message ?? '',
        serviceError.metadata,
        { cause: error },
      );
    }
    return new BlazeRpcClientError(GrpcStatus.UNKNOWN, (error as Error)?.message ?? String(error), undefined, {
      cause: error,
    });
  }
}
