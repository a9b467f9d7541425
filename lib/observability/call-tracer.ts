import { status as GrpcStatus, type Metadata } from '@grpc/grpc-js';
import type { Attributes, Context, Link, Span, TextMapGetter, Tracer } from '@opentelemetry/api';
import { PACKAGE_NAME, packageVersion } from '../core/package-version.js';
import { otel } from './otel-api.js';

/** Reads W3C trace context (`traceparent`, `tracestate`) out of gRPC metadata. */
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

/** gRPC codes a server span reports as an error, per the RPC semantic conventions for gRPC. */
const SERVER_ERRORS = new Set([
  GrpcStatus.UNKNOWN,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

/** One traced call: its span, and the context handlers run in. */
export interface TracedCall {
  readonly span: Span;
  readonly context: Context;
  /** False when another instrumentation (e.g. instrumentation-grpc) owns the server span and ends it. */
  readonly owned: boolean;
}

/**
 * @internal Server spans for model calls, through `@opentelemetry/api` only.
 * A span is made only when an SDK has registered a tracer provider, so with
 * none (or without the package) a call costs a check of two fields.
 *
 * Follows the RPC semantic conventions as of semconv 1.45 (stable):
 * span name `{rpc.method}`, kind SERVER, `rpc.system.name` = `grpc`,
 * `rpc.method` = `package.Service/Method`, `rpc.status_code` = the status
 * name, `server.address`/`server.port`; plus `blazerpc.*` attributes.
 */
export class CallTracer {
  constructor(
    private readonly serverAddress: string,
    private readonly serverPort: () => number | undefined,
  ) {}

  /** Starts the server span of a call (continuing the caller's trace), or `undefined` when nothing records spans. */
  start(path: string, metadata: Metadata, protocol: string): TracedCall | undefined {
    const tracer = this.activeTracer();
    if (!tracer || !otel) return undefined;
    const method = path.startsWith('/') ? path.slice(1) : path;
    const attributes: Attributes = {
      'rpc.system.name': 'grpc',
      'rpc.method': method,
      'server.address': this.serverAddress,
      'blazerpc.protocol': protocol,
    };
    const port = this.serverPort();
    if (port !== undefined) attributes['server.port'] = port;
    // instrumentation-grpc, when active, has already started the server span: enrich it rather than add a second one.
    const active = otel.trace.getActiveSpan();
    if (active?.isRecording()) {
      active.setAttributes(attributes);
      return { span: active, context: otel.context.active(), owned: false };
    }
    const parent = otel.propagation.extract(otel.ROOT_CONTEXT, metadata, metadataGetter);
    const span = tracer.startSpan(method, { kind: otel.SpanKind.SERVER, attributes }, parent);
    return { span, context: otel.trace.setSpan(parent, span), owned: true };
  }

  /** Ends a call's span with its status; `details` is the (bounded) status message, never client input verbatim. */
  end(traced: TracedCall, code: GrpcStatus, details: string | undefined, extra: Attributes): void {
    const { span } = traced;
    span.setAttributes({ ...extra, 'rpc.status_code': GrpcStatus[code] });
    if (SERVER_ERRORS.has(code)) {
      span.setStatus({ code: otel!.SpanStatusCode.ERROR, message: details });
      span.recordException({ name: `grpc.${GrpcStatus[code]}`, message: details ?? GrpcStatus[code] });
    }
    if (traced.owned) span.end();
  }

  /**
   * Starts the span of one batch execution, linked to every request span it
   * serves; each request span gets a link back to it.
   */
  startBatch(model: string, members: readonly (Span | undefined)[], attributes: Attributes): Span | undefined {
    const tracer = this.activeTracer();
    const traced = members.filter((span): span is Span => span !== undefined);
    if (!tracer || !otel || traced.length === 0) return undefined;
    const links: Link[] = traced.map((span) => ({
      context: span.spanContext(),
      attributes: { 'blazerpc.link': 'batch member' },
    }));
    const batch = tracer.startSpan(
      `blazerpc.batch ${model}`,
      { kind: otel.SpanKind.INTERNAL, links, attributes },
      otel.ROOT_CONTEXT,
    );
    for (const span of traced)
      span.addLink({ context: batch.spanContext(), attributes: { 'blazerpc.link': 'batch execution' } });
    return batch;
  }

  /** Runs `work` with `span` as the active span, so spans made inside (a runtime's, the user's) are its children. */
  within<T>(span: Span, work: () => T): T {
    return otel ? otel.context.with(otel.trace.setSpan(otel.ROOT_CONTEXT, span), work) : work();
  }

  /** Marks a span failed (the error's class and message; the handler's, never client input). */
  failed(span: Span | undefined, error: unknown): void {
    if (!span || !otel) return;
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message: (error as Error)?.message });
    if (error instanceof Error) span.recordException(error);
  }

  private activeTracer(): Tracer | undefined {
    return recordingTracer();
  }
}

let cachedTracer: Tracer | undefined;
let cachedDelegate: unknown;

/**
 * @internal This package's tracer when an OpenTelemetry SDK has registered a
 * tracer provider, else `undefined`. Re-checked cheaply on every use (two
 * field reads), so an SDK started after the server is picked up.
 */
export function recordingTracer(): Tracer | undefined {
  if (!otel) return undefined;
  const provider = otel.trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = provider.getDelegate?.() ?? provider;
  if (delegate !== cachedDelegate) {
    cachedDelegate = delegate;
    const isNoop = (delegate as { constructor?: { name?: string } }).constructor?.name === 'NoopTracerProvider';
    cachedTracer = isNoop ? undefined : otel.trace.getTracer(PACKAGE_NAME, packageVersion());
  }
  return cachedTracer;
}

/**
 * @internal Encodes a response; on a traced call also records a
 * `blazerpc.encode` event with the time it took and the response size.
 */
export function encodeTraced(traced: TracedCall | undefined, encode: () => Buffer): Buffer {
  if (!traced) return encode();
  const started = performance.now();
  const bytes = encode();
  traced.span.addEvent('blazerpc.encode', {
    'blazerpc.encode_seconds': (performance.now() - started) / 1000,
    'blazerpc.response_bytes': bytes.length,
  });
  return bytes;
}
