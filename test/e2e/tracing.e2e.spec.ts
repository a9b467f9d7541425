import * as grpc from '@grpc/grpc-js';
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { BlazeClient, BlazeRpcModule } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { EnhancedModels } from '../fixtures/enhanced.models.js';
import { OipModels } from '../fixtures/oip.models.js';
import { failureOf, ModelClient } from '../helpers/model-client.js';
import { OipSpecClient, rawBytes } from '../helpers/oip-spec-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { sleep } from '../helpers/time.js';

/*
 * An app that already runs the OpenTelemetry SDK: a tracer provider with an
 * in-memory exporter, the async-hooks context manager and the W3C propagator,
 * registered globally before Nest boots.
 */
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [metricReader] }));

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const traceparent = `00-${TRACE_ID}-${PARENT_ID}-01`;

const spansNamed = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
async function finished(name: string, count = 1): Promise<ReadableSpan[]> {
  for (let waited = 0; spansNamed(name).length < count && waited < 2000; waited += 10) await sleep(10);
  return spansNamed(name);
}

describe('OpenTelemetry: a server span per model call, continuing the caller’s trace', () => {
  let running: RunningApp;
  let client: ModelClient;

  beforeAll(async () => {
    running = await startApp({ imports: [AppModule.forRoot(testServerOptions)] });
    client = new ModelClient(running.address, running.registry.protoText);
  });
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    client?.close();
    await running?.app.close();
  });

  it('continues the trace in traceparent, with the RPC semantic-convention attributes', async () => {
    await client.unary('PredictEcho', { text: 'hi' }, { metadata: { traceparent } });
    const [span] = await finished('blazerpc.InferenceService/PredictEcho');
    expect(span).toBeDefined();
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span!.attributes).toMatchObject({
      'rpc.system.name': 'grpc',
      'rpc.method': 'blazerpc.InferenceService/PredictEcho',
      'rpc.status_code': 'OK',
      'server.address': '127.0.0.1',
      'server.port': running.port,
      'blazerpc.model': 'echo',
      'blazerpc.model_version': '1',
      'blazerpc.protocol': 'blazerpc',
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    const encode = span!.events.find((event) => event.name === 'blazerpc.encode');
    expect(encode?.attributes).toMatchObject({
      'blazerpc.response_bytes': expect.any(Number),
      'blazerpc.encode_seconds': expect.any(Number),
    });
  });

  it('marks a refusal of the client (INVALID_ARGUMENT, PERMISSION_DENIED) with its status code, not as a span error', async () => {
    const bad = await failureOf(
      client.unary('PredictIris', { features: { shape: [1, 5], dtype: 'float32', data: Buffer.alloc(20) } }),
    );
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    const denied = await failureOf(
      client.unary('PredictSecure', { text: 'hi' }, { metadata: { authorization: 'Bearer wrong' } }),
    );
    expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
    const [iris] = await finished('blazerpc.InferenceService/PredictIris');
    const [secure] = await finished('blazerpc.InferenceService/PredictSecure');
    expect(iris!.attributes['rpc.status_code']).toBe('INVALID_ARGUMENT');
    expect(secure!.attributes['rpc.status_code']).toBe('PERMISSION_DENIED');
    expect([iris!.status.code, secure!.status.code]).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET]);
  });

  it('records streaming calls: the first response as an event, messages in and out as attributes', async () => {
    const call = client.duplex('PredictRelay', { metadata: { traceparent } });
    const replies: string[] = [];
    call.on('data', (m: { result: string }) => replies.push(m.result));
    ['a', 'b', 'c'].forEach((text) => call.write({ text }));
    call.end();
    await new Promise((resolve) => call.on('end', resolve));
    const [span] = await finished('blazerpc.InferenceService/PredictRelay');
    expect(replies).toEqual(['A', 'B', 'C']);
    expect(span!.attributes).toMatchObject({
      'blazerpc.messages_in': 3,
      'blazerpc.messages_out': 3,
      'rpc.status_code': 'OK',
    });
    expect(span!.events.map((e) => e.name)).toContain('blazerpc.first_response');
  });

  it('joins BlazeClient calls to the server: a client span, and the server span its child in the same trace', async () => {
    const blaze = await BlazeClient.connect(running.address, { registry: running.registry });
    const parent = trace.getTracer('test').startSpan('user request');
    await context.with(trace.setSpan(context.active(), parent), () => blaze.predict('echo', { text: 'joined' }));
    parent.end();
    blaze.close();
    const [server] = await finished('blazerpc.InferenceService/PredictEcho');
    const clients = exporter
      .getFinishedSpans()
      .filter((span) => span.kind === SpanKind.CLIENT && span.name === 'blazerpc.InferenceService/PredictEcho');
    expect(clients).toHaveLength(1);
    const [clientSpan] = clients;
    expect(clientSpan!.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(clientSpan!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(server!.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(server!.parentSpanContext?.spanId).toBe(clientSpan!.spanContext().spanId);
    expect(clientSpan!.attributes).toMatchObject({ 'rpc.system.name': 'grpc', 'rpc.status_code': 'OK' });
  });

  it('names the ONNX instance that ran a batch, and its inference time, on the batch execution span', async () => {
    const features = {
      shape: [1, 4],
      dtype: 'float32',
      data: Buffer.from(new Float32Array([5.1, 3.5, 1.4, 0.2]).buffer),
    };
    await client.unary('PredictIris', { features });
    const [batch] = await finished('blazerpc.batch iris');
    expect(batch!.attributes).toMatchObject({ 'blazerpc.instance': 0, 'blazerpc.batch_size': 1 });
    expect(batch!.attributes['blazerpc.inference_seconds']).toBeGreaterThan(0);
  });

  it('traces OIP calls too', async () => {
    const oip = new OipSpecClient(running.address);
    await oip.call(
      'ModelInfer',
      {
        model_name: 'echo',
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [rawBytes('x')],
      },
      { traceparent },
    );
    oip.close();
    const [span] = await finished('inference.GRPCInferenceService/ModelInfer');
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.attributes).toMatchObject({
      'blazerpc.protocol': 'oip',
      'blazerpc.model': 'echo',
      'rpc.status_code': 'OK',
    });
  });
});

describe('OpenTelemetry: a batch execution span linked both ways to every request it served', () => {
  let running: RunningApp;
  let client: ModelClient;

  beforeAll(async () => {
    running = await startApp({
      imports: [BlazeRpcModule.forRoot(testServerOptions)],
      providers: [OipModels, EnhancedModels],
    });
    client = new ModelClient(running.address, running.registry.protoText);
  });
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    client?.close();
    await running?.app.close();
  });

  it('records a server failure as an error, with the exception, and never the client input', async () => {
    const failure = await failureOf(client.unary('PredictFail', { kind: 'secret-client-input' }));
    expect(failure.code).toBe(grpc.status.INTERNAL);
    const [span] = await finished('blazerpc.InferenceService/PredictFail');
    expect(span!.attributes['rpc.status_code']).toBe('INTERNAL');
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Internal server error' });
    expect(span!.events.find((event) => event.name === 'exception')?.attributes).toMatchObject({
      'exception.type': 'grpc.INTERNAL',
    });
    const recorded = JSON.stringify({ attributes: span!.attributes, events: span!.events, status: span!.status });
    expect(recorded).not.toContain('secret-client-input');
  });

  it('64 concurrent calls: 64 request spans with their queue wait, one execution span linked to all of them, and back', async () => {
    const rows = (i: number) => ({
      x: { shape: [1, 2], dtype: 'float', data: Buffer.from(new Float32Array([i, i]).buffer) },
    });
    await Promise.all(
      Array.from({ length: 64 }, (_, i) => client.unary('PredictMix', rows(i), { metadata: { traceparent } })),
    );
    const requests = await finished('blazerpc.InferenceService/PredictMix', 64);
    const [batch] = await finished('blazerpc.batch mix');
    expect(requests).toHaveLength(64);
    expect(batch!.attributes).toMatchObject({
      'blazerpc.model': 'mix',
      'blazerpc.batch_size': 64,
      'blazerpc.batch_rows': 64,
    });
    expect(new Set(batch!.links.map((link) => link.context.spanId))).toEqual(
      new Set(requests.map((span) => span.spanContext().spanId)),
    );
    for (const request of requests) {
      expect(request.attributes['blazerpc.batch_size']).toBe(64);
      expect(request.links.map((link) => link.context.spanId)).toEqual([batch!.spanContext().spanId]);
      const wait = request.events.find((event) => event.name === 'blazerpc.queue_wait');
      expect(wait?.attributes?.['blazerpc.queue_wait_seconds']).toBeGreaterThanOrEqual(0);
    }
  });

  it('records OpenTelemetry metrics: rpc.server.call.duration, batch size, queue wait, inference duration', async () => {
    const { resourceMetrics } = await metricReader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const named = (name: string) => all.find((metric) => metric.descriptor.name === name);
    const calls = named('rpc.server.call.duration')!;
    expect(calls.descriptor.unit).toBe('s');
    const mix = calls.dataPoints.find(
      (point) => point.attributes['rpc.method'] === 'PredictMix' && point.attributes['rpc.status_code'] === 'OK',
    );
    expect((mix?.value as { count: number }).count).toBe(64);
    const batches = named('blazerpc.batch.size')!.dataPoints.find(
      (point) => point.attributes['blazerpc.model'] === 'mix',
    );
    expect(batches?.value).toMatchObject({ count: 1, sum: 64 });
    expect(
      (
        named('blazerpc.queue.wait')!.dataPoints.find((p) => p.attributes['blazerpc.model'] === 'mix')?.value as {
          count: number;
        }
      ).count,
    ).toBe(64);
    expect(named('blazerpc.inference.duration')!.dataPoints.some((p) => p.attributes['blazerpc.model'] === 'mix')).toBe(
      true,
    );
  });
});
