import type { ChannelOptions } from '@grpc/grpc-js';
import type { BatchingOptions } from './batching-options.interface.js';
import type { RequestLimits } from './request-limits.interface.js';

/** HTTP/2 keepalive pings the server sends to idle clients. */
export interface KeepaliveOptions {
  /**
   * Interval between pings, in milliseconds (`grpc.keepalive_time_ms`).
   * @default 7200000 (two hours, gRPC's default)
   */
  timeMs?: number;
  /**
   * How long to wait for a ping's answer before closing the connection (`grpc.keepalive_timeout_ms`).
   * @default 20000
   */
  timeoutMs?: number;
}

/** The server's TLS identity, and the CA its clients' certificates must chain to for mTLS. */
export interface ServerTlsOptions {
  /** PEM certificate chain of the server. */
  certChain: Buffer | string;
  /** PEM private key of the server. */
  privateKey: Buffer | string;
  /** PEM CA certificate(s) that client certificates are checked against. */
  rootCerts?: Buffer | string;
  /**
   * Require every client to present a certificate signed by `rootCerts` (mTLS).
   * @default false
   */
  checkClientCertificate?: boolean;
}

/** Options of `BlazeRpcModule.forRoot()` / `forRootAsync()`. */
export interface BlazeRpcModuleOptions {
  /**
   * Address to bind, `host:port`; takes precedence over `host` and `port`.
   * @example '127.0.0.1:0'
   */
  url?: string;
  /**
   * Interface to bind.
   * @default '0.0.0.0'
   */
  host?: string;
  /**
   * Port to bind; `0` picks a free port (read it back from `BlazeRpcServer.port`).
   * @default 50051
   */
  port?: number;
  /**
   * Proto package of the generated service and messages.
   * @default 'blazerpc'
   */
  protoPackage?: string;
  /**
   * Where to write the generated .proto on bootstrap, relative to the working
   * directory; `false` writes nothing. The server serves it over reflection
   * either way, and `blazerpc proto` writes it without serving.
   * @default false (so adding the module leaves no untracked file in a repository)
   */
  protoFile?: string | false;
  /**
   * Serve `grpc.health.v1.Health`.
   * @default true
   */
  health?: boolean;
  /**
   * Serve gRPC server reflection (v1 and v1alpha).
   * @default true
   */
  reflection?: boolean;
  /**
   * Which inference protocols to serve on the port: BlazeRPC's own
   * `Predict{Name}` rpcs (the generated `InferenceService`), and the Open
   * Inference Protocol (KServe v2, `inference.GRPCInferenceService`, with
   * Triton's streaming, config, statistics and repository-index extensions).
   * Both reach the same models through the same pipeline.
   * @default { blazerpc: true, oip: true }
   */
  protocols?: { blazerpc?: boolean; oip?: boolean };
  /**
   * On shutdown, how long in-flight calls may take to finish before they are
   * cancelled, in milliseconds.
   * @default 5000
   */
  gracePeriodMs?: number;
  /**
   * Largest request message accepted, in bytes; larger ones get `RESOURCE_EXHAUSTED`.
   * @default 4194304 (4 MiB)
   */
  maxReceiveMessageLength?: number;
  /**
   * Largest response message sent, in bytes; `-1` for no limit.
   * @default -1
   */
  maxSendMessageLength?: number;
  /**
   * HTTP/2 receive window, per stream and per connection, in bytes: how much
   * a client may send before the server acknowledges it. HTTP/2's default of
   * 64 KiB holds less than one 110 KB image tensor, so many streams sharing
   * one connection would crawl, one window at a time. The default lets one
   * connection with 64 streams carry tensors as fast as 64 connections. The
   * server reads requests as they arrive, so a larger window does not hold more
   * memory per call.
   * @default 16777216 (16 MiB)
   */
  flowControlWindow?: number;
  /**
   * Streams (calls) one connection may have open at once; beyond it the
   * client waits (or its extra streams are refused). Bounds what one
   * connection can make the server hold.
   * @default 256
   */
  maxConcurrentStreams?: number;
  /**
   * Closes a connection that has had no call for this long, in milliseconds
   * (clients reconnect on their next call); `0` never does.
   * @default 900000 (15 minutes)
   */
  maxConnectionIdleMs?: number;
  /**
   * Asks a client to reconnect once its connection is this old, in
   * milliseconds (grpc-js adds ±10% jitter), so that L4 load balancers spread
   * long-lived HTTP/2 clients over new replicas; `0` never does.
   * @default 1800000 (30 minutes)
   */
  maxConnectionAgeMs?: number;
  /**
   * After `maxConnectionAgeMs`, how long calls still open on the old
   * connection may take before it is closed, in milliseconds.
   * @default 60000
   */
  maxConnectionAgeGraceMs?: number;
  /** Server keepalive pings. */
  keepalive?: KeepaliveOptions;
  /**
   * Serve over TLS (and mTLS). Without it the server listens in plaintext.
   * @example `{ certChain: readFileSync('server.crt'), privateKey: readFileSync('server.key') }`
   */
  credentials?: ServerTlsOptions;
  /** Further `@grpc/grpc-js` server options, passed through as given. */
  channelOptions?: ChannelOptions;
  /**
   * Log one line per model call (method, peer, status, duration) with Nest's Logger.
   * @default false
   */
  logCalls?: boolean;
  /** Module-wide batching defaults; see `BatchingOptions`. */
  batching?: BatchingOptions;
  /** Bounds on what one request or stream may make the server hold; see `RequestLimits` and README's "Limits". */
  limits?: RequestLimits;
}
