import { status as GrpcStatus } from '@grpc/grpc-js';
import { CallStatusError } from '../core/errors/call-status.error.js';
import type { ModelCall } from '../protocols/shared/call-route.js';
import { InflightCall } from './inflight-call.js';

/**
 * @internal Knows every model call in flight, so shutdown can refuse new
 * calls, wait for the running ones and cancel what is left after the grace
 * period: no call ends without a status.
 */
export class CallTracker {
  private readonly calls = new Set<InflightCall>();
  private draining = false;
  private onIdle?: () => void;

  get isDraining(): boolean {
    return this.draining;
  }

  get size(): number {
    return this.calls.size;
  }

  /** Starts tracking a call; `undefined` once the server is draining (answer it UNAVAILABLE). */
  begin(call: ModelCall, stop: InflightCall['stop']): InflightCall | undefined {
    if (this.draining) return undefined;
    const inflight = new InflightCall(call, stop);
    this.calls.add(inflight);
    return inflight;
  }

  end(inflight: InflightCall): void {
    inflight.dispose();
    this.calls.delete(inflight);
    if (this.calls.size === 0) this.onIdle?.();
  }

  /**
   * Refuses new calls, waits up to `graceMs` for those in flight, then stops
   * the rest with UNAVAILABLE. Resolves to how many had to be stopped.
   */
  async drain(graceMs: number): Promise<number> {
    this.draining = true;
    if (this.calls.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const left = [...this.calls];
    for (const inflight of left) {
      inflight.abort(new CallStatusError(GrpcStatus.UNAVAILABLE, 'Server shut down before the call finished'));
    }
    return left.length;
  }
}
