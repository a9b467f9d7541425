import type { ChannelCredentials, ChannelOptions, Interceptor, Metadata } from '@grpc/grpc-js';
import type { ModelRegistry } from '../core/registry/model.registry.js';

/** TLS for the client: the CA to trust, and for mTLS the client's own key and certificate (PEM). */
export interface ClientTlsOptions {
  /** CA certificate(s) to trust; the system's roots when absent. */
  rootCerts?: Buffer | string;
  /** Client private key, for mTLS. */
  privateKey?: Buffer | string;
  /** Client certificate chain, for mTLS. */
  certChain?: Buffer | string;
}

/**
 * gRPC's retry policy for calls that fail before the server answered
 * anything. Inference is idempotent, so a call refused by a draining or
 * restarting replica can safely go to another.
 */
export interface ClientRetryPolicy {
  /** Attempts in all, the first included (2 to 5; gRPC caps it at 5). @default 3 */
  maxAttempts?: number;
  /** Backoff before the first retry, in ms (randomized, as gRPC does). @default 50 */
  initialBackoffMs?: number;
  /** Longest backoff, in ms. @default 500 */
  maxBackoffMs?: number;
  /** Backoff growth per retry. @default 2 */
  backoffMultiplier?: number;
  /** The statuses retried. @default ['UNAVAILABLE'] */
  retryableStatusCodes?: readonly (
    'UNAVAILABLE' | 'RESOURCE_EXHAUSTED' | 'ABORTED' | 'DEADLINE_EXCEEDED' | 'INTERNAL' | 'UNKNOWN'
  )[];
}

/** Options of `BlazeClient.connect()`. */
export interface BlazeClientOptions {
  /**
   * How calls spread over the addresses the target resolves to:
   * `'round_robin'` sends each call to the next ready address (every
   * replica behind a headless Service's DNS name, e.g.
   * `dns:///models-headless.default.svc.cluster.local:50051`, or every
   * address given to `connect()`); `'pick_first'` (grpc's default) keeps
   * one connection to the first address that answers. With one server,
   * both are the same. Ignored when `channelOptions` has its own `grpc.service_config`.
   * @default 'round_robin'
   */
  loadBalancing?: 'pick_first' | 'round_robin';
  /**
   * Retry calls that fail UNAVAILABLE (a replica draining, restarting or
   * gone) on another attempt, which round_robin sends to another replica;
   * `false` turns retries off.
   * @default { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 500, backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] }
   */
  retry?: false | ClientRetryPolicy;
  /** Use TLS: `true` for the system's roots, or explicit certificates (mTLS with a key and chain). */
  tls?: boolean | ClientTlsOptions;
  /** Ready-made channel credentials; wins over `tls`. */
  credentials?: ChannelCredentials;
  /**
   * grpc-js channel options (e.g. `grpc.max_receive_message_length`). The
   * client opens a 16 MiB HTTP/2 receive window (`grpc-node.flow_control_window`)
   * unless this sets another.
   */
  channelOptions?: ChannelOptions;
  /** grpc-js client interceptors, run on every call. */
  interceptors?: Interceptor[];
  /**
   * Compress requests.
   * @default 'identity' (none)
   */
  compression?: 'identity' | 'deflate' | 'gzip';
  /** Metadata sent with every call (per-call metadata is added to it). */
  metadata?: Record<string, string> | Metadata;
  /** Deadline of every call that sets none, in milliseconds. */
  timeoutMs?: number;
  /**
   * How to learn the server's models instead of reflection: the .proto text
   * (or an in-process `ModelRegistry`, which also knows model names and versions).
   * A .proto as nestjs-blazerpc generated it also gives the names and
   * versions, from the comment above each version's rpcs; reflection carries
   * only rpc names (see `ClientModel.name`).
   */
  proto?: string;
  registry?: ModelRegistry;
  /**
   * Proto package of the server.
   * @default 'blazerpc'
   */
  protoPackage?: string;
}

/** Options of one call. */
export interface CallOptions {
  /** Model version; the default version when absent. */
  version?: string;
  /** Metadata for this call, added to the client's default metadata. */
  metadata?: Record<string, string> | Metadata;
  /** Deadline in milliseconds from now. */
  timeoutMs?: number;
  /** Absolute deadline; wins over `timeoutMs`. */
  deadline?: Date;
  /** Cancels the call when it fires. */
  signal?: AbortSignal;
  /**
   * Wait for the channel to connect instead of failing UNAVAILABLE at once
   * while the server cannot be reached (grpc's wait-for-ready): the call
   * starts when a connection succeeds, or fails at its deadline. Set a
   * deadline with it.
   * @default false
   */
  waitForReady?: boolean;
}

/**
 * Options of `predict()` or `upload()` that resolve to the result with the
 * call's details (`{ result, metadata, trailers, status }`) instead of the bare result.
 */
export interface DetailedCallOptions extends CallOptions {
  withDetails: true;
}
