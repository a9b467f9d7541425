import {
  InterceptingCall,
  ListenerBuilder,
  RequesterBuilder,
  status as GrpcStatus,
  type Interceptor,
  type Metadata,
} from '@grpc/grpc-js';
import type { TextMapSetter } from '@opentelemetry/api';
import { recordingTracer } from './call-tracer.js';
import { otel } from './otel-api.js';

const metadataSetter: TextMapSetter<Metadata> = { set: (metadata, key, value) => metadata.set(key, value) };

/**
 * @internal A client span per call (when an OpenTelemetry SDK records spans),
 * with the W3C trace context (`traceparent`) injected into the call's
 * metadata, so the server's span joins the caller's trace. Attributes follow
 * the RPC semantic conventions (semconv 1.45): `rpc.system.name`,
 * `rpc.method`, `rpc.status_code`; codes other than OK mark the span an error.
 */
export const clientTracingInterceptor: Interceptor = (options, nextCall) => {
  const tracer = recordingTracer();
  if (!tracer || !otel) return new InterceptingCall(nextCall(options));
  const api = otel;
  const method = options.method_definition.path.replace(/^\//, '');
  const span = tracer.startSpan(method, {
    kind: api.SpanKind.CLIENT,
    attributes: { 'rpc.system.name': 'grpc', 'rpc.method': method },
  });
  const traced = api.trace.setSpan(api.context.active(), span);
  const requester = new RequesterBuilder()
    .withStart((metadata, _listener, next) => {
      api.propagation.inject(traced, metadata, metadataSetter);
      // grpc-js composes this listener with the caller's: each hook hands on with its `next`.
      const ending = new ListenerBuilder()
        .withOnReceiveStatus((status, nextStatus) => {
          span.setAttribute('rpc.status_code', GrpcStatus[status.code]);
          if (status.code !== GrpcStatus.OK)
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: status.details });
          span.end();
          nextStatus(status);
        })
        .build();
      next(metadata, ending);
    })
    .build();
  return new InterceptingCall(nextCall(options), requester);
};
