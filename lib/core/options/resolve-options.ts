import { ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ConfigurationError } from '../errors/configuration.error.js';
import { firstUnknownKey, unknownKeyMessage } from './unknown-keys.js';
import type { BatchingOptions } from './batching-options.interface.js';
import type { BlazeRpcModuleOptions } from './blaze-rpc-options.interface.js';
import type { RequestLimits } from './request-limits.interface.js';
import type { ResolvedBlazeRpcOptions } from './resolved-options.interface.js';

const DEFAULT_BATCHING: Required<BatchingOptions> = {
  enabled: true,
  maxBatchSize: 32,
  batchTimeoutMs: 0,
  maxQueueSize: 1024,
  maxConcurrentBatches: 1,
  tuneBatchSize: true,
};

/** Defaults of `limits`; each is far above what a well-formed request of a real model needs. */
export const DEFAULT_LIMITS: Readonly<Required<RequestLimits>> = {
  maxPendingPerStream: 64,
  maxBufferedResults: 1024,
  maxRequestBytesInFlight: 32 * 1024 * 1024,
  maxInputs: 64,
  maxOutputs: 64,
  maxParameters: 64,
  maxParameterBytes: 64 * 1024,
  maxBytesElements: 64 * 1024,
};

/**
 * Largest batching values accepted: far above what any model gains from, low
 * enough that a mistyped value cannot queue or hold unbounded memory (the
 * queue holds each waiting request's decoded inputs). The ONNX runtime holds
 * `config.json` to the same ones.
 */
const BATCHING_MAXIMA = {
  maxBatchSize: 65_536,
  maxQueueSize: 65_536,
  maxConcurrentBatches: 64,
  batchTimeoutMs: 60_000,
} as const;

/** 16 MiB: a connection carrying 64 concurrent 110 KB image requests needs about 7 MB in flight. */
const DEFAULT_FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;
const MAX_FLOW_CONTROL_WINDOW = 2 ** 31 - 1;

/** Every key `BlazeRpcModuleOptions` has: anything else is a typo, refused at startup. */
const MODULE_OPTION_KEYS: ReadonlyArray<keyof BlazeRpcModuleOptions> = [
  'url',
  'host',
  'port',
  'protoPackage',
  'protoFile',
  'health',
  'reflection',
  'protocols',
  'gracePeriodMs',
  'maxReceiveMessageLength',
  'maxSendMessageLength',
  'flowControlWindow',
  'maxConcurrentStreams',
  'maxConnectionIdleMs',
  'maxConnectionAgeMs',
  'maxConnectionAgeGraceMs',
  'keepalive',
  'credentials',
  'channelOptions',
  'logCalls',
  'batching',
  'limits',
];

/** Options of the module itself: given to forRoot/forRootAsync, never in the options a factory returns. */
const MODULE_LEVEL_KEYS = ['metrics', 'isGlobal'];

/** Validates module options and fills in defaults; a bad value or an unknown key fails startup naming the option. */
export function resolveOptions(options: BlazeRpcModuleOptions = {}): ResolvedBlazeRpcOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', options, 'an object');
  refuseUnknownKeys(options, MODULE_OPTION_KEYS, '');
  const { host, port } = resolveAddress(options);
  const protoPackage = options.protoPackage ?? 'blazerpc';
  if (!/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(protoPackage)) {
    throw invalid('protoPackage', protoPackage, "a dotted proto identifier such as 'blazerpc' or 'acme.models'");
  }
  const protoFile = options.protoFile ?? false;
  if (protoFile !== false && (typeof protoFile !== 'string' || protoFile.length === 0)) {
    throw invalid('protoFile', protoFile, 'a file path, or false to write no file');
  }
  return {
    host,
    port,
    protoPackage,
    protoFile,
    health: options.health ?? true,
    reflection: options.reflection ?? true,
    protocols: resolveProtocols(options.protocols),
    gracePeriodMs: nonNegative('gracePeriodMs', options.gracePeriodMs ?? 5000),
    logCalls: options.logCalls ?? false,
    flowControlWindow: flowControlWindow(options.flowControlWindow ?? DEFAULT_FLOW_CONTROL_WINDOW),
    channelOptions: resolveChannelOptions(options),
    credentials: resolveCredentials(options),
    tls: options.credentials !== undefined,
    batching: resolveBatching(options.batching),
    limits: resolveLimits(options.limits),
  };
}

function resolveLimits(limits: RequestLimits = {}): Required<RequestLimits> {
  if (typeof limits !== 'object' || limits === null)
    throw invalid('limits', limits, `an object with any of ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
  refuseUnknownKeys(limits, Object.keys(DEFAULT_LIMITS), 'limits.');
  const resolved = { ...DEFAULT_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) positiveInteger(`limits.${name}`, value);
  return resolved;
}

function resolveProtocols(protocols: BlazeRpcModuleOptions['protocols'] = {}): ResolvedBlazeRpcOptions['protocols'] {
  if (typeof protocols !== 'object' || protocols === null)
    throw invalid('protocols', protocols, '{ blazerpc?: boolean, oip?: boolean }');
  const resolved = { blazerpc: protocols.blazerpc ?? true, oip: protocols.oip ?? true };
  for (const [name, on] of Object.entries(resolved)) {
    if (typeof on !== 'boolean') throw invalid(`protocols.${name}`, on, 'true or false');
  }
  const unknown = Object.keys(protocols).find((name) => !(name in resolved));
  if (unknown)
    throw invalid(`protocols.${unknown}`, (protocols as Record<string, unknown>)[unknown], "one of 'blazerpc', 'oip'");
  if (!resolved.blazerpc && !resolved.oip) throw invalid('protocols', protocols, 'at least one protocol on');
  return resolved;
}

/** Validates per-model or module batching values; `where` names the owner in messages. */
export function resolveBatching(
  batching: BatchingOptions = {},
  defaults = DEFAULT_BATCHING,
  where = 'batching',
  owner = 'BlazeRpcModule option',
): Required<BatchingOptions> {
  if (typeof batching !== 'object' || batching === null)
    throw invalid(where, batching, `an object with any of ${Object.keys(DEFAULT_BATCHING).join(', ')}`, owner);
  refuseUnknownKeys(batching, Object.keys(DEFAULT_BATCHING), `${where}.`, owner);
  const merged = { ...defaults, ...batching };
  atMost(
    `${where}.maxBatchSize`,
    positiveInteger(`${where}.maxBatchSize`, merged.maxBatchSize, owner),
    BATCHING_MAXIMA.maxBatchSize,
    owner,
  );
  atMost(
    `${where}.batchTimeoutMs`,
    nonNegative(`${where}.batchTimeoutMs`, merged.batchTimeoutMs, owner),
    BATCHING_MAXIMA.batchTimeoutMs,
    owner,
  );
  atMost(
    `${where}.maxQueueSize`,
    positiveInteger(`${where}.maxQueueSize`, merged.maxQueueSize, owner),
    BATCHING_MAXIMA.maxQueueSize,
    owner,
  );
  atMost(
    `${where}.maxConcurrentBatches`,
    positiveInteger(`${where}.maxConcurrentBatches`, merged.maxConcurrentBatches, owner),
    BATCHING_MAXIMA.maxConcurrentBatches,
    owner,
  );
  if (typeof merged.enabled !== 'boolean') {
    throw invalid(`${where}.enabled`, merged.enabled, 'true or false', owner);
  }
  if (typeof merged.tuneBatchSize !== 'boolean') {
    throw invalid(`${where}.tuneBatchSize`, merged.tuneBatchSize, 'true or false', owner);
  }
  return merged;
}

function resolveCredentials(options: BlazeRpcModuleOptions): ServerCredentials {
  const tls = options.credentials;
  if (!tls) return ServerCredentials.createInsecure();
  refuseUnknownKeys(tls, ['certChain', 'privateKey', 'rootCerts', 'checkClientCertificate'], 'credentials.');
  if (!tls.certChain || !tls.privateKey) {
    throw invalid('credentials', '(incomplete)', 'both certChain and privateKey (PEM)');
  }
  if (tls.checkClientCertificate && !tls.rootCerts) {
    throw invalid(
      'credentials.rootCerts',
      undefined,
      'the CA that signs client certificates when checkClientCertificate is true',
    );
  }
  const pem = (value: Buffer | string) => (typeof value === 'string' ? Buffer.from(value) : value);
  return ServerCredentials.createSsl(
    tls.rootCerts ? pem(tls.rootCerts) : null,
    [{ cert_chain: pem(tls.certChain), private_key: pem(tls.privateKey) }],
    tls.checkClientCertificate ?? false,
  );
}

function resolveAddress(options: BlazeRpcModuleOptions): { host: string; port: number } {
  if (options.url !== undefined) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(options.url);
    if (!match) {
      throw invalid('url', options.url, "'host:port', e.g. '0.0.0.0:50051' or '[::1]:0'");
    }
    return { host: match[1], port: port(Number(match[2]), 'url') };
  }
  return { host: options.host ?? '0.0.0.0', port: port(options.port ?? 50051, 'port') };
}

function resolveChannelOptions(options: BlazeRpcModuleOptions): ChannelOptions {
  const resolved: ChannelOptions = {
    'grpc.max_receive_message_length': messageLength(
      'maxReceiveMessageLength',
      options.maxReceiveMessageLength ?? 4 * 1024 * 1024,
    ),
    'grpc.max_send_message_length': messageLength('maxSendMessageLength', options.maxSendMessageLength ?? -1),
  };
  resolved['grpc.max_concurrent_streams'] = positiveInteger(
    'maxConcurrentStreams',
    options.maxConcurrentStreams ?? 256,
  );
  const idle = nonNegative('maxConnectionIdleMs', options.maxConnectionIdleMs ?? 15 * 60_000);
  if (idle > 0) resolved['grpc.max_connection_idle_ms'] = idle;
  const age = nonNegative('maxConnectionAgeMs', options.maxConnectionAgeMs ?? 30 * 60_000);
  if (age > 0) {
    resolved['grpc.max_connection_age_ms'] = age;
    resolved['grpc.max_connection_age_grace_ms'] = nonNegative(
      'maxConnectionAgeGraceMs',
      options.maxConnectionAgeGraceMs ?? 60_000,
    );
  }
  if (options.keepalive !== undefined) refuseUnknownKeys(options.keepalive, ['timeMs', 'timeoutMs'], 'keepalive.');
  if (options.keepalive?.timeMs !== undefined) {
    resolved['grpc.keepalive_time_ms'] = positiveInteger('keepalive.timeMs', options.keepalive.timeMs);
  }
  if (options.keepalive?.timeoutMs !== undefined) {
    resolved['grpc.keepalive_timeout_ms'] = positiveInteger('keepalive.timeoutMs', options.keepalive.timeoutMs);
  }
  return { ...resolved, ...options.channelOptions };
}

function flowControlWindow(value: number): number {
  if (!Number.isInteger(value) || value < 65535 || value > MAX_FLOW_CONTROL_WINDOW) {
    throw invalid(
      'flowControlWindow',
      value,
      `a byte count from 65535 (HTTP/2's default) to ${MAX_FLOW_CONTROL_WINDOW}`,
    );
  }
  return value;
}

function port(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw invalid(name, value, 'a port from 0 to 65535 (0 picks a free one)');
  }
  return value;
}

function messageLength(name: string, value: number): number {
  if (value !== -1) positiveInteger(name, value);
  return value;
}

function positiveInteger(name: string, value: unknown, owner?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalid(name, value, 'a positive integer', owner);
  }
  return value;
}

function nonNegative(name: string, value: unknown, owner?: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(name, value, 'a number >= 0', owner);
  }
  return value;
}

function atMost(name: string, value: number, max: number, owner?: string): number {
  if (value > max) throw invalid(name, value, `at most ${max}`, owner);
  return value;
}

/** Fails on the first key of `given` that is not in `known`, naming it with its path and the closest known key. */
function refuseUnknownKeys(
  given: object,
  known: readonly string[],
  path: string,
  owner = 'BlazeRpcModule option',
): void {
  const key = firstUnknownKey(given, known);
  if (key === undefined) return;
  if (path === '' && MODULE_LEVEL_KEYS.includes(key)) {
    throw new ConfigurationError(
      `${owner} '${key}' shapes the module itself, so it cannot come from a factory: pass it to forRootAsync({ ${key}, useFactory, ... }) beside the factory.`,
    );
  }
  throw new ConfigurationError(unknownKeyMessage(owner, path, key, known));
}

function invalid(name: string, value: unknown, expected: string, owner = 'BlazeRpcModule option'): ConfigurationError {
  return new ConfigurationError(`${owner} '${name}' is invalid: got ${JSON.stringify(value)}, expected ${expected}.`);
}
