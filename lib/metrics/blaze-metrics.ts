import type { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * What the server reports as it serves. `BlazeRpcModule` binds this to
 * Prometheus when `metrics` is on, and to a no-op otherwise.
 */
export abstract class BlazeMetrics {
  /** A call ended with `code` after `seconds` (streams: at the end of the stream). */
  abstract recordCall(method: string, code: GrpcStatus, seconds: number): void;
  /** The model ran once for `requests` requests, taking `seconds`. */
  abstract recordExecution(model: string, requests: number, seconds: number): void;
  /** A request waited `seconds` in the model's batch queue. */
  abstract recordQueueWait(model: string, seconds: number): void;
  /** The model's batch queue now holds `depth` requests. */
  abstract setQueueDepth(model: string, depth: number): void;
}

/** @internal Metrics off. */
export class NoopBlazeMetrics extends BlazeMetrics {
  recordCall(): void {}
  recordExecution(): void {}
  recordQueueWait(): void {}
  setQueueDepth(): void {}
}
