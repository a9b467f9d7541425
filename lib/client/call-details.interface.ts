import type { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { GrpcStatusName } from './blaze-rpc-client.error.js';

/** The status a call ended with, as the server (or the client's own deadline or cancel) set it. */
export interface CallStatus {
  /** gRPC status code; `0` (OK) for a call that succeeded. */
  readonly code: GrpcStatus;
  /** The code's name, e.g. `'OK'` or `'DEADLINE_EXCEEDED'`. */
  readonly codeName: GrpcStatusName;
  /** The status message (often empty on success). */
  readonly details: string;
}

/**
 * What a finished call tells beyond its messages: what grpcio offers as
 * `initial_metadata()`, `trailing_metadata()`, `code()` and `details()`.
 */
export interface CallDetails {
  /** Response initial metadata (headers); empty when the server sent none (e.g. it failed at once). */
  readonly metadata: Metadata;
  /** Trailing metadata, sent with the status. */
  readonly trailers: Metadata;
  /** The final status. */
  readonly status: CallStatus;
}

/** A call's result with its details: what `predict()` and `upload()` resolve to with `{ withDetails: true }`. */
export interface CallResult<R> extends CallDetails {
  readonly result: R;
}
