import { Controller, type DynamicModule, type Provider } from '@nestjs/common';
import { ConfigurationError } from '../core/errors/configuration.error.js';
import { MetricsEndpoint } from './metrics-endpoint.js';
import type { Gauge } from 'prom-client';
import { EventLoopDelaySampler } from './event-loop-delay.sampler.js';
import { BlazeMetrics, NoopBlazeMetrics } from './blaze-metrics.js';
import { METRIC } from './metric-names.js';
import type { BlazeMetricsOptions } from './metrics-options.interface.js';
import { PrometheusBlazeMetrics, type PrometheusMetricSet } from './prometheus-blaze-metrics.js';
import { loadPrometheus } from './prometheus.loader.js';
import { InferenceStatistics, StatisticsRecordingMetrics } from './inference-statistics.js';
import { FanOutMetrics } from './fan-out-metrics.js';
import { createOtelMetrics } from './otel-metrics.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** The Prometheus module's controller when metrics have their own server: no route on the app's. */
@Controller()
class NoMetricsRoute {}

function metricsPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigurationError(
      `BlazeRpcModule option 'metrics.port' is invalid: got ${JSON.stringify(port)}, expected a port from 0 to 65535 (0 picks a free one).`,
    );
  }
  return port;
}

/** Where metrics go besides the in-memory statistics: Prometheus, or nowhere. */
const METRICS_SINK = Symbol('blazerpc:metrics-sink');

/** BlazeMetrics as the server sees it: the sink plus the statistics OIP's ModelStatistics reads. */
function recordingStatistics(sink: Provider): Provider[] {
  return [
    sink,
    InferenceStatistics,
    {
      provide: BlazeMetrics,
      inject: [METRICS_SINK, InferenceStatistics],
      useFactory: (to: BlazeMetrics, statistics: InferenceStatistics) => {
        // OpenTelemetry metrics too, when the app registered a meter provider before Nest built this module.
        const otelMetrics = createOtelMetrics();
        const sink = !otelMetrics
          ? to
          : to instanceof NoopBlazeMetrics
            ? otelMetrics
            : new FanOutMetrics([to, otelMetrics]);
        return new StatisticsRecordingMetrics(sink, statistics);
      },
    },
  ];
}

/** @internal What BlazeRpcModule adds for `metrics`: Prometheus module and metric providers, or a no-op. */
export function createMetricsDefinition(
  metrics: boolean | BlazeMetricsOptions | undefined,
): Pick<DynamicModule, 'imports' | 'providers'> {
  if (!metrics)
    return { imports: [], providers: recordingStatistics({ provide: METRICS_SINK, useClass: NoopBlazeMetrics }) };
  const options = metrics === true ? {} : metrics;
  const { promClient, nestPrometheus } = loadPrometheus();
  const { makeCounterProvider, makeGaugeProvider, makeHistogramProvider, PrometheusModule, getToken } = nestPrometheus;
  const register = promClient.register;
  const recorded: Record<keyof PrometheusMetricSet, string> = {
    requests: METRIC.requestsTotal,
    requestDuration: METRIC.requestDuration,
    inferences: METRIC.inferenceCount,
    executions: METRIC.inferenceExecCount,
    batchSize: METRIC.batchSize,
    queueWait: METRIC.queueWait,
    queueDepth: METRIC.queueDepth,
    inferenceDuration: METRIC.inferenceDuration,
    streamMessages: METRIC.streamMessages,
    timeToFirstResponse: METRIC.timeToFirstResponse,
  };
  const keys = Object.keys(recorded) as (keyof PrometheusMetricSet)[];
  const prometheusSink: Provider = {
    provide: METRICS_SINK,
    inject: keys.map((key) => getToken(recorded[key])),
    useFactory: (...metricObjects: unknown[]) =>
      new PrometheusBlazeMetrics(
        Object.fromEntries(keys.map((key, i) => [key, metricObjects[i]])) as unknown as PrometheusMetricSet,
      ),
  };
  const providers: Provider[] = [
    makeCounterProvider({
      name: METRIC.requestsTotal,
      help: 'Model calls, by rpc method, gRPC status and protocol (blazerpc, oip)',
      labelNames: ['method', 'status', 'protocol'],
    }),
    makeHistogramProvider({
      name: METRIC.requestDuration,
      help: 'Model call duration in seconds (streams: to the end of the stream), by rpc method and protocol',
      labelNames: ['method', 'protocol'],
      buckets: LATENCY_BUCKETS,
    }),
    makeCounterProvider({
      name: METRIC.streamMessages,
      help: 'Messages of streaming calls, by rpc method and direction (in: requests read, out: responses written)',
      labelNames: ['method', 'direction'],
    }),
    makeHistogramProvider({
      name: METRIC.timeToFirstResponse,
      help: 'Time from the start of a streaming call to its first response message, in seconds',
      labelNames: ['method'],
      buckets: LATENCY_BUCKETS,
    }),
    makeCounterProvider({ name: METRIC.inferenceCount, help: 'Requests the model served', labelNames: ['model'] }),
    makeCounterProvider({
      name: METRIC.inferenceExecCount,
      help: 'Model executions (one per batch)',
      labelNames: ['model'],
    }),
    makeHistogramProvider({
      name: METRIC.batchSize,
      help: 'Requests per model execution',
      labelNames: ['model'],
      buckets: BATCH_BUCKETS,
    }),
    makeHistogramProvider({
      name: METRIC.queueWait,
      help: 'Time requests waited in the batch queue, in seconds',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
    }),
    makeGaugeProvider({ name: METRIC.queueDepth, help: 'Requests waiting in the batch queue', labelNames: ['model'] }),
    makeHistogramProvider({
      name: METRIC.inferenceDuration,
      help: 'Model execution time in seconds (from dispatch to an instance to its result; queueing excluded)',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
    }),
    makeGaugeProvider({
      name: METRIC.eventLoopDelay,
      help: 'Event-loop delay since the previous scrape, in seconds, by quantile (1 = max)',
      labelNames: ['quantile'],
      collect(this: Gauge<'quantile'>) {
        EventLoopDelaySampler.report(this);
      },
    }),
    EventLoopDelaySampler,
    ...recordingStatistics(prometheusSink),
  ];
  // NOTE: prom-client's registry is global; a second app in one process (tests, workers) must not collect the process metrics twice.
  const collectDefaults =
    (options.defaultMetrics ?? true) && !register.getSingleMetric('process_cpu_user_seconds_total');
  const path = options.path ?? '/metrics';
  if (options.port === undefined) {
    return { imports: [PrometheusModule.register({ path, defaultMetrics: { enabled: collectDefaults } })], providers };
  }
  // Its own server: the module's controller gets no route on the app's HTTP server.
  const prometheus = PrometheusModule.register({
    path,
    defaultMetrics: { enabled: collectDefaults },
    controller: NoMetricsRoute,
  });
  const endpoint = new MetricsEndpoint({
    path,
    port: metricsPort(options.port),
    host: options.host ?? '0.0.0.0',
    registry: register,
  });
  return { imports: [prometheus], providers: [...providers, { provide: MetricsEndpoint, useValue: endpoint }] };
}
