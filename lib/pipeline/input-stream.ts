/**
 * The messages of a streamed input (`@Input('x', Stream(T))`), as the handler
 * reads them: an `AsyncIterable<T>` that pulls each message from the client
 * only when the handler asks for the next one, so HTTP/2 flow control slows
 * a client that sends faster than the model reads. It can be iterated once.
 * When the call is cancelled or its deadline passes, the pending read throws
 * the call's status, so a `for await` loop ends there and its `finally` runs.
 */
export class InputStream<T> implements AsyncIterable<T> {
  private iterated = false;

  constructor(private readonly source: AsyncIterable<T>) {}

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new Error('A streamed input can be read only once');
    this.iterated = true;
    return this.source[Symbol.asyncIterator]();
  }

  /** @internal The same stream with each message passed through `transform` (e.g. Nest pipes), in order. */
  map<U>(transform: (item: T, index: number) => U | Promise<U>): InputStream<U> {
    const source = this.source;
    return new InputStream<U>({
      async *[Symbol.asyncIterator]() {
        let index = 0;
        for await (const item of source) yield await transform(item, index++);
      },
    });
  }
}
