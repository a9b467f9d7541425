import {
  Client,
  compressionAlgorithms,
  status as GrpcStatus,
  type ClientDuplexStream,
  type Metadata,
} from '@grpc/grpc-js';
import { BlazeRpcClientError } from '../blaze-rpc-client.error.js';
import { channelCredentials } from '../client-credentials.js';
import { callMetadata, grpcCallOptions, throwIfAborted, toMetadata } from './oip-call-options.js';
import type {
  OipBytesAs,
  OipCallOptions,
  OipClientOptions,
  OipInferOptions,
  OipStreamOptions,
  OipWaitOptions,
} from './oip-client-options.interface.js';
import { OipInferStream, type OipStreamResponse } from './oip-infer-stream.js';
import {
  modelConfigFrom,
  modelMetadataFrom,
  modelStatisticsFrom,
  repositoryIndexFrom,
  serverMetadataFrom,
} from './oip-metadata.decode.js';
import type {
  OipModelConfig,
  OipModelMetadata,
  OipModelStatistics,
  OipRepositoryModel,
  OipServerMetadata,
} from './oip-metadata.interface.js';
import type { ModelInferResponseMessage } from './oip-messages.js';
import { encodeInferRequest } from './oip-request.encode.js';
import { decodeInferResponse } from './oip-response.decode.js';
import { pollUntilReady } from './oip-readiness.js';
import { oipMethod, type OipRpc } from './oip-service.js';
import type { OipInferResult, OipInputs } from './oip-tensors.interface.js';

/**
 * A client for any Open Inference Protocol (KServe v2) gRPC server: this
 * library's, Triton, KServe runtimes, MLServer. It speaks the standard
 * `inference.GRPCInferenceService` and needs no discovery: the constructor
 * connects lazily, and every method is one rpc. Errors are
 * `BlazeRpcClientError`s carrying the gRPC `code`.
 *
 * @example
 * ```ts
 * const client = new OipClient('localhost:8001', { timeoutMs: 5000 });
 * await client.waitUntilReady({ model: 'iris' });
 * const { outputs } = await client.infer('iris', { features: new Tensor('float32', [1, 4], data) });
 * console.log(outputs.probabilities);
 * client.close();
 * ```
 */
export class OipClient {
  private readonly channel: Client;
  private readonly defaultMetadata: Metadata;
  private readonly bytesAs: OipBytesAs;
  private closed = false;

  /**
   * @param address `host:port` of the server
   */
  constructor(
    readonly address: string,
    private readonly options: OipClientOptions = {},
  ) {
    this.channel = new Client(address, channelCredentials(options), {
      // Tensors are large: HTTP/2's 64 KiB default window would make big responses crawl (as BlazeClient does).
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
      ...options.channelOptions,
      'grpc.default_compression_algorithm': compressionAlgorithms[options.compression ?? 'identity'],
      interceptors: options.interceptors,
    });
    this.defaultMetadata = toMetadata(options.metadata);
    this.bytesAs = options.bytesAs ?? 'string';
  }

  /** Whether the server is live (it answers; it may not be ready to infer yet). */
  async serverLive(options: OipCallOptions = {}): Promise<boolean> {
    return (await this.unary<{ live: boolean }>('ServerLive', {}, options)).live;
  }

  /** Whether the server is ready to serve inferences. */
  async serverReady(options: OipCallOptions = {}): Promise<boolean> {
    return (await this.unary<{ ready: boolean }>('ServerReady', {}, options)).ready;
  }

  /** Whether a model (version) is ready to serve inferences. */
  async modelReady(name: string, version?: string, options: OipCallOptions = {}): Promise<boolean> {
    return (await this.unary<{ ready: boolean }>('ModelReady', { name, version: version ?? '' }, options)).ready;
  }

  /** The server's name, version and protocol extensions. */
  async serverMetadata(options: OipCallOptions = {}): Promise<OipServerMetadata> {
    return serverMetadataFrom(await this.unary('ServerMetadata', {}, options));
  }

  /** A model's versions, platform, and its inputs and outputs with datatypes and shapes. */
  async modelMetadata(name: string, version?: string, options: OipCallOptions = {}): Promise<OipModelMetadata> {
    return modelMetadataFrom(await this.unary('ModelMetadata', { name, version: version ?? '' }, options));
  }

  /** A model's configuration (Triton extension; UNIMPLEMENTED on servers without it). */
  async modelConfig(name: string, version?: string, options: OipCallOptions = {}): Promise<OipModelConfig> {
    return modelConfigFrom(await this.unary('ModelConfig', { name, version: version ?? '' }, options));
  }

  /** Inference statistics of one model (version), or of all models when `name` is absent (Triton extension). */
  async modelStatistics(name?: string, version?: string, options: OipCallOptions = {}): Promise<OipModelStatistics[]> {
    return modelStatisticsFrom(
      await this.unary('ModelStatistics', { name: name ?? '', version: version ?? '' }, options),
    );
  }

  /** The models in the server's repository, one entry per version, with their state (Triton extension). */
  async repositoryIndex(
    options: OipCallOptions & { ready?: boolean; repository?: string } = {},
  ): Promise<OipRepositoryModel[]> {
    const request = { repository_name: options.repository ?? '', ready: options.ready ?? false };
    return repositoryIndexFrom(await this.unary('RepositoryIndex', request, options));
  }

  /**
   * Runs one inference. Inputs travel as raw bytes; outputs come back as
   * `Tensor`s (views over the received bytes where aligned) and BYTES as
   * strings or Buffers (see `OipOutput`).
   * @throws BlazeRpcClientError with the server's status; INVALID_ARGUMENT before sending for inputs that cannot be encoded
   */
  async infer(model: string, inputs: OipInputs, options: OipInferOptions = {}): Promise<OipInferResult> {
    const request = encodeInferRequest(model, inputs, options);
    const response = await this.unary<ModelInferResponseMessage>('ModelInfer', request, options);
    return decodeInferResponse(response, options.bytesAs ?? this.bytesAs);
  }

  /**
   * Opens a `ModelStreamInfer` stream (Triton's bidirectional extension, for
   * decoupled models and for many requests over one call). The deadline, if
   * any, covers the whole stream.
   */
  streamInfer(options: OipStreamOptions = {}): OipInferStream {
    this.throwIfClosed();
    throwIfAborted(options.signal);
    const { path, requestSerialize, responseDeserialize } = oipMethod('ModelStreamInfer');
    const call: ClientDuplexStream<object, object> = this.channel.makeBidiStreamRequest(
      path,
      requestSerialize,
      responseDeserialize,
      callMetadata(this.defaultMetadata, options),
      grpcCallOptions(options, this.options.timeoutMs),
    );
    const cancel = () => call.cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    return new OipInferStream(call, options.bytesAs ?? this.bytesAs, () =>
      options.signal?.removeEventListener('abort', cancel),
    );
  }

  /**
   * Sends one request over `ModelStreamInfer` and yields every response to it
   * until the server closes the stream: the way to call a decoupled model
   * that answers one request with many responses. Leaving the loop early cancels the call.
   */
  async *stream(
    model: string,
    inputs: OipInputs,
    options: OipInferOptions = {},
  ): AsyncGenerator<OipStreamResponse, void, undefined> {
    const stream = this.streamInfer(options);
    try {
      stream.send(model, inputs, options);
    } catch (error) {
      stream.cancel();
      throw error;
    }
    stream.end();
    yield* stream;
  }

  /**
   * Waits until the server (and `model`, if given) is ready, polling every
   * `intervalMs`; unreachable servers count as not ready yet.
   * @throws BlazeRpcClientError DEADLINE_EXCEEDED when not ready within `timeoutMs`
   */
  async waitUntilReady(options: OipWaitOptions = {}): Promise<void> {
    const { model, version } = options;
    await pollUntilReady(async (timeoutMs) => {
      if (!(await this.serverReady({ timeoutMs }))) return 'the server is not ready';
      if (model !== undefined && !(await this.modelReady(model, version, { timeoutMs })))
        return `model '${model}' is not ready`;
      return undefined;
    }, options);
  }

  /** Closes the channel; calls in flight are cancelled. */
  close(): void {
    this.closed = true;
    this.channel.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  private unary<T>(rpc: OipRpc, request: object, options: OipCallOptions): Promise<T> {
    this.throwIfClosed();
    throwIfAborted(options.signal);
    const { path, requestSerialize, responseDeserialize } = oipMethod(rpc);
    return new Promise<T>((resolve, reject) => {
      const cancel = () => call.cancel();
      const call = this.channel.makeUnaryRequest(
        path,
        requestSerialize,
        responseDeserialize,
        request,
        callMetadata(this.defaultMetadata, options),
        grpcCallOptions(options, this.options.timeoutMs),
        (error, response) => {
          options.signal?.removeEventListener('abort', cancel);
          if (error) reject(BlazeRpcClientError.from(error));
          else resolve(response as T);
        },
      );
      options.signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  // grpc-js throws a bare Error for calls on a closed channel; callers get a status code like for any other failure.
  private throwIfClosed(): void {
    if (this.closed)
      throw new BlazeRpcClientError(GrpcStatus.FAILED_PRECONDITION, `The client for ${this.address} is closed`);
  }
}
