import type { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeMetrics } from './blaze-metrics.js';

/** @internal Reports to several sinks at once (Prometheus and OpenTelemetry). */
export class FanOutMetrics extends BlazeMetrics {
  constructor(private readonly sinks: readonly BlazeMetrics[]) {
    super();
  }

  recordCall(method: string, code: GrpcStatus, seconds: number, protocol?: string): void {
    for (const sink of this.sinks) sink.recordCall(method, code, seconds, protocol);
  }

  recordExecution(model: string, requests: number, seconds: number | undefined): void {
    for (const sink of this.sinks) sink.recordExecution(model, requests, seconds);
  }

  recordInferenceDuration(model: string, seconds: number): void {
    for (const sink of this.sinks) sink.recordInferenceDuration(model, seconds);
  }

  recordQueueWait(model: string, seconds: number): void {
    for (const sink of this.sinks) sink.recordQueueWait(model, seconds);
  }

  setQueueDepth(model: string, depth: number): void {
    for (const sink of this.sinks) sink.setQueueDepth(model, depth);
  }

  recordStream(
    method: string,
    messagesIn: number,
    messagesOut: number,
    firstResponseSeconds: number | undefined,
  ): void {
    for (const sink of this.sinks) sink.recordStream(method, messagesIn, messagesOut, firstResponseSeconds);
  }
}
