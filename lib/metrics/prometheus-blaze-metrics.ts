import type { status as GrpcStatus } from '@grpc/grpc-js';
import { status as GrpcStatusCodes } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { BlazeMetrics } from './blaze-metrics.js';
import { METRIC } from './metric-names.js';

/** @internal BlazeMetrics on prom-client, through @willsoto/nestjs-prometheus providers. */
@Injectable()
export class PrometheusBlazeMetrics extends BlazeMetrics {
  constructor(
    @InjectMetric(METRIC.requestsTotal) private readonly requests: Counter<'method' | 'status' | 'protocol'>,
    @InjectMetric(METRIC.requestDuration) private readonly requestDuration: Histogram<'method' | 'protocol'>,
    @InjectMetric(METRIC.inferenceCount) private readonly inferences: Counter<'model'>,
    @InjectMetric(METRIC.inferenceExecCount) private readonly executions: Counter<'model'>,
    @InjectMetric(METRIC.batchSize) private readonly batchSize: Histogram<'model'>,
    @InjectMetric(METRIC.queueWait) private readonly queueWait: Histogram<'model'>,
    @InjectMetric(METRIC.queueDepth) private readonly queueDepth: Gauge<'model'>,
    @InjectMetric(METRIC.inferenceDuration) private readonly inferenceDuration: Histogram<'model'>,
    @InjectMetric(METRIC.streamMessages) private readonly streamMessages: Counter<'method' | 'direction'>,
    @InjectMetric(METRIC.timeToFirstResponse) private readonly timeToFirstResponse: Histogram<'method'>,
  ) {
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
      counter = this.requests.labels(method, GrpcStatusCodes[code], protocol);
      this.callCounters.set(key, counter);
    }
    counter.inc();
    const timerKey = `${protocol} ${method}`;
    let timer = this.callTimers.get(timerKey);
    if (!timer) {
      timer = this.requestDuration.labels(method, protocol);
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
    if (messagesIn > 0) this.streamMessages.labels(method, 'in').inc(messagesIn);
    if (messagesOut > 0) this.streamMessages.labels(method, 'out').inc(messagesOut);
    if (firstResponseSeconds !== undefined) this.timeToFirstResponse.labels(method).observe(firstResponseSeconds);
  }

  /** The per-model children, made once per model: these are recorded per request and per batch. */
  private modelMetrics(model: string) {
    let children = this.perModel.get(model);
    if (!children) {
      children = {
        inferences: this.inferences.labels(model),
        executions: this.executions.labels(model),
        batchSize: this.batchSize.labels(model),
        inferenceDuration: this.inferenceDuration.labels(model),
        queueWait: this.queueWait.labels(model),
        queueDepth: this.queueDepth.labels(model),
      };
      this.perModel.set(model, children);
    }
    return children;
  }
}
