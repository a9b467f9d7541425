import type { status as GrpcStatus } from '@grpc/grpc-js';
import { status as GrpcStatusCodes } from '@grpc/grpc-js';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { OnApplicationShutdown } from '@nestjs/common';
import { BlazeMetrics } from './blaze-metrics.js';
import { ScrapeTimeTallies, type CounterTally, type GaugeTally, type HistogramTally } from './scrape-time-tallies.js';

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

/** Per rpc route: its call counters by status code, and its duration histogram. */
interface RouteSeries {
  readonly byCode: Array<CounterTally | undefined>;
  readonly duration: HistogramTally;
}

/** Per model: what each execution and each queued request records. */
interface ModelSeries {
  readonly inferences: CounterTally;
  readonly executions: CounterTally;
  readonly batchSize: HistogramTally;
  readonly inferenceDuration: HistogramTally;
  readonly queueWait: HistogramTally;
  readonly queueDepth: GaugeTally;
}

/**
 * @internal BlazeMetrics on prom-client. Built by a factory provider rather
 * than injected with `@InjectMetric`, so this file needs nothing from the
 * optional Prometheus peers at load time. Values are kept per series in plain
 * fields and added to the prom-client metrics when those are read (see
 * ScrapeTimeTallies): a call records a few additions, not a label hash each.
 */
export class PrometheusBlazeMetrics extends BlazeMetrics implements OnApplicationShutdown {
  private readonly tallies = new ScrapeTimeTallies();
  /** protocol -> rpc method -> series. */
  private readonly routes = new Map<string, Map<string, RouteSeries>>();
  private readonly perModel = new Map<string, ModelSeries>();
  private readonly streams = new Map<string, { in: CounterTally; out: CounterTally; firstResponse: HistogramTally }>();

  constructor(private readonly metrics: PrometheusMetricSet) {
    super();
  }

  recordCall(method: string, code: GrpcStatus, seconds: number, protocol = 'blazerpc'): void {
    const route = this.route(protocol, method);
    let counter = route.byCode[code];
    if (!counter) {
      counter = this.tallies.counter(this.metrics.requests, { method, status: GrpcStatusCodes[code], protocol });
      route.byCode[code] = counter;
    }
    counter.inc();
    route.duration.observe(seconds);
  }

  recordExecution(model: string, requests: number, seconds: number | undefined): void {
    const of = this.modelSeries(model);
    of.inferences.inc(requests);
    of.executions.inc();
    of.batchSize.observe(requests);
    if (seconds !== undefined) of.inferenceDuration.observe(seconds);
  }

  recordInferenceDuration(model: string, seconds: number): void {
    this.modelSeries(model).inferenceDuration.observe(seconds);
  }

  recordQueueWait(model: string, seconds: number): void {
    this.modelSeries(model).queueWait.observe(seconds);
  }

  setQueueDepth(model: string, depth: number): void {
    this.modelSeries(model).queueDepth.set(depth);
  }

  recordStream(
    method: string,
    messagesIn: number,
    messagesOut: number,
    firstResponseSeconds: number | undefined,
  ): void {
    let of = this.streams.get(method);
    if (!of) {
      const { streamMessages, timeToFirstResponse } = this.metrics;
      of = {
        in: this.tallies.counter(streamMessages, { method, direction: 'in' }),
        out: this.tallies.counter(streamMessages, { method, direction: 'out' }),
        firstResponse: this.tallies.histogram(timeToFirstResponse, { method }),
      };
      this.streams.set(method, of);
    }
    if (messagesIn > 0) of.in.inc(messagesIn);
    if (messagesOut > 0) of.out.inc(messagesOut);
    if (firstResponseSeconds !== undefined) of.firstResponse.observe(firstResponseSeconds);
  }

  /** What is still pending goes to the metrics, which outlive the app in prom-client's global registry. */
  onApplicationShutdown(): void {
    this.tallies.close();
    this.routes.clear();
    this.perModel.clear();
    this.streams.clear();
  }

  private route(protocol: string, method: string): RouteSeries {
    let methods = this.routes.get(protocol);
    if (!methods) {
      methods = new Map();
      this.routes.set(protocol, methods);
    }
    let route = methods.get(method);
    if (!route) {
      route = { byCode: [], duration: this.tallies.histogram(this.metrics.requestDuration, { method, protocol }) };
      methods.set(method, route);
    }
    return route;
  }

  /** The per-model series, made once per model: these are recorded per request and per batch. */
  private modelSeries(model: string): ModelSeries {
    let series = this.perModel.get(model);
    if (!series) {
      const labels = { model };
      series = {
        inferences: this.tallies.counter(this.metrics.inferences, labels),
        executions: this.tallies.counter(this.metrics.executions, labels),
        batchSize: this.tallies.histogram(this.metrics.batchSize, labels),
        inferenceDuration: this.tallies.histogram(this.metrics.inferenceDuration, labels),
        queueWait: this.tallies.histogram(this.metrics.queueWait, labels),
        queueDepth: this.tallies.gauge(this.metrics.queueDepth, labels),
      };
      this.perModel.set(model, series);
    }
    return series;
  }
}
