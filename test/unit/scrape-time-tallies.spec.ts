import { status } from '@grpc/grpc-js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PrometheusBlazeMetrics, type PrometheusMetricSet } from '../../lib/observability/prometheus-blaze-metrics.js';
import { ScrapeTimeTallies } from '../../lib/observability/scrape-time-tallies.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The same metrics twice, in two registries: one recorded the usual way, one through tallies. */
function pair() {
  const make = () => {
    const registry = new Registry();
    const registers = [registry];
    return {
      registry,
      counter: new Counter({ name: 'c_total', help: 'c', labelNames: ['method', 'status'], registers }),
      gauge: new Gauge({ name: 'g', help: 'g', labelNames: ['model'], registers }),
      histogram: new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['method'], buckets: BUCKETS, registers }),
    };
  };
  return { direct: make(), tallied: make() };
}

/** Deterministic durations spread over every bucket and beyond the last one. */
function durations(n: number, seed = 7): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648) ** 4 * 12;
  });
}

describe('ScrapeTimeTallies: values recorded per series, added to prom-client metrics when read', () => {
  it('a scrape shows exactly what recording each value in prom-client shows (counts, buckets and the sum to the bit)', async () => {
    const { direct, tallied } = pair();
    const tallies = new ScrapeTimeTallies();
    const ok = tallies.counter(tallied.counter, { method: 'A', status: 'OK' });
    const failed = tallies.counter(tallied.counter, { method: 'A', status: 'INTERNAL' });
    const timeA = tallies.histogram(tallied.histogram, { method: 'A' });
    const timeB = tallies.histogram(tallied.histogram, { method: 'B' });
    const depth = tallies.gauge(tallied.gauge, { model: 'm' });
    const values = durations(5000);
    for (let round = 0; round < 3; round++) {
      values.forEach((seconds, i) => {
        const method = i % 3 === 0 ? 'B' : 'A';
        const code = i % 17 === 0 ? 'INTERNAL' : 'OK';
        direct.counter.labels('A', code).inc();
        (code === 'OK' ? ok : failed).inc();
        direct.histogram.labels(method).observe(seconds);
        (method === 'A' ? timeA : timeB).observe(seconds);
        direct.gauge.labels('m').set(i % 9);
        depth.set(i % 9);
      });
      // Scraped between rounds: what is flushed once is not added again.
      expect(await tallied.registry.metrics()).toBe(await direct.registry.metrics());
      expect(await tallied.histogram.get()).toEqual(await direct.histogram.get());
    }
  });

  it('series appear when first recorded, not when a tally is made', async () => {
    const { direct, tallied } = pair();
    const tallies = new ScrapeTimeTallies();
    tallies.counter(tallied.counter, { method: 'never', status: 'OK' });
    tallies.histogram(tallied.histogram, { method: 'never' });
    tallies.histogram(tallied.histogram, { method: 'once' }).observe(0.003);
    direct.histogram.labels('once').observe(0.003);
    expect(await tallied.registry.metrics()).toBe(await direct.registry.metrics());
  });

  it('values recorded directly on the metric (a user holding the injected metric) add up with the tallied ones', async () => {
    const { direct, tallied } = pair();
    const tallies = new ScrapeTimeTallies();
    const time = tallies.histogram(tallied.histogram, { method: 'A' });
    const count = tallies.counter(tallied.counter, { method: 'A', status: 'OK' });
    // Binary fractions: with values added from two places, the sum's rounding may otherwise differ in the last bit.
    for (const seconds of [0.001953125, 0.3125, 4]) {
      time.observe(seconds);
      count.inc(2);
      tallied.histogram.labels('A').observe(1);
      tallied.counter.labels('A', 'OK').inc();
      direct.histogram.labels('A').observe(seconds);
      direct.histogram.labels('A').observe(1);
      direct.counter.labels('A', 'OK').inc(3);
      expect(await tallied.registry.metrics()).toBe(await direct.registry.metrics());
    }
  });

  it('reset() forgets what was pending, as it forgets what was recorded; recording goes on after it', async () => {
    const { direct, tallied } = pair();
    const tallies = new ScrapeTimeTallies();
    const time = tallies.histogram(tallied.histogram, { method: 'A' });
    const count = tallies.counter(tallied.counter, { method: 'A', status: 'OK' });
    time.observe(0.01);
    count.inc();
    await tallied.registry.metrics();
    time.observe(0.02);
    count.inc();
    tallied.registry.resetMetrics();
    direct.registry.resetMetrics();
    expect(await tallied.registry.metrics()).toBe(await direct.registry.metrics());
    time.observe(0.75);
    count.inc(4);
    direct.histogram.labels('A').observe(0.75);
    direct.counter.labels('A', 'OK').inc(4);
    expect(await tallied.registry.metrics()).toBe(await direct.registry.metrics());
  });

  it('close() publishes what is pending and stops tracking; values prom-client refuses still throw at once', async () => {
    const { tallied } = pair();
    const tallies = new ScrapeTimeTallies();
    const count = tallies.counter(tallied.counter, { method: 'A', status: 'OK' });
    const time = tallies.histogram(tallied.histogram, { method: 'A' });
    count.inc(5);
    time.observe(0.5);
    tallies.close();
    count.inc(1);
    const read = (await tallied.counter.get()).values;
    expect(read).toEqual([{ labels: { method: 'A', status: 'OK' }, value: 5 }]);
    expect(() => count.inc(-1)).toThrow('It is not possible to decrease a counter');
    expect(() => time.observe(Number.NaN)).toThrow('Value is not a valid number');
  });

  it('PrometheusBlazeMetrics shows each call, execution and stream once the metrics are read', async () => {
    const registers = [new Registry()];
    const counter = (name: string, labelNames: string[]) => new Counter({ name, help: name, labelNames, registers });
    const histogram = (name: string, labelNames: string[]) =>
      new Histogram({ name, help: name, labelNames, buckets: BUCKETS, registers });
    const set = {
      requests: counter('requests_total', ['method', 'status', 'protocol']),
      requestDuration: histogram('request_seconds', ['method', 'protocol']),
      inferences: counter('inferences_total', ['model']),
      executions: counter('executions_total', ['model']),
      batchSize: histogram('batch_size', ['model']),
      queueWait: histogram('queue_wait_seconds', ['model']),
      queueDepth: new Gauge({ name: 'queue_depth', help: 'd', labelNames: ['model'], registers }),
      inferenceDuration: histogram('inference_seconds', ['model']),
      streamMessages: counter('stream_messages_total', ['method', 'direction']),
      timeToFirstResponse: histogram('first_response_seconds', ['method']),
    } as unknown as PrometheusMetricSet;
    const metrics = new PrometheusBlazeMetrics(set);
    metrics.recordCall('PredictEcho', status.OK, 0.001);
    metrics.recordCall('PredictEcho', status.OK, 0.002);
    metrics.recordCall('ModelInfer', status.NOT_FOUND, 0.003, 'oip');
    metrics.recordExecution('echo', 4, 0.004);
    metrics.setQueueDepth('echo', 3);
    metrics.recordStream('PredictTokens', 1, 5, 0.02);
    expect((await set.requests.get()).values).toEqual([
      { labels: { method: 'PredictEcho', status: 'OK', protocol: 'blazerpc' }, value: 2 },
      { labels: { method: 'ModelInfer', status: 'NOT_FOUND', protocol: 'oip' }, value: 1 },
    ]);
    const count = async (metric: Histogram<string>) =>
      (await metric.get()).values.filter((v) => v.metricName?.endsWith('_count')).map((v) => v.value);
    expect(await count(set.requestDuration)).toEqual([2, 1]);
    expect(await count(set.inferenceDuration)).toEqual([1]);
    expect((await set.batchSize.get()).values.find((v) => v.metricName === 'batch_size_sum')?.value).toBe(4);
    expect((await set.inferences.get()).values[0]?.value).toBe(4);
    expect((await set.queueDepth.get()).values[0]?.value).toBe(3);
    expect((await set.streamMessages.get()).values.map((v) => [v.labels.direction, v.value])).toEqual([
      ['in', 1],
      ['out', 5],
    ]);
    // At shutdown the rest is published; the metrics outlive the app in the registry.
    metrics.recordCall('PredictEcho', status.OK, 0.001);
    metrics.onApplicationShutdown();
    expect((await set.requests.get()).values[0]?.value).toBe(3);
  });
});
