/** A message waiting for the handler, and the request that sent it. */
interface Queued<T> {
  readonly value: T;
  readonly taken: () => void;
  readonly failed: (reason: unknown) => void;
}

/**
 * @internal The input of a streaming-input model called over OIP's
 * `ModelStreamInfer`: each request of the stream that names the model is one
 * input message, pushed here as it arrives and read by the handler in order.
 * A request stays unanswered until the handler takes its message (`push`
 * resolves then), so the stream's bound on unanswered requests also bounds
 * what waits here, and a handler that reads slowly slows the client.
 * The stream's half-close ends it; a cancel or deadline makes a pending read
 * and every pending push settle with the call's status.
 */
export class OipInputFeed<T> implements AsyncIterable<T> {
  private readonly queue: Array<Queued<T>> = [];
  private ended = false;
  private waiting?: { resolve: (result: IteratorResult<T>) => void; reject: (reason: unknown) => void };
  private readonly onAbort = () => this.fail(this.signal.reason);

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Hands `value` to the handler; resolves once the handler has taken it. */
  push(value: T): Promise<void> {
    if (this.ended) return Promise.resolve();
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    const waiting = this.take();
    if (waiting) {
      waiting.resolve({ value, done: false });
      return Promise.resolve();
    }
    return new Promise((taken, failed) => this.queue.push({ value, taken, failed }));
  }

  /** The client sent its last request: the handler reads what is queued, then the end. */
  end(): void {
    this.ended = true;
    if (this.queue.length === 0) this.take()?.resolve({ value: undefined, done: true });
  }

  /**
   * The model call reading this feed has ended: requests whose messages it
   * never took fail with `reason` (each is answered with it), later pushes
   * are ignored, and the feed lets go of the call's signal.
   */
  close(reason: unknown): void {
    this.ended = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.fail(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const queued = this.queue.shift();
        if (queued) {
          queued.taken();
          return Promise.resolve({ value: queued.value, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        if (this.signal.aborted) return Promise.reject(this.signal.reason);
        return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
      },
    };
  }

  private fail(reason: unknown): void {
    this.take()?.reject(reason);
    for (const queued of this.queue.splice(0)) queued.failed(reason);
  }

  private take() {
    const waiting = this.waiting;
    this.waiting = undefined;
    return waiting;
  }
}
