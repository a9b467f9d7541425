import { status } from '@grpc/grpc-js';
import { getToken } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import { BlazeRpcModule, MetricsEndpoint } from '../../lib/index.js';
import { TextModels } from '../../sample/text/text.models.js';
import { BatchModels } from '../fixtures/batch.models.js';
import { collect, failureOf } from '../helpers/model-client.js';
import { driveQueueRefusals } from '../helpers/queue-refusals.js';
import { serveForSuite, startApp, testServerOptions } from '../helpers/start-app.js';
import { ModelClient } from '../helpers/model-client.js';
import { tensorMessage } from '../helpers/tensor-message.js';
import { sleep } from '../helpers/time.js';

/** Reads one sample's value from Prometheus text exposition, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('Prometheus metrics count every call (scraped from /metrics over HTTP)', () => {
  const suite = serveForSuite(
    {
      imports: [BlazeRpcModule.forRoot({ ...testServerOptions, metrics: true })],
      providers: [BatchModels, TextModels],
    },
    { http: true },
  );

  it('totals equal the calls made, by status, after a mixed run', async () => {
    const { client } = suite;
    const models = suite.running.app.get(BatchModels);
    const pair = (v: number) => ({ x: tensorMessage('float32', [1, 2], Float32Array.from([v, v])) });

    await Promise.all(Array.from({ length: 20 }, (_, i) => client.unary('PredictDouble', pair(i))));
    for (let i = 0; i < 3; i++) {
      await failureOf(client.unary('PredictDouble', { x: tensorMessage('float64', [1, 2], new Float64Array(2)) }));
    }
    for (let i = 0; i < 2; i++) await failureOf(client.unary('PredictGuardedLabel', { ids: [i] }));
    await collect(client.stream('PredictTokens', { prompt: 'a b c' }));
    await collect(client.stream('PredictTokens', { prompt: 'd e' }));

    const { full, expired } = await driveQueueRefusals(client, models);
    expect(full.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(expired.code).toBe(status.DEADLINE_EXCEEDED);

    const text = await (await fetch(`${suite.running.httpUrl}/metrics`)).text();
    const requests = (method: string, code: string) =>
      sample(text, 'blazerpc_requests_total', { method, status: code });
    expect(requests('PredictDouble', 'OK')).toBe(20);
    expect(requests('PredictDouble', 'INVALID_ARGUMENT')).toBe(3);
    expect(requests('PredictGuardedLabel', 'PERMISSION_DENIED')).toBe(2);
    expect(requests('PredictTokens', 'OK')).toBe(2);
    expect(requests('PredictLabel', 'OK')).toBe(3);
    expect(requests('PredictLabel', 'RESOURCE_EXHAUSTED')).toBe(1);
    expect(requests('PredictLabel', 'DEADLINE_EXCEEDED')).toBe(1);
    expect(requests('PredictLabel', 'CANCELLED')).toBe(1);
    expect(sample(text, 'blazerpc_request_duration_seconds_count', { method: 'PredictLabel' })).toBe(6);
    expect(sample(text, 'blazerpc_request_duration_seconds_count', { method: 'PredictTokens' })).toBe(2);

    // Every OK call reached the model; the batching shows as fewer executions than requests.
    expect(sample(text, 'blazerpc_inferences_total', { model: 'double' })).toBe(20);
    expect(sample(text, 'blazerpc_inference_executions_total', { model: 'double' })).toBeLessThan(20);
    expect(sample(text, 'blazerpc_batch_size_sum', { model: 'double' })).toBe(20);
    expect(sample(text, 'blazerpc_inferences_total', { model: 'label' })).toBe(3);
    expect(sample(text, 'blazerpc_queue_wait_seconds_count', { model: 'label' })).toBe(3);
    expect(sample(text, 'blazerpc_queue_depth', { model: 'label' })).toBe(0);
    expect(sample(text, 'blazerpc_inferences_total', { model: 'tokens' })).toBe(2);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it("names every metric by Prometheus's conventions: counters end in _total, durations in _seconds", async () => {
    const text = await (await fetch(`${suite.running.httpUrl}/metrics`)).text();
    const declared = text
      .split('\n')
      .filter((line) => /^# (TYPE|HELP) blazerpc_/.test(line))
      .map((line) => line.slice(2));
    // The exposed names, types and help texts, as dashboards and alerts depend on them (README lists them).
    expect(declared).toMatchSnapshot();
    const types = declared
      .filter((line) => line.startsWith('TYPE '))
      .map((line) => line.split(' ').slice(1) as [string, string]);
    for (const [name, type] of types) {
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_(total|count|sum|bucket)$/);
      if (/duration|wait|delay|time/.test(name)) expect(name).toMatch(/_seconds$/);
    }
    expect(types.length).toBe(11);
  });

  it('reports event-loop delay since the previous scrape: a 60 ms block shows as the max, then is gone', async () => {
    const scrape = async () => (await fetch(`${suite.running.httpUrl}/metrics`)).text();
    await scrape();
    const until = performance.now() + 60;
    while (performance.now() < until); // blocks the loop, as a synchronous model run would
    await sleep(20);
    const delay = (text: string, quantile: string) => sample(text, 'blazerpc_event_loop_delay_seconds', { quantile });
    const blocked = await scrape();
    expect(delay(blocked, '1')).toBeGreaterThanOrEqual(0.05);
    expect(delay(blocked, '0.5')).toBeLessThan(delay(blocked, '1'));
    await sleep(50);
    expect(delay(await scrape(), '1')).toBeLessThan(0.05);
  });
});

describe('call logging (logCalls)', () => {
  const lines: string[] = [];
  const logger = { log: (message: string) => lines.push(message), error: () => undefined, warn: () => undefined };
  const suite = serveForSuite(
    { imports: [BlazeRpcModule.forRoot({ ...testServerOptions, logCalls: true })], providers: [TextModels] },
    { logger },
  );

  it('logs one line per call with method, peer, status and duration', async () => {
    await suite.client.unary('PredictEcho', { text: 'hi' });
    await failureOf(suite.client.unary('PredictSecure', { text: 'hi' }));
    const calls = lines.filter((line) => line.startsWith('Predict'));
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/^PredictEcho 127\.0\.0\.1:\d+ OK \d+\.\dms$/);
    expect(calls[1]).toMatch(/^PredictSecure 127\.0\.0\.1:\d+ UNAUTHENTICATED \d+\.\dms$/);
  });
});

describe('metrics on their own port (metrics: { port })', () => {
  const suite = serveForSuite(
    {
      imports: [BlazeRpcModule.forRoot({ ...testServerOptions, metrics: { port: 0, host: '127.0.0.1' } })],
      providers: [TextModels],
    },
    { http: true },
  );

  it("serves the scrape endpoint there, and not on the app's HTTP server", async () => {
    await suite.client.unary('PredictEcho', { text: 'hi' });
    const port = suite.running.app.get(MetricsEndpoint).port;
    const dedicated = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(dedicated.status).toBe(200);
    expect(dedicated.headers.get('content-type')).toContain('text/plain');
    expect(sample(await dedicated.text(), 'blazerpc_requests_total', { method: 'PredictEcho', status: 'OK' })).toBe(1);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    expect((await fetch(`${suite.running.httpUrl}/metrics`)).status).toBe(404);
  });
});

describe('metrics read from the prom-client objects (as a user holding an @InjectMetric metric reads them)', () => {
  it('show every call when read, while the app runs and after it has closed', async () => {
    const running = await startApp({
      imports: [BlazeRpcModule.forRoot({ ...testServerOptions, metrics: true })],
      providers: [TextModels],
    });
    const client = new ModelClient(running.address, running.registry.protoText);
    const requests = running.app.get<Counter<string>>(getToken('blazerpc_requests_total'));
    const duration = running.app.get<Histogram<string>>(getToken('blazerpc_request_duration_seconds'));
    const echoes = async () =>
      (await requests.get()).values.find((v) => v.labels.method === 'PredictEcho' && v.labels.status === 'OK')?.value ??
      0;
    const timed = async () =>
      (await duration.get()).values.find(
        (v) => v.metricName === 'blazerpc_request_duration_seconds_count' && v.labels.method === 'PredictEcho',
      )?.value ?? 0;
    // prom-client's registry is global: other suites' calls may be in it already.
    const [before, timedBefore] = [await echoes(), await timed()];
    try {
      await client.unary('PredictEcho', { text: 'a' });
      await client.unary('PredictEcho', { text: 'b' });
      expect(await echoes()).toBe(before + 2);
      expect(await timed()).toBe(timedBefore + 2);
      await client.unary('PredictEcho', { text: 'c' });
    } finally {
      client.close();
      await running.app.close();
    }
    expect(await echoes()).toBe(before + 3);
    expect(await timed()).toBe(timedBefore + 3);
  });
});
