import type { status as GrpcStatus } from '@grpc/grpc-js';
import type { Counter, Histogram } from '@opentelemetry/api';
import { status as GrpcStatusCodes } from '@grpc/grpc-js';
import { BlazeMetrics } from './blaze-metrics.js';
import { PACKAGE_NAME, packageVersion } from '../core/package-version.js';
import { otel } from './otel-api.js';

/**
 * @internal The server's metrics as OpenTelemetry instruments, through
 * `@opentelemetry/api`, for apps that export metrics with the OTel SDK
 * (beside, or instead of, Prometheus through @willsoto/nestjs-prometheus):
 * `rpc.server.call.duration` (semconv 1.45), and `blazerpc.batch.size`,
 * `blazerpc.queue.wait`, `blazerpc.inference.duration`,
 * `blazerpc.stream.messages`.
 */
export class OtelBlazeMetrics extends BlazeMetrics {
  private readonly callDuration: Histogram;
  private readonly batchSize: Histogram;
  private readonly queueWait: Histogram;
  private readonly inferenceDuration: Histogram;
  private readonly streamMessages: Counter;

  constructor() {
    super();
    const meter = otel!.metrics.getMeter(PACKAGE_NAME, packageVersion());
    this.callDuration = meter.createHistogram('rpc.server.call.duration', {
      unit: 's',
      description: 'Duration of model calls, server side',
    });
    this.batchSize = meter.createHistogram('blazerpc.batch.size', {
      unit: '{request}',
      description: 'Requests per model execution',
    });
    this.queueWait = meter.createHistogram('blazerpc.queue.wait', {
      unit: 's',
      description: 'Time requests waited in the batch queue',
    });
    this.inferenceDuration = meter.createHistogram('blazerpc.inference.duration', {
      unit: 's',
      description: 'Time of one model execution',
    });
    this.streamMessages = meter.createCounter('blazerpc.stream.messages', {
      unit: '{message}',
      description: 'Messages of streaming calls',
    });
  }

  recordCall(method: string, code: GrpcStatus, seconds: number, protocol = 'blazerpc'): void {
    this.callDuration.record(seconds, {
      'rpc.system.name': 'grpc',
      'rpc.method': method,
      'rpc.status_code': GrpcStatusCodes[code],
      'blazerpc.protocol': protocol,
    });
  }

  recordExecution(model: string, requests: number, seconds: number | undefined): void {
    this.batchSize.record(requests, { 'blazerpc.model': model });
    if (seconds !== undefined) this.inferenceDuration.record(seconds, { 'blazerpc.model': model });
  }

  recordInferenceDuration(model: string, seconds: number): void {
    this.inferenceDuration.record(seconds, { 'blazerpc.model': model });
  }

  recordQueueWait(model: string, seconds: number): void {
    this.queueWait.record(seconds, { 'blazerpc.model': model });
  }

  setQueueDepth(): void {
    // A gauge needs a callback per model; the Prometheus gauge covers queue depth.
  }

  recordStream(method: string, messagesIn: number, messagesOut: number): void {
    if (messagesIn > 0) this.streamMessages.add(messagesIn, { 'rpc.method': method, 'blazerpc.direction': 'in' });
    if (messagesOut > 0) this.streamMessages.add(messagesOut, { 'rpc.method': method, 'blazerpc.direction': 'out' });
  }
}

/**
 * @internal OTel metrics when the app registered an OpenTelemetry meter
 * provider before Nest built the module, else `undefined` (and nothing is
 * recorded: no cost).
 */
export function createOtelMetrics(): OtelBlazeMetrics | undefined {
  if (!otel) return undefined;
  const provider = otel.metrics.getMeterProvider() as { constructor?: { name?: string } };
  return provider.constructor?.name === 'NoopMeterProvider' ? undefined : new OtelBlazeMetrics();
}
