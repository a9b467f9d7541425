import {
  status as GrpcStatus,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { StreamSource } from '../pipeline/stream-source.js';
import type { CallFailure } from '../pipeline/model-pipeline.js';
import type { CallObserver } from './call-observer.js';
import type { CallTracer, TracedCall } from '../observability/call-tracer.js';
import { otel } from '../observability/otel-api.js';
import type {
  ClientStreamRoute,
  DuplexRoute,
  ExchangeRoute,
  ModelCall,
  ProtocolService,
  ServiceRoute,
  StreamRoute,
  UnaryRoute,
} from '../protocols/shared/call-route.js';
import type { CallTracker } from './call-tracker.js';
import type { RequestLimits } from '../core/options/request-limits.interface.js';
import type { InflightCall } from './inflight-call.js';
import { framingFault } from './message-framing.js';
import { CallStatusError } from '../core/errors/call-status.error.js';

const SHUTTING_DOWN: CallFailure = { code: GrpcStatus.UNAVAILABLE, details: 'Server is shutting down' };

/** @internal What every model call handler needs besides its route. */
export interface CallHandlerContext {
  readonly tracker: CallTracker;
  /** Starts and ends each call's OpenTelemetry server span (spans only exist when an SDK records them). */
  readonly tracer?: CallTracer;
  /** Told of each call's end; absent when nothing (metrics, logs) wants to know. */
  readonly observe?: CallObserver;
  /** The module's `limits`, resolved. */
  readonly limits: Readonly<Required<RequestLimits>>;
}

/** @internal grpc-js handler of a unary route: exactly one answer per call, whatever happens. */
export function createUnaryHandler(route: UnaryRoute, context: CallHandlerContext): handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    let response: Buffer | undefined;
    const ending = trackCall(route, call, context, (failure) => callback(failure, response));
    const { inflight } = ending;
    if (!inflight) return;
    const fault = framingFault(call.request, call);
    if (fault) return ending.end({ code: GrpcStatus.INTERNAL, details: fault });
    // NOTE: once a call is cancelled or timed out, what its handler throws next is expected, not a failure to log.
    const fail = (error: unknown) => ending.done || ending.end(route.failure(error));
    const succeed = (bytes: Buffer) => {
      response = bytes;
      ending.end();
    };
    try {
      // No closure on the untraced hot path.
      const result = inflight.trace
        ? inCallContext(inflight, () => route.answer(call.request, call, inflight))
        : route.answer(call.request, call, inflight);
      if (result instanceof Promise) result.then(succeed, fail);
      else succeed(result);
    } catch (error) {
      fail(error);
    }
  };
}

/**
 * @internal grpc-js handler of a server-streaming route: pulls one result at
 * a time, writes it, and waits for the HTTP/2 window when the client reads
 * slower than the model yields. A cancel or deadline stops the producer (a
 * generator's `finally` runs).
 */
export function createStreamHandler(
  route: StreamRoute,
  context: CallHandlerContext,
): handleServerStreamingCall<Buffer, Buffer> {
  return (call) =>
    serveStream(route, call, context, (inflight) => {
      const fault = framingFault(call.request, call);
      return fault ? Promise.reject(new CallStatusError(GrpcStatus.INTERNAL, fault)) : pump(route, call, inflight);
    });
}

/**
 * @internal grpc-js handler of a bidirectional exchange route: each request
 * starts as soon as it arrives (so requests on one stream can share a batch),
 * and its responses are written in request order, with the same flow control
 * as a server stream. The call ends once the client has finished sending and
 * every response is written.
 */
export function createExchangeHandler(
  route: ExchangeRoute,
  context: CallHandlerContext,
): handleBidiStreamingCall<Buffer, Buffer> {
  return (call) =>
    serveStream(route, call, context, (inflight) =>
      writeExchanges(route, call, inflight, context.limits.maxPendingPerStream),
    );
}

/**
 * @internal grpc-js handler of a client-streaming route: the handler pulls the
 * request messages (see `incoming`), and its one result is the answer.
 */
export function createClientStreamHandler(
  route: ClientStreamRoute,
  context: CallHandlerContext,
): handleClientStreamingCall<Buffer, Buffer> {
  return (call, callback) => {
    let response: Buffer | undefined;
    const ending = trackCall(route, call, context, (failure) => callback(failure, response));
    const { inflight } = ending;
    if (!inflight) return;
    inCallContext(inflight, () => route.answerStream(incoming(call, inflight), call, inflight)).then(
      (bytes) => {
        response = bytes;
        ending.end();
      },
      (error) => ending.done || ending.end(route.failure(error)),
    );
  };
}

/**
 * @internal grpc-js handler of a bidirectional model call: request messages
 * are pulled as the handler reads them, responses written as it yields them,
 * each side with HTTP/2 flow control.
 */
export function createDuplexHandler(
  route: DuplexRoute,
  context: CallHandlerContext,
): handleBidiStreamingCall<Buffer, Buffer> {
  return (call) =>
    serveStream(route, call, context, async (inflight) =>
      write(await route.openDuplex(incoming(call, inflight), call, inflight), call, inflight),
    );
}

/** @internal The grpc-js handlers of a protocol service, by method name: each route's, as its kind. */
export function createServiceHandlers(
  service: ProtocolService,
  context: CallHandlerContext,
): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const [name, served] of Object.entries(service.routes)) handlers[name] = createHandler(served, context);
  return handlers;
}

function createHandler(served: ServiceRoute, context: CallHandlerContext): UntypedHandleCall {
  switch (served.kind) {
    case 'unary':
      return createUnaryHandler(served.route, context);
    case 'serverStream':
      return createStreamHandler(served.route, context);
    case 'clientStream':
      return createClientStreamHandler(served.route, context);
    case 'duplex':
      return createDuplexHandler(served.route, context);
    case 'exchange':
      return createExchangeHandler(served.route, context);
  }
}

/**
 * How long one stream's messages may be handed to its handler before the
 * event loop gets a turn, in ms. A client that sends a flow-control window
 * of tiny messages (2M in 16 MiB) would otherwise keep it from every other
 * call for seconds: grpc-js and the stream hand over what was received in
 * microtasks, never returning to the event loop.
 */
const MAX_TURN_MS = 4;
/** Messages between two readings of the clock for that. */
const MESSAGES_PER_CLOCK_READ = 64;

/**
 * A call's request messages, read one at a time as they are asked for: the
 * call's readable buffers a few messages, then HTTP/2 flow control holds the
 * client back. A cancel, a disconnect or a passed deadline makes the pending
 * read throw the call's status; a client's half-close ends the iteration.
 */
function incoming(
  call: ServerReadableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>,
  inflight: InflightCall,
): AsyncIterable<Buffer> {
  return {
    async *[Symbol.asyncIterator]() {
      const { signal } = inflight;
      // Not destroyed when reading ends: a duplex call still has its responses and status to send.
      const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
      let turnStarted = performance.now();
      for (;;) {
        if (signal.aborted) throw signal.reason;
        // Messages already received reach the handler without the event loop turning; let other calls (health) in now and then.
        if (inflight.messagesIn % MESSAGES_PER_CLOCK_READ === 0 && performance.now() - turnStarted > MAX_TURN_MS) {
          await new Promise(setImmediate);
          turnStarted = performance.now();
        }
        const next = await nextUnlessAborted(messages, signal);
        if (next.done) return;
        const fault = framingFault(next.value, call);
        if (fault) throw new CallStatusError(GrpcStatus.INTERNAL, fault);
        inflight.messagesIn++;
        yield next.value;
      }
    },
  };
}

/**
 * The next message, or the call's status once its signal fires.
 *
 * NOTE: one abort listener per read, removed when the read settles: racing
 * every read against one promise for the whole call would leave a reaction
 * on it per message, and a million-message stream would hold them all.
 */
function nextUnlessAborted(messages: AsyncIterator<Buffer>, signal: AbortSignal): Promise<IteratorResult<Buffer>> {
  return new Promise((resolve, reject) => {
    const aborted = () => reject(signal.reason);
    signal.addEventListener('abort', aborted, { once: true });
    messages.next().then(
      (next) => {
        signal.removeEventListener('abort', aborted);
        resolve(next);
      },
      (error) => {
        signal.removeEventListener('abort', aborted);
        reject(error);
      },
    );
  });
}

/** Tracks a streaming call, runs `write` to the end of its responses, and ends it with OK or the failure's status. */
function serveStream(
  route: StreamRoute | ExchangeRoute | DuplexRoute,
  call: ServerWritableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>,
  context: CallHandlerContext,
  run: (inflight: InflightCall) => Promise<void>,
): void {
  const ending = trackCall(route, call, context, (failure) => (failure ? call.emit('error', failure) : call.end()));
  const { inflight } = ending;
  if (!inflight) return;
  inCallContext(inflight, () => run(inflight)).then(
    () => ending.end(),
    (error) => ending.done || ending.end(route.failure(error)),
  );
}

/**
 * Ends a call exactly once: sends its status, stops tracking it, ends its
 * span, tells the observer. (A class rather than a closure with a getter:
 * this is made for every call.)
 */
class CallEnding {
  done = false;
  inflight?: InflightCall;
  private readonly started: number;

  constructor(
    private readonly route: UnaryRoute | StreamRoute | ExchangeRoute | ClientStreamRoute | DuplexRoute,
    private readonly call: ModelCall,
    private readonly context: CallHandlerContext,
    private readonly send: (failure: CallFailure | null) => void,
    private readonly traced: TracedCall | undefined,
  ) {
    this.started = context.observe ? performance.now() : 0;
  }

  end(failure?: CallFailure): void {
    if (this.done) return;
    this.done = true;
    const { inflight, route, context, traced, started } = this;
    if (inflight) context.tracker.end(inflight);
    this.send(failure ?? null);
    const code = failure?.code ?? GrpcStatus.OK;
    const stream =
      inflight && (inflight.messagesIn > 0 || inflight.messagesOut > 0) ? streamFigures(inflight, started) : undefined;
    if (traced) context.tracer!.end(traced, code, failure?.details, spanAttributes(inflight, stream));
    context.observe?.({
      method: route.method,
      protocol: route.protocol,
      model: inflight?.model?.name,
      stream,
      call: this.call,
      code,
      seconds: (performance.now() - started) / 1000,
    });
  }
}

/**
 * Starts tracking a call, and gives the one way to end it. While the server
 * drains, the call is refused at once (`inflight` is then undefined).
 */
function trackCall(
  route: UnaryRoute | StreamRoute | ExchangeRoute | ClientStreamRoute | DuplexRoute,
  call: ModelCall,
  context: CallHandlerContext,
  send: (failure: CallFailure | null) => void,
): CallEnding {
  const traced = context.tracer?.start(call.getPath(), call.metadata, route.protocol);
  const ending = new CallEnding(route, call, context, send, traced);
  const inflight = context.tracker.begin(call, (reason) => ending.end(reason));
  ending.inflight = inflight;
  if (inflight) inflight.trace = traced;
  else ending.end(SHUTTING_DOWN);
  return ending;
}

/** Messages each way and the time to the first response, when the observer's clock ran. */
function streamFigures(inflight: InflightCall, started: number) {
  const first = inflight.firstResponseAt;
  return {
    in: inflight.messagesIn,
    out: inflight.messagesOut,
    firstResponseSeconds: first === undefined || started === 0 ? undefined : (first - started) / 1000,
  };
}

/** What a call's span learns by its end: the model, and for streams the message counts. */
function spanAttributes(inflight: InflightCall | undefined, stream: ReturnType<typeof streamFigures> | undefined) {
  return {
    ...(inflight?.model === undefined
      ? {}
      : { 'blazerpc.model': inflight.model.name, 'blazerpc.model_version': inflight.model.version }),
    ...(stream ? { 'blazerpc.messages_in': stream.in, 'blazerpc.messages_out': stream.out } : {}),
  };
}

/** Runs a call's work with its span active, so the pipeline's (and the user's) spans are its children. */
function inCallContext<T>(inflight: InflightCall, work: () => T): T {
  const traced = inflight.trace;
  return traced && otel ? otel.context.with(traced.context, work) : work();
}

async function pump(
  route: StreamRoute,
  call: ServerWritableStream<Buffer, Buffer>,
  inflight: InflightCall,
): Promise<void> {
  await write(await route.open(call.request, call, inflight), call, inflight);
}

/** Writes a stream's results as they come, waiting for the client to read when HTTP/2 says so. */
async function write(
  { source, encode }: { source: StreamSource; encode: (result: unknown) => Buffer },
  call: ServerWritableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>,
  inflight: InflightCall,
): Promise<void> {
  const { signal } = inflight;
  const stop = () => void source.return?.().catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  try {
    while (!signal.aborted) {
      const next = await source.next();
      if (next.done || signal.aborted) break;
      const flowing = call.write(encode(next.value));
      if (inflight.firstResponseAt === undefined) {
        inflight.firstResponseAt = performance.now();
        inflight.trace?.span.addEvent('blazerpc.first_response');
      }
      inflight.messagesOut++;
      if (!flowing) await drained(call, signal);
    }
  } catch (error) {
    await source.return?.().catch(() => undefined);
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/**
 * Reads requests as they come, starts each at once, and writes their
 * responses in request order (a detached request's as they come). At most
 * `maxUnanswered` requests are read but not yet fully answered (a response
 * the client has not read counts: its request is not done until the write
 * is taken); at the bound the call stops reading, so HTTP/2 flow control
 * holds the client back instead of the server queueing what it sends.
 */
async function writeExchanges(
  route: ExchangeRoute,
  call: ServerDuplexStream<Buffer, Buffer>,
  inflight: InflightCall,
  maxUnanswered: number,
): Promise<void> {
  const { signal } = inflight;
  const pending: Array<AsyncIterator<Buffer>> = [];
  const detached = new Set<Promise<void>>();
  let unanswered = 0;
  // Reading stops while the stream is at its bound (`full`) or lets the event loop turn (`yielding`).
  let full = false;
  let yielding = false;
  let paused = false;
  let turnStarted = performance.now();
  const flow = () => {
    const stop = full || yielding;
    if (stop === paused) return;
    paused = stop;
    if (stop) call.pause();
    else call.resume();
  };
  const letEventLoopTurn = () => {
    yielding = false;
    turnStarted = performance.now();
    flow();
  };
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const answered = () => {
    if (--unanswered < maxUnanswered && full) {
      full = false;
      flow();
    }
  };
  const writeAll = async (responses: AsyncIterator<Buffer>) => {
    for (let next = await responses.next(); !next.done && !signal.aborted; next = await responses.next()) {
      if (!call.write(next.value)) await drained(call, signal);
      inflight.messagesOut++;
    }
  };
  const onData = (bytes: Buffer) => {
    if (signal.aborted) return;
    const fault = framingFault(bytes, call);
    if (fault) return inflight.abort(new CallStatusError(GrpcStatus.INTERNAL, fault));
    inflight.messagesIn++;
    const responses = route.exchange(bytes, call, inflight);
    if (responses.detached) {
      // Not counted: its call ends only once later requests are read, so counting it could stop reading for good.
      // (There is one per streamed-input model call, its input is the feed's bounded queue, and its writes wait for the client.)
      const run = writeAll(responses[Symbol.asyncIterator]()).finally(() => {
        detached.delete(run);
        notify();
      });
      run.catch(() => undefined);
      detached.add(run);
      return notify();
    }
    pending.push(responses[Symbol.asyncIterator]());
    if (++unanswered >= maxUnanswered) full = true;
    // Requests already received arrive without the event loop turning; let other calls (health) in now and then.
    if (
      inflight.messagesIn % MESSAGES_PER_CLOCK_READ === 0 &&
      !yielding &&
      performance.now() - turnStarted > MAX_TURN_MS
    ) {
      yielding = true;
      setImmediate(letEventLoopTurn);
    }
    flow();
    notify();
  };
  const onEnd = () => {
    ended = true;
    route.endOfRequests?.(inflight);
    notify();
  };
  call.on('data', onData);
  call.once('end', onEnd);
  signal.addEventListener('abort', notify, { once: true });
  try {
    while (!signal.aborted) {
      const responses = pending.shift();
      if (!responses) {
        if (ended && detached.size === 0) return;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      await writeAll(responses);
      answered();
    }
  } finally {
    call.off('data', onData);
    call.off('end', onEnd);
    signal.removeEventListener('abort', notify);
    for (const responses of pending) void responses.return?.()?.catch(() => undefined);
  }
}

function drained(
  call: ServerWritableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
