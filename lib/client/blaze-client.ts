import { clientTracingInterceptor } from '../observability/client-tracing.interceptor.js';
import {
  Client,
  compressionAlgorithms,
  Metadata,
  status as GrpcStatus,
  type CallOptions as GrpcCallOptions,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
} from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { HEALTH_PROTO, HEALTH_SERVICE } from '../protocols/shared/health.proto.js';
import { loadPackageDefinition } from '../core/schema/package-definition.js';
import { modelsDeclaredIn } from '../core/schema/proto-generator.js';
import type { BlazeClientOptions, CallOptions, DetailedCallOptions } from './blaze-client-options.interface.js';
import { BlazeDuplex } from './blaze-duplex.js';
import { BlazeRpcClientError } from './blaze-rpc-client.error.js';
import type { CallResult } from './call-details.interface.js';
import { CallWatch } from './call-watch.js';
import { channelCredentials } from './client-credentials.js';
import { fromResponseMessage, toRequestMessage } from './client-message.convert.js';
import { channelTarget, serviceConfigOption } from './client-service-config.js';
import { ClientModelCatalog, type ClientModel } from './client-model-catalog.js';
import { loadGrpcClientConstructor } from './grpc-stub.js';
import type { BlazeModelMap, ModelCallKind, ModelNamesOf } from './model-map.types.js';
import { readReplies, type BlazeStream } from './reply-stream.js';
import { discoverViaReflection } from './reflection-discovery.js';
import { writeAll } from './request-stream.js';

/** A health status as `grpc.health.v1` reports it. */
export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

type AnyModels = BlazeModelMap;

/** Messages for `upload()`: an array, a generator, a stream; pulled one at a time. */
export type MessageSource<T> = Iterable<T> | AsyncIterable<T>;

type CallMethod = 'predict' | 'stream' | 'upload' | 'duplex';

/** The kinds each method can call; `stream()` also reads a unary model's one reply (the wire allows it). */
const CALLABLE: Record<CallMethod, readonly ModelCallKind[]> = {
  predict: ['unary'],
  stream: ['server-stream', 'unary'],
  upload: ['client-stream'],
  duplex: ['bidi'],
};

const METHOD_FOR: Record<ModelCallKind, CallMethod> = {
  unary: 'predict',
  'server-stream': 'stream',
  'client-stream': 'upload',
  bidi: 'duplex',
};

const KIND_IN_WORDS: Record<ModelCallKind, string> = {
  unary: 'takes one request and answers once',
  'server-stream': 'streams its replies',
  'client-stream': 'takes a stream of request messages and answers once',
  bidi: 'streams both ways',
};

/**
 * A client for a nestjs-blazerpc server that needs no server code and no
 * .proto: it learns the models over server reflection. Tensors go in and
 * come out as `Tensor`; errors are `BlazeRpcClientError` with the status name.
 *
 * One method per kind of model (see `ClientModel.kind`): `predict()` (unary),
 * `stream()` (server streaming), `upload()` (client streaming) and `duplex()`
 * (both ways). Each takes `CallOptions`, including `waitForReady`; headers,
 * trailers and the final status are there for every kind: `{ withDetails: true }`
 * for `predict()`/`upload()`, `headers` and `details` on a stream or duplex.
 *
 * @example
 * ```ts
 * await using client = await BlazeClient.connect('localhost:50051', { timeoutMs: 5000 });
 * const probabilities = await client.predict('iris', { features: new Tensor('float32', [1, 4], data) });
 * for await (const word of client.stream('tokens', { prompt: 'the quick brown fox' })) console.log(word);
 * const words = await client.upload('tally', [{ text: 'the quick' }, { text: 'brown fox' }]);
 * const { result, trailers, status } = await client.predict('echo', { text: 'hi' }, { withDetails: true });
 * ```
 */
export class BlazeClient<M extends BlazeModelMap = AnyModels> {
  private readonly defaultMetadata: Metadata;

  private constructor(
    private readonly channel: Client,
    private readonly catalog: ClientModelCatalog,
    private readonly options: BlazeClientOptions,
  ) {
    this.defaultMetadata = toMetadata(options.metadata);
  }

  /**
   * Connects and learns the server's models: from `registry` or `proto` when
   * given, otherwise over server reflection.
   *
   * `address` is one gRPC target (`host:port`, or `dns:///name:port` for
   * every address a name resolves to), or several replicas' `ip:port`
   * addresses; calls to several go round-robin. Calls that fail UNAVAILABLE
   * are retried (see `retry`).
   * @throws BlazeRpcClientError when the server cannot be reached or offers no models
   */
  static async connect<M extends BlazeModelMap = AnyModels>(
    address: string | readonly string[],
    options: BlazeClientOptions = {},
  ): Promise<BlazeClient<M>> {
    const compression = compressionAlgorithms[options.compression ?? 'identity'];
    const target = channelTarget(address);
    const channel = new Client(target, channelCredentials(options), {
      // Tensors are large: HTTP/2's 64 KiB default window would make big responses crawl (as on the server).
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
      ...serviceConfigOption(options),
      ...options.channelOptions,
      'grpc.default_compression_algorithm': compression,
      // Client spans and traceparent first, so the app's own interceptors run inside the call's span.
      interceptors: [clientTracingInterceptor, ...(options.interceptors ?? [])],
    });
    try {
      const catalog = await loadCatalog(channel, options);
      return new BlazeClient<M>(channel, catalog, options);
    } catch (error) {
      channel.close();
      throw BlazeRpcClientError.from(error);
    }
  }

  /** The models (one entry per version) the server serves. */
  models(): ClientModel[] {
    return this.catalog.list();
  }

  /**
   * The model version a call to `name` goes to (the default version unless `version` is given).
   * @throws BlazeRpcClientError NOT_FOUND, listing what the server serves
   */
  model(name: string, version?: string): ClientModel {
    return this.catalog.resolve(name, version);
  }

  /**
   * Calls a unary model; resolves to its result (`Tensor`s for tensors, an
   * object for named outputs), or with `{ withDetails: true }` to
   * `{ result, metadata, trailers, status }`.
   * @throws BlazeRpcClientError with the call's status; FAILED_PRECONDITION, naming the method to use, for a model of another kind
   */
  predict<K extends ModelNamesOf<M, 'unary'>>(
    model: K,
    inputs: M[K]['inputs'],
    options: DetailedCallOptions,
  ): Promise<CallResult<M[K]['result']>>;
  predict<K extends ModelNamesOf<M, 'unary'>>(
    model: K,
    inputs: M[K]['inputs'],
    options?: CallOptions & { withDetails?: false },
  ): Promise<M[K]['result']>;
  async predict(
    model: string,
    inputs: object,
    options: CallOptions & { withDetails?: boolean } = {},
  ): Promise<unknown> {
    const target = this.target(model, options.version, 'predict');
    const request = toRequestMessage(target, inputs as Record<string, unknown>, model);
    throwIfAborted(options.signal);
    const watch = new CallWatch();
    const response = await new Promise<object>((resolve, reject) => {
      const { path, requestSerialize, responseDeserialize } = target.method;
      const call = this.channel.makeUnaryRequest(
        path,
        requestSerialize,
        responseDeserialize,
        request,
        this.metadataFor(options),
        this.callOptions(options),
        (error, message) => (error ? reject(BlazeRpcClientError.from(error)) : resolve(message as object)),
      );
      watch.attach(call);
      cancelOnAbort(options.signal, () => call.cancel(), watch);
    });
    const result = fromResponseMessage(target, response as Record<string, unknown>);
    // grpc-js reports the status just after the response: the details are at most a tick away.
    return options.withDetails ? { result, ...(await watch.details) } : result;
  }

  /**
   * Calls a server-streaming model. Iterating starts the call; leaving the
   * loop early (or aborting `signal`) cancels it on the server. The returned
   * stream also tells the call's `headers` and, once it ended, its `details`.
   * @throws BlazeRpcClientError (from the loop) with the call's status; FAILED_PRECONDITION for a streaming-input model
   */
  stream<K extends ModelNamesOf<M, 'server-stream' | 'unary'>>(
    model: K,
    inputs: M[K]['inputs'],
    options: CallOptions = {},
  ): BlazeStream<M[K]['result']> {
    const watch = new CallWatch();
    const replies = this.streamReplies(model, inputs as Record<string, unknown>, options, watch) as AsyncGenerator<
      M[K]['result'],
      void,
      undefined
    >;
    return Object.assign(replies, { headers: watch.headers, details: watch.details });
  }

  /**
   * Calls a client-streaming model: sends each message of `messages` as it
   * comes (an array, a generator, a stream), pulling the next only when the
   * previous is accepted, so a slow server slows the producer instead of
   * filling memory; then half-closes and resolves to the model's one result
   * (or, with `{ withDetails: true }`, to `{ result, metadata, trailers, status }`).
   * If the call ends before the source does (the server answered or failed
   * early, the deadline passed, `signal` aborted), the source is stopped and
   * the call's own outcome decides: its result, or its status thrown.
   *
   * @example
   * ```ts
   * async function* lines() { for await (const text of readLines()) yield { text }; }
   * const words = await client.upload('tally', lines(), { timeoutMs: 60_000 });
   * ```
   * @throws BlazeRpcClientError with the call's status; FAILED_PRECONDITION for a model that is not client-streaming.
   *   An error of the source itself cancels the call and is rethrown as is.
   */
  upload<K extends ModelNamesOf<M, 'client-stream'>>(
    model: K,
    messages: MessageSource<M[K]['inputs']>,
    options: DetailedCallOptions,
  ): Promise<CallResult<M[K]['result']>>;
  upload<K extends ModelNamesOf<M, 'client-stream'>>(
    model: K,
    messages: MessageSource<M[K]['inputs']>,
    options?: CallOptions & { withDetails?: false },
  ): Promise<M[K]['result']>;
  async upload(
    model: string,
    messages: MessageSource<object>,
    options: CallOptions & { withDetails?: boolean } = {},
  ): Promise<unknown> {
    const target = this.target(model, options.version, 'upload');
    throwIfAborted(options.signal);
    const watch = new CallWatch();
    const { path, requestSerialize, responseDeserialize } = target.method;
    let call!: ClientWritableStream<object>;
    const response = new Promise<object>((resolve, reject) => {
      call = this.channel.makeClientStreamRequest(
        path,
        requestSerialize,
        responseDeserialize,
        this.metadataFor(options),
        this.callOptions(options),
        (error, message) => (error ? reject(BlazeRpcClientError.from(error)) : resolve(message as object)),
      );
    });
    // Settled either way below; a source error must not leave the call's own rejection unhandled.
    response.catch(() => undefined);
    watch.attach(call);
    call.on('error', () => undefined);
    cancelOnAbort(options.signal, () => call.cancel(), watch);
    try {
      await writeAll(
        call,
        messages,
        (message) => toRequestMessage(target, message as Record<string, unknown>, model),
        watch,
      );
    } catch (error) {
      call.cancel();
      throw error;
    }
    const result = fromResponseMessage(target, (await response) as Record<string, unknown>);
    return options.withDetails ? { result, ...(await watch.details) } : result;
  }

  /**
   * Opens a call to a bidirectional model: `write()` messages (each awaited
   * write respects backpressure), `end()` when done, and iterate the replies;
   * leaving the loop early, `cancel()` or aborting `signal` cancels the call.
   * `headers` and `details` tell the call's metadata and status.
   *
   * @example
   * ```ts
   * const relay = client.duplex('relay', { timeoutMs: 10_000 });
   * void (async () => { for (const text of texts) await relay.write({ text }); relay.end(); })();
   * for await (const reply of relay) console.log(reply);
   * ```
   * @throws BlazeRpcClientError NOT_FOUND for an unknown model; FAILED_PRECONDITION for a model that is not bidirectional
   */
  duplex<K extends ModelNamesOf<M, 'bidi'>>(
    model: K,
    options: CallOptions = {},
  ): BlazeDuplex<M[K]['inputs'], M[K]['result']> {
    const target = this.target(model, options.version, 'duplex');
    throwIfAborted(options.signal);
    const watch = new CallWatch();
    const { path, requestSerialize, responseDeserialize } = target.method;
    const call: ClientDuplexStream<object, object> = this.channel.makeBidiStreamRequest(
      path,
      requestSerialize,
      responseDeserialize,
      this.metadataFor(options),
      this.callOptions(options),
    );
    watch.attach(call);
    // The status also reaches the reader and writers; an 'error' event nobody listens to would crash the process.
    call.on('error', () => undefined);
    cancelOnAbort(options.signal, () => call.cancel(), watch);
    return new BlazeDuplex<M[K]['inputs'], M[K]['result']>(
      call,
      (message) => toRequestMessage(target, message as Record<string, unknown>, model),
      (message) => fromResponseMessage(target, message) as M[K]['result'],
      watch,
    );
  }

  /** Health of the server (`''`), the inference service, or one model by name. */
  async health(service = '', options: Pick<CallOptions, 'timeoutMs' | 'deadline'> = {}): Promise<HealthStatus> {
    const Health = loadGrpcClientConstructor(HEALTH_PROTO, HEALTH_SERVICE);
    const stub = new Health('unused', null as never, { channelOverride: this.channel.getChannel() }) as unknown as {
      Check: (
        request: object,
        metadata: Metadata,
        options: GrpcCallOptions,
        callback: (error: unknown, response: { status: HealthStatus }) => void,
      ) => void;
    };
    return new Promise((resolve, reject) =>
      stub.Check({ service }, this.metadataFor({}), this.callOptions(options), (error, response) =>
        error ? reject(BlazeRpcClientError.from(error)) : resolve(response.status),
      ),
    );
  }

  /**
   * Waits until `service` reports SERVING, polling health every `intervalMs`.
   * @throws BlazeRpcClientError DEADLINE_EXCEEDED when it is not ready within `timeoutMs`
   */
  async waitUntilReady(options: { timeoutMs?: number; intervalMs?: number; service?: string } = {}): Promise<void> {
    return waitForHealth((timeoutMs) => this.health(options.service ?? '', { timeoutMs }), options);
  }

  /** Closes the channel; calls in flight are cancelled. */
  close(): void {
    this.channel.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  private async *streamReplies(
    model: string,
    inputs: Record<string, unknown>,
    options: CallOptions,
    watch: CallWatch,
  ): AsyncGenerator<unknown, void, undefined> {
    let target: ClientModel;
    let request: Record<string, unknown>;
    try {
      target = this.target(model, options.version, 'stream');
      request = toRequestMessage(target, inputs, model);
      throwIfAborted(options.signal);
    } catch (error) {
      watch.endBeforeStart(error);
      throw error;
    }
    const { path, requestSerialize, responseDeserialize } = target.method;
    const call: ClientReadableStream<object> = this.channel.makeServerStreamRequest(
      path,
      requestSerialize,
      responseDeserialize,
      request,
      this.metadataFor(options),
      this.callOptions(options),
    );
    watch.attach(call);
    call.on('error', () => undefined);
    cancelOnAbort(options.signal, () => call.cancel(), watch);
    yield* readReplies(call, (message) => fromResponseMessage(target, message), watch);
  }

  /** The model a method calls; FAILED_PRECONDITION naming the right method when its kind does not fit. */
  private target(model: string, version: string | undefined, method: CallMethod): ClientModel {
    const target = this.catalog.resolve(model, version);
    if (!CALLABLE[method].includes(target.kind)) {
      throw new BlazeRpcClientError(
        GrpcStatus.FAILED_PRECONDITION,
        `Model '${model}' ${KIND_IN_WORDS[target.kind]}; call ${METHOD_FOR[target.kind]}() instead of ${method}()`,
      );
    }
    return target;
  }

  private metadataFor(options: Pick<CallOptions, 'metadata' | 'waitForReady'>): Metadata {
    const metadata = this.defaultMetadata.clone();
    if (options.metadata) metadata.merge(toMetadata(options.metadata));
    // grpc-js reads wait-for-ready from the call's metadata options.
    if (options.waitForReady) metadata.setOptions({ waitForReady: true });
    return metadata;
  }

  private callOptions(options: Pick<CallOptions, 'timeoutMs' | 'deadline'>): GrpcCallOptions {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const deadline = options.deadline ?? (timeoutMs === undefined ? undefined : new Date(Date.now() + timeoutMs));
    return deadline ? { deadline } : {};
  }
}

/**
 * Polls a health check until SERVING or the timeout; unreachable servers
 * count as not ready yet. Shared by `BlazeClient.waitUntilReady` and the CLI.
 */
export async function waitForHealth(
  check: (timeoutMs: number) => Promise<HealthStatus>,
  { timeoutMs = 30_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < until) {
    try {
      const status = await check(Math.max(1, Math.min(intervalMs * 5, until - Date.now())));
      if (status === 'SERVING') return;
      last = status;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, until - Date.now()))));
  }
  throw new BlazeRpcClientError(GrpcStatus.DEADLINE_EXCEEDED, `Server not ready after ${timeoutMs} ms (last: ${last})`);
}

async function loadCatalog(channel: Client, options: BlazeClientOptions): Promise<ClientModelCatalog> {
  if (options.registry) {
    const { registry } = options;
    return new ClientModelCatalog(loadPackageDefinition(registry.protoText), registry.protoPackage, registry.list());
  }
  const protoPackage = options.protoPackage ?? 'blazerpc';
  if (options.proto) {
    const text =
      options.proto.trimEnd().endsWith('.proto') && !options.proto.includes('\n')
        ? readFileSync(options.proto, 'utf8')
        : options.proto;
    // A .proto nestjs-blazerpc generated says each version's name and version in a comment: reflection carries no comments.
    return new ClientModelCatalog(loadPackageDefinition(text), protoPackage, modelsDeclaredIn(text));
  }
  const deadline = () => (options.timeoutMs === undefined ? undefined : new Date(Date.now() + options.timeoutMs));
  const discovered = await discoverViaReflection(channel, () => toMetadata(options.metadata), deadline);
  return new ClientModelCatalog(discovered.pkg, discovered.protoPackage);
}

/** Cancels the call when `signal` aborts, and forgets the signal once the call has ended (signals often outlive calls). */
function cancelOnAbort(signal: AbortSignal | undefined, cancel: () => void, watch: CallWatch): void {
  if (!signal) return;
  signal.addEventListener('abort', cancel, { once: true });
  void watch.details.then(() => signal.removeEventListener('abort', cancel));
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BlazeRpcClientError(GrpcStatus.CANCELLED, 'Cancelled before the call started');
}

function toMetadata(values: Record<string, string> | Metadata | undefined): Metadata {
  if (values instanceof Metadata) return values.clone();
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(values ?? {})) metadata.set(key, value);
  return metadata;
}
