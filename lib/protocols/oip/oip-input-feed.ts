/**
 * @internal The input of a streaming-input model called over OIP's
 * `ModelStreamInfer`: each request of the stream that names the model is one
 * input message, pushed here as it arrives and read by the handler in order.
 * The stream's half-close ends it; a cancel or deadline makes a pending read
 * throw the call's status.
 */
export class OipInputFeed<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private ended = false;
  private waiting?: { resolve: (result: IteratorResult<T>) => void; reject: (reason: unknown) => void };

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.waiting?.reject(signal.reason), { once: true });
  }

  push(value: T): void {
    if (this.ended) return;
    const waiting = this.take();
    if (waiting) waiting.resolve({ value, done: false });
    else this.queue.push(value);
  }

  end(): void {
    this.ended = true;
    this.take()?.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        if (this.signal.aborted) return Promise.reject(this.signal.reason);
        return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
      },
    };
  }

  private take() {
    const waiting = this.waiting;
    this.waiting = undefined;
    return waiting;
  }
}
