/**
 * @internal The input of a streaming-input model called over OIP's
 * `ModelStreamInfer`: each request of the stream that names the model is one
 * input message, pushed here as it arrives and read by the handler in order.
 * At most `capacity` messages wait for the handler: `push` resolves once its
 * message fits, so the request that pushed it stays unanswered meanwhile and
 * the stream's bound on pending requests stops reading from the client.
 * The stream's half-close ends it; a cancel or deadline makes a pending read
 * (and a pending push) settle with the call's status.
 */
export class OipInputFeed<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private ended = false;
  private waiting?: { resolve: (result: IteratorResult<T>) => void; reject: (reason: unknown) => void };
  /** Pushes waiting for room, oldest first. */
  private readonly blocked: Array<{ value: T; resolve: () => void; reject: (reason: unknown) => void }> = [];

  constructor(
    private readonly signal: AbortSignal,
    private readonly capacity: number,
  ) {
    signal.addEventListener(
      'abort',
      () => {
        this.waiting?.reject(signal.reason);
        for (const push of this.blocked.splice(0)) push.reject(signal.reason);
      },
      { once: true },
    );
  }

  /** Queues `value` for the handler; resolves once it is queued (at once while there is room). */
  push(value: T): Promise<void> {
    if (this.ended) return Promise.resolve();
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    const waiting = this.take();
    if (waiting) waiting.resolve({ value, done: false });
    else if (this.queue.length < this.capacity) this.queue.push(value);
    else return new Promise((resolve, reject) => this.blocked.push({ value, resolve, reject }));
    return Promise.resolve();
  }

  end(): void {
    this.ended = true;
    if (this.queue.length === 0 && this.blocked.length === 0) this.take()?.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.queue.length > 0) {
          const value = this.queue.shift()!;
          this.admitBlocked();
          return Promise.resolve({ value, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        if (this.signal.aborted) return Promise.reject(this.signal.reason);
        return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
      },
    };
  }

  /** Moves the oldest blocked push into the queue now that it has room. */
  private admitBlocked(): void {
    const push = this.blocked.shift();
    if (!push) return;
    this.queue.push(push.value);
    push.resolve();
  }

  private take() {
    const waiting = this.waiting;
    this.waiting = undefined;
    return waiting;
  }
}
