import { status as GrpcStatus, type ChannelOptions } from '@grpc/grpc-js';
import { BlazeRpcClientError } from './blaze-rpc-client.error.js';
import type { BlazeClientOptions, ClientRetryPolicy } from './blaze-client-options.interface.js';

const DEFAULT_RETRY: Required<ClientRetryPolicy> = {
  maxAttempts: 3,
  initialBackoffMs: 50,
  maxBackoffMs: 500,
  backoffMultiplier: 2,
  retryableStatusCodes: ['UNAVAILABLE'],
};

/**
 * @internal The grpc-js target for one address or several: several
 * `host:port` addresses with IP literals become one `ipv4:`/`ipv6:` target,
 * which grpc's name resolver turns into one subchannel each.
 */
export function channelTarget(address: string | readonly string[]): string {
  if (typeof address === 'string') return address;
  if (address.length === 0)
    throw new BlazeRpcClientError(GrpcStatus.INVALID_ARGUMENT, 'BlazeClient.connect() needs at least one address');
  if (address.length === 1) return address[0];
  const ipv4 = address.every((a) => /^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a));
  const ipv6 = address.every((a) => /^\[[0-9a-fA-F:.]+\]:\d+$/.test(a));
  if (!ipv4 && !ipv6) {
    throw new BlazeRpcClientError(
      GrpcStatus.INVALID_ARGUMENT,
      `Several addresses must all be IPv4 'a.b.c.d:port' or all IPv6 '[::1]:port', got ${JSON.stringify(address)}; ` +
        "for host names, give one DNS name that resolves to every replica (e.g. a headless Service: 'dns:///models-headless:50051')",
    );
  }
  return `${ipv4 ? 'ipv4' : 'ipv6'}:${address.join(',')}`;
}

/** @internal grpc's service config for the client's load balancing and retry options, as a channel option. */
export function serviceConfigOption(options: BlazeClientOptions): ChannelOptions {
  if (options.channelOptions?.['grpc.service_config'] !== undefined) return {};
  const policy = options.loadBalancing ?? 'round_robin';
  const config: Record<string, unknown> = { loadBalancingConfig: [{ [policy]: {} }] };
  if (options.retry !== false) {
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 2 || retry.maxAttempts > 5) {
      throw new BlazeRpcClientError(
        GrpcStatus.INVALID_ARGUMENT,
        `retry.maxAttempts must be an integer from 2 to 5, got ${JSON.stringify(retry.maxAttempts)}`,
      );
    }
    // grpc-js would refuse these too, naming its service config fields rather than these options.
    for (const key of ['initialBackoffMs', 'maxBackoffMs', 'backoffMultiplier'] as const) {
      if (!(Number.isFinite(retry[key]) && retry[key] > 0)) {
        throw new BlazeRpcClientError(
          GrpcStatus.INVALID_ARGUMENT,
          `retry.${key} must be a positive number, got ${JSON.stringify(retry[key])}`,
        );
      }
    }
    if (retry.retryableStatusCodes.length === 0) {
      throw new BlazeRpcClientError(
        GrpcStatus.INVALID_ARGUMENT,
        'retry.retryableStatusCodes must name at least one status (or set retry: false)',
      );
    }
    config.methodConfig = [
      {
        name: [{}],
        retryPolicy: {
          maxAttempts: retry.maxAttempts,
          initialBackoff: `${retry.initialBackoffMs / 1000}s`,
          maxBackoff: `${retry.maxBackoffMs / 1000}s`,
          backoffMultiplier: retry.backoffMultiplier,
          retryableStatusCodes: [...retry.retryableStatusCodes],
        },
      },
    ];
  }
  return { 'grpc.service_config': JSON.stringify(config) };
}
