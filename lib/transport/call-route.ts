import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { CallFailure } from '../pipeline/model-pipeline.js';
import type { StreamSource } from '../pipeline/stream-source.js';
import type { InflightCall, ModelCall } from './inflight-call.js';

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
  answer(bytes: Buffer, call: ModelCall, inflight: InflightCall): Buffer | Promise<Buffer>;
}

/** @internal A server-streaming rpc: one request, a stream of encoded responses. */
export interface StreamRoute extends RouteBase {
  open(bytes: Buffer, call: ModelCall, inflight: InflightCall): Promise<{ source: StreamSource; encode: (result: unknown) => Buffer }>;
}

/** @internal A client-streaming rpc: a stream of request messages, one response. */
export interface ClientStreamRoute extends RouteBase {
  /** Answers once the handler has its result; `messages` yields each request message as it is pulled. */
  answerStream(messages: AsyncIterable<Buffer>, call: ModelCall, inflight: InflightCall): Promise<Buffer>;
}

/** @internal A bidirectional rpc that is one model call: request messages in, a stream of responses out. */
export interface DuplexRoute extends RouteBase {
  openDuplex(messages: AsyncIterable<Buffer>, call: ModelCall, inflight: InflightCall): Promise<{ source: StreamSource; encode: (result: unknown) => Buffer }>;
}

/**
 * @internal A bidirectional rpc whose every request gets its own responses,
 * in request order (OIP's `ModelStreamInfer`). A request's failure is the
 * route's to report inside the stream; what it throws ends the whole call.
 */
export interface ExchangeRoute extends RouteBase {
  /** The responses to one request, encoded. */
  exchange(bytes: Buffer, call: ModelCall, inflight: InflightCall): ExchangeResponses;
  /** The client has sent its last request (half-close). */
  endOfRequests?(inflight: InflightCall): void;
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

/** @internal A gRPC service as a protocol front end hands it to the transport. */
export interface ProtocolService {
  readonly definition: ServiceDefinition;
  readonly handlers: UntypedServiceImplementation;
}
