import { experimental, type ChannelOptions } from '@grpc/grpc-js';

/**
 * A name service for replicas on loopback, standing in for a headless
 * Service's DNS: `replicas:///<pool>` resolves to the pool's ports. As with
 * DNS, a client learns of a change only when it resolves again, which grpc
 * does when a connection ends (e.g. at the server's maxConnectionAge).
 */
const pools = new Map<string, number[]>();

/** As DNS resolvers do, an unchanged answer is given again at most this often: a client whose replicas are all down must not spin. */
const MIN_MS_BETWEEN_UNCHANGED_ANSWERS = 200;

class ReplicaPoolResolver implements experimental.Resolver {
  private destroyed = false;
  private lastAnswer?: { ports: number[]; at: number };
  private pending?: NodeJS.Immediate | NodeJS.Timeout;

  constructor(
    private readonly target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
    _options: ChannelOptions,
  ) {}

  updateResolution(): void {
    if (this.destroyed || this.pending) return;
    const unchanged = this.lastAnswer && this.lastAnswer.ports.join() === (pools.get(this.target.path) ?? []).join();
    const answer = () => {
      this.pending = undefined;
      if (this.destroyed) return;
      // The pool as it is when the answer goes out: it may have changed while this one waited.
      const ports = pools.get(this.target.path) ?? [];
      this.lastAnswer = { ports, at: Date.now() };
      const endpoints = ports.map((port) => ({ addresses: [{ host: '127.0.0.1', port }] }));
      this.listener(experimental.statusOrFromValue(endpoints), {}, null, '');
    };
    // Asynchronously, as a DNS answer arrives; a changed pool at once, an unchanged one no more often than DNS would.
    const wait = unchanged ? Math.max(0, this.lastAnswer!.at + MIN_MS_BETWEEN_UNCHANGED_ANSWERS - Date.now()) : 0;
    this.pending = wait > 0 ? setTimeout(answer, wait).unref() : setImmediate(answer);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.pending) {
      clearTimeout(this.pending as NodeJS.Timeout);
      clearImmediate(this.pending as NodeJS.Immediate);
    }
  }

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
