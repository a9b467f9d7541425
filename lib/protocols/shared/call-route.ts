import type {
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
} from '@grpc/grpc-js';
import type { ModelId } from '../../core/registry/model-id.js';
import type { TracedCall } from '../../observability/call-tracer.js';
import type { CallFailure } from '../../pipeline/model-pipeline.js';
import type { StreamSource } from '../../pipeline/stream-source.js';

/** A model call as grpc-js hands it over: the raw request bytes, and the call's metadata, peer and deadline. */
export type ModelCall =
  | ServerUnaryCall<Buffer, Buffer>
  | ServerWritableStream<Buffer, Buffer>
  | ServerReadableStream<Buffer, Buffer>
  | ServerDuplexStream<Buffer, Buffer>;

/**
 * @internal What a route sees of the call it serves, which the transport
 * tracks: when it stops, and, once the route knows, which model it is for.
 */
export interface ServedCall {
  /** When the client stops waiting, or `undefined` when it set no deadline. */
  readonly deadline: Date | undefined;
  /** Fires when the call is cancelled, expires or is given up on. */
  readonly signal: AbortSignal;
  /** The call's OpenTelemetry server span, when traced. */
  readonly trace?: TracedCall;
  /** The model version the call turned out to be for, once its route knows (for per-model statistics and traces). */
  model?: ModelId;
}

/** What the transport knows of every route: its names for metrics and logs, and how a failure maps to a status. */
interface RouteBase {
  /** rpc name, e.g. `PredictIris` or `ModelInfer` (the metrics' `method` label). */
  readonly method: string;
  /** The protocol it speaks, e.g. `blazerpc` or `oip` (the metrics' `protocol` label). */
  readonly protocol: string;
  /** The status a failure ends the call with (unexpected ones logged once). */
  failure(error: unknown): CallFailure;
}

/**
 * @internal A unary rpc as a protocol front end serves it: request bytes in,
 * response bytes out. The transport owns the call's life (tracking, deadline,
 * drain, status); the route decodes, runs the pipeline and encodes.
 */
export interface UnaryRoute extends RouteBase {
  /** Bytes when the answer is ready at once, else a promise; throws or rejects on failure. */
  answer(bytes: Buffer, call: ModelCall, inflight: ServedCall): Buffer | Promise<Buffer>;
}

/** @internal A server-streaming rpc: one request, a stream of encoded responses. */
export interface StreamRoute extends RouteBase {
  open(
    bytes: Buffer,
    call: ModelCall,
    inflight: ServedCall,
  ): Promise<{ source: StreamSource; encode: (result: unknown) => Buffer }>;
}

/** @internal A client-streaming rpc: a stream of request messages, one response. */
export interface ClientStreamRoute extends RouteBase {
  /** Answers once the handler has its result; `messages` yields each request message as it is pulled. */
  answerStream(messages: AsyncIterable<Buffer>, call: ModelCall, inflight: ServedCall): Promise<Buffer>;
}

/** @internal A bidirectional rpc that is one model call: request messages in, a stream of responses out. */
export interface DuplexRoute extends RouteBase {
  openDuplex(
    messages: AsyncIterable<Buffer>,
    call: ModelCall,
    inflight: ServedCall,
  ): Promise<{ source: StreamSource; encode: (result: unknown) => Buffer }>;
}

/**
 * @internal A bidirectional rpc whose every request gets its own responses,
 * in request order (OIP's `ModelStreamInfer`). A request's failure is the
 * route's to report inside the stream; what it throws ends the whole call.
 */
export interface ExchangeRoute extends RouteBase {
  /** The responses to one request, encoded. */
  exchange(bytes: Buffer, call: ModelCall, inflight: ServedCall): ExchangeResponses;
  /** The client has sent its last request (half-close). */
  endOfRequests?(inflight: ServedCall): void;
}

/** @internal The responses to one request of an exchange. */
export interface ExchangeResponses extends AsyncIterable<Buffer> {
  /**
   * Written as they come rather than in request order: the responses of a
   * streamed-input model call, which depend on requests sent after it, so
   * holding later requests' responses behind them would stall the stream.
   */
  readonly detached?: boolean;
}

/** @internal One rpc of a protocol service: its kind, and the route that serves it. */
export type ServiceRoute =
  | { readonly kind: 'unary'; readonly route: UnaryRoute }
  | { readonly kind: 'serverStream'; readonly route: StreamRoute }
  | { readonly kind: 'clientStream'; readonly route: ClientStreamRoute }
  | { readonly kind: 'duplex'; readonly route: DuplexRoute }
  | { readonly kind: 'exchange'; readonly route: ExchangeRoute };

/**
 * @internal A gRPC service as a protocol front end hands it to the transport:
 * its methods, and the route of each (by method name), which the transport
 * binds to grpc-js handlers.
 */
export interface ProtocolService {
  readonly definition: ServiceDefinition;
  readonly routes: Readonly<Record<string, ServiceRoute>>;
}
