import { experimental, type ChannelOptions } from '@grpc/grpc-js';

/**
 * A name service for replicas on loopback, standing in for a headless
 * Service's DNS: `replicas:///<pool>` resolves to the pool's ports. As with
 * DNS, a client learns of a change only when it resolves again, which grpc
 * does when a connection ends (e.g. at the server's maxConnectionAge).
 */
const pools = new Map<string, number[]>();

class ReplicaPoolResolver implements experimental.Resolver {
  constructor(
    private readonly target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
    _options: ChannelOptions,
  ) {}

  updateResolution(): void {
    const ports = pools.get(this.target.path) ?? [];
    const endpoints = ports.map((port) => ({ addresses: [{ host: '127.0.0.1', port }] }));
    // Asynchronously, as a DNS answer arrives.
    setImmediate(() => this.listener(experimental.statusOrFromValue(endpoints), {}, null, ''));
  }

  destroy(): void {}

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return target.path;
  }
}

experimental.registerResolver('replicas', ReplicaPoolResolver);

/** Sets what `replicas:///<pool>` resolves to from now on; returns the target to connect to. */
export function setReplicaPool(pool: string, ports: number[]): string {
  pools.set(pool, [...ports]);
  return `replicas:///${pool}`;
}
