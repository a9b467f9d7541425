import {
  Client,
  compressionAlgorithms,
  Metadata,
  status as GrpcStatus,
  type CallOptions as GrpcCallOptions,
  type ClientReadableStream,
} from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { HEALTH_PROTO, HEALTH_SERVICE } from '../health/health.proto.js';
import { loadPackageDefinition } from '../schema/package-definition.js';
import type { BlazeClientOptions, BlazeModelMap, CallOptions } from './blaze-client-options.interface.js';
import { BlazeRpcClientError } from './blaze-rpc-client.error.js';
import { channelCredentials } from './client-credentials.js';
import { fromResponseMessage, toRequestMessage } from './client-message.convert.js';
import { ClientModelCatalog, type ClientModel } from './client-model-catalog.js';
import { loadGrpcClientConstructor } from './grpc-stub.js';
import { discoverViaReflection } from './reflection-discovery.js';

/** A health status as `grpc.health.v1` reports it. */
export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

type AnyModels = BlazeModelMap;

/**
 * A client for a nestjs-blazerpc server that needs no server code and no
 * .proto: it learns the models over server reflection. Tensors go in and
 * come out as `Tensor`; errors are `BlazeRpcClientError` with the status name.
 *
 * @example
 * ```ts
 * await using client = await BlazeClient.connect('localhost:50051', { timeoutMs: 5000 });
 * const probabilities = await client.predict('iris', { features: new Tensor('float32', [1, 4], data) });
 * for await (const word of client.stream('tokens', { prompt: 'the quick brown fox' })) console.log(word);
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
   * @throws BlazeRpcClientError when the server cannot be reached or offers no models
   */
  static async connect<M extends BlazeModelMap = AnyModels>(address: string, options: BlazeClientOptions = {}): Promise<BlazeClient<M>> {
    const compression = compressionAlgorithms[options.compression ?? 'identity'];
    const channel = new Client(address, channelCredentials(options), {
      // Tensors are large: HTTP/2's 64 KiB default window would make big responses crawl (as on the server).
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
      ...options.channelOptions,
      'grpc.default_compression_algorithm': compression,
      interceptors: options.interceptors,
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

  /** Calls a unary model; resolves to its result (`Tensor`s for tensors, an object for named outputs). */
  async predict<K extends keyof M & string>(model: K, inputs: M[K]['inputs'], options: CallOptions = {}): Promise<M[K]['result']> {
    const target = this.catalog.resolve(model, options.version);
    if (target.streaming) {
      throw new BlazeRpcClientError(GrpcStatus.FAILED_PRECONDITION, `Model '${model}' streams; call stream() instead`);
    }
    const request = toRequestMessage(target, inputs as Record<string, unknown>);
    throwIfAborted(options.signal);
    return new Promise((resolve, reject) => {
      const { path, requestSerialize, responseDeserialize } = target.method;
      const call = this.channel.makeUnaryRequest(path, requestSerialize, responseDeserialize, request, this.metadataFor(options), this.callOptions(options), (error, response) =>
        error ? reject(BlazeRpcClientError.from(error)) : resolve(fromResponseMessage(target, response as Record<string, unknown>) as M[K]['result']),
      );
      options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }

  /**
   * Calls a streaming model. Leaving the loop early (or aborting `signal`)
   * cancels the call on the server.
   */
  async *stream<K extends keyof M & string>(model: K, inputs: M[K]['inputs'], options: CallOptions = {}): AsyncGenerator<M[K]['result'], void, undefined> {
    const target = this.catalog.resolve(model, options.version);
    const { path, requestSerialize, responseDeserialize } = target.method;
    const request = toRequestMessage(target, inputs as Record<string, unknown>);
    throwIfAborted(options.signal);
    const call: ClientReadableStream<object> = this.channel.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request, this.metadataFor(options), this.callOptions(options));
    const cancel = () => call.cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    let ended = false;
    call.on('end', () => (ended = true));
    try {
      for await (const message of call) {
        yield fromResponseMessage(target, message as Record<string, unknown>) as M[K]['result'];
      }
      ended = true;
    } catch (error) {
      ended = true;
      throw BlazeRpcClientError.from(error);
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      if (!ended) {
        call.on('error', () => undefined);
        call.cancel();
      }
    }
  }

  /** Health of the server (`''`), the inference service, or one model by name. */
  async health(service = '', options: Pick<CallOptions, 'timeoutMs' | 'deadline'> = {}): Promise<HealthStatus> {
    const Health = loadGrpcClientConstructor(HEALTH_PROTO, HEALTH_SERVICE);
    const stub = new Health('unused', null as never, { channelOverride: this.channel.getChannel() }) as unknown as {
      Check: (request: object, metadata: Metadata, options: GrpcCallOptions, callback: (error: unknown, response: { status: HealthStatus }) => void) => void;
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

  private metadataFor(options: Pick<CallOptions, 'metadata'>): Metadata {
    const metadata = this.defaultMetadata.clone();
    if (options.metadata) metadata.merge(toMetadata(options.metadata));
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
    const text = options.proto.trimEnd().endsWith('.proto') && !options.proto.includes('\n') ? readFileSync(options.proto, 'utf8') : options.proto;
    return new ClientModelCatalog(loadPackageDefinition(text), protoPackage);
  }
  const deadline = () => (options.timeoutMs === undefined ? undefined : new Date(Date.now() + options.timeoutMs));
  const discovered = await discoverViaReflection(channel, () => toMetadata(options.metadata), deadline);
  return new ClientModelCatalog(discovered.pkg, discovered.protoPackage);
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
