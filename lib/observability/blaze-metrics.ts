import type { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * What the server reports as it serves. `BlazeRpcModule` binds this to
 * Prometheus when `metrics` is on, and to a no-op otherwise.
 */
export abstract class BlazeMetrics {
  /** A call ended with `code` after `seconds` (streams: at the end of the stream); `protocol` is `blazerpc` or `oip`. */
  abstract recordCall(method: string, code: GrpcStatus, seconds: number, protocol?: string): void;
  /**
   * The model ran once for `requests` requests, taking `seconds`; `undefined`
   * when its runtime reports the time itself (`recordInferenceDuration`).
   */
  abstract recordExecution(model: string, requests: number, seconds: number | undefined): void;
  /** One execution took `seconds` inside the model runtime (e.g. `session.run()` in an ONNX instance). */
  abstract recordInferenceDuration(model: string, seconds: number): void;
  /** A request waited `seconds` in the model's batch queue. */
  abstract recordQueueWait(model: string, seconds: number): void;
  /** The model's batch queue now holds `depth` requests. */
  abstract setQueueDepth(model: string, depth: number): void;
  /**
   * A streaming call ended having read `messagesIn` request messages and
   * written `messagesOut` responses, the first `firstResponseSeconds` after it began.
   */
  abstract recordStream(
    method: string,
    messagesIn: number,
    messagesOut: number,
    firstResponseSeconds: number | undefined,
  ): void;
}

/** @internal Metrics off. */
export class NoopBlazeMetrics extends BlazeMetrics {
  recordCall(): void {}
  recordExecution(): void {}
  recordInferenceDuration(): void {}
  recordQueueWait(): void {}
  setQueueDepth(): void {}
  recordStream(): void {}
}
