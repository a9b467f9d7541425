import type { status as GrpcStatus } from '@grpc/grpc-js';
import { status as GrpcStatusCodes } from '@grpc/grpc-js';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { BlazeMetrics } from './blaze-metrics.js';

/** @internal The prom-client metrics PrometheusBlazeMetrics records to, as @willsoto/nestjs-prometheus provides them. */
export interface PrometheusMetricSet {
  readonly requests: Counter<'method' | 'status' | 'protocol'>;
  readonly requestDuration: Histogram<'method' | 'protocol'>;
  readonly inferences: Counter<'model'>;
  readonly executions: Counter<'model'>;
  readonly batchSize: Histogram<'model'>;
  readonly queueWait: Histogram<'model'>;
  readonly queueDepth: Gauge<'model'>;
  readonly inferenceDuration: Histogram<'model'>;
  readonly streamMessages: Counter<'method' | 'direction'>;
  readonly timeToFirstResponse: Histogram<'method'>;
}

/**
 * @internal BlazeMetrics on prom-client. Built by a factory provider rather
 * than injected with `@InjectMetric`, so this file needs nothing from the
 * optional Prometheus peers at load time.
 */
export class PrometheusBlazeMetrics extends BlazeMetrics {
  constructor(private readonly metrics: PrometheusMetricSet) {
    super();
  }

  // Labelled children are looked up once per label set: prom-client hashes labels on every call otherwise.
  private readonly callCounters = new Map<string, ReturnType<Counter<'method' | 'status' | 'protocol'>['labels']>>();
  private readonly callTimers = new Map<string, ReturnType<Histogram<'method' | 'protocol'>['labels']>>();
  private readonly perModel = new Map<
    string,
    {
      inferences: ReturnType<Counter<'model'>['labels']>;
      executions: ReturnType<Counter<'model'>['labels']>;
      batchSize: ReturnType<Histogram<'model'>['labels']>;
      inferenceDuration: ReturnType<Histogram<'model'>['labels']>;
      queueWait: ReturnType<Histogram<'model'>['labels']>;
      queueDepth: ReturnType<Gauge<'model'>['labels']>;
    }
  >();

  recordCall(method: string, code: GrpcStatus, seconds: number, protocol = 'blazerpc'): void {
    const key = `${protocol} ${method} ${code}`;
    let counter = this.callCounters.get(key);
    if (!counter) {
      counter = this.metrics.requests.labels(method, GrpcStatusCodes[code], protocol);
      this.callCounters.set(key, counter);
    }
    counter.inc();
    const timerKey = `${protocol} ${method}`;
    let timer = this.callTimers.get(timerKey);
    if (!timer) {
      timer = this.metrics.requestDuration.labels(method, protocol);
      this.callTimers.set(timerKey, timer);
    }
    timer.observe(seconds);
  }

  recordExecution(model: string, requests: number, seconds: number | undefined): void {
    const of = this.modelMetrics(model);
    of.inferences.inc(requests);
    of.executions.inc();
    of.batchSize.observe(requests);
    if (seconds !== undefined) of.inferenceDuration.observe(seconds);
  }

  recordInferenceDuration(model: string, seconds: number): void {
    this.modelMetrics(model).inferenceDuration.observe(seconds);
  }

  recordQueueWait(model: string, seconds: number): void {
    this.modelMetrics(model).queueWait.observe(seconds);
  }

  setQueueDepth(model: string, depth: number): void {
    this.modelMetrics(model).queueDepth.set(depth);
  }

  // Streams end far less often than unary calls; looking the children up each time is fine.
  recordStream(method: string, messagesIn: number, messagesOut: number, firstResponseSeconds: number | undefined): void {
    if (messagesIn > 0) this.metrics.streamMessages.labels(method, 'in').inc(messagesIn);
    if (messagesOut > 0) this.metrics.streamMessages.labels(method, 'out').inc(messagesOut);
    if (firstResponseSeconds !== undefined) this.metrics.timeToFirstResponse.labels(method).observe(firstResponseSeconds);
  }

  /** The per-model children, made once per model: these are recorded per request and per batch. */
  private modelMetrics(model: string) {
    let children = this.perModel.get(model);
    if (!children) {
      children = {
        inferences: this.metrics.inferences.labels(model),
        executions: this.metrics.executions.labels(model),
        batchSize: this.metrics.batchSize.labels(model),
        inferenceDuration: this.metrics.inferenceDuration.labels(model),
        queueWait: this.metrics.queueWait.labels(model),
        queueDepth: this.metrics.queueDepth.labels(model),
      };
      this.perModel.set(model, children);
    }
    return children;
  }
}
