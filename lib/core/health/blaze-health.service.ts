import { Injectable } from '@nestjs/common';

/** Serving status of a service or model, as `grpc.health.v1` reports it. */
export type ServingStatus = 'SERVING' | 'NOT_SERVING';

type StatusListener = (status: ServingStatus) => void;

/**
 * The statuses `grpc.health.v1.Health` reports: `""` and the inference
 * service for the whole server, and one entry per model name. The server
 * sets them on start and shutdown; inject this to mark a model NOT_SERVING
 * while it (re)loads.
 *
 * @example
 * ```ts
 * this.health.setStatus('iris', 'NOT_SERVING'); await load(); this.health.setStatus('iris', 'SERVING');
 * ```
 */
@Injectable()
export class BlazeHealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Map<string, Set<StatusListener>>();

  /** Sets a service's status and tells every `Watch` on it. */
  setStatus(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.listeners.get(service)?.forEach((listener) => listener(status));
  }

  /**
   * Forgets a service (a model version that was unloaded): Check answers
   * NOT_FOUND again; its watchers are told NOT_SERVING first.
   */
  forget(service: string): void {
    if (!this.statuses.has(service)) return;
    this.setStatus(service, 'NOT_SERVING');
    this.statuses.delete(service);
  }

  /** A service's status, or `undefined` when the server knows no such service. */
  getStatus(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Every known service name. */
  services(): string[] {
    return [...this.statuses.keys()];
  }

  /**
   * @internal Calls `listener` on each change of `service`; returns the
   * unsubscribe function. A name is forgotten when its last watcher leaves,
   * so clients watching made-up names leave nothing behind.
   */
  watch(service: string, listener: StatusListener): () => void {
    let set = this.listeners.get(service);
    if (!set) this.listeners.set(service, (set = new Set<StatusListener>()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(service) === set) this.listeners.delete(service);
    };
  }

  /** @internal Names with at least one watcher (what Watch keeps in memory). */
  get watchedServiceCount(): number {
    return this.listeners.size;
  }
}
