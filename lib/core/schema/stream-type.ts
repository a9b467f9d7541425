import type { TypeRef } from './type-ref.js';

/**
 * What `Stream(T)` returns: an input the client streams, one message at a
 * time, each carrying one `T`.
 */
export class StreamType {
  /** @internal Made by `Stream(T)`. */
  constructor(readonly element: TypeRef) {}
}

/**
 * Declares an input the client streams: the rpc takes `stream XRequest`,
 * each request message carries one `T` in this field, and the handler gets
 * an `AsyncIterable<T>` that yields each message as the client sends it
 * (and as the handler pulls: a slow handler slows the client through HTTP/2
 * flow control). A streaming-input model has exactly this one input.
 *
 * Return one value for client streaming; be an async generator (or return
 * an Observable or AsyncIterable with `streaming: true`) for both ways.
 *
 * @example
 * ```ts
 * @Model('tally', { returns: UInt32 })
 * async tally(@Input('text', Stream(String)) texts: AsyncIterable<string>): Promise<number> { ... }
 *
 * @Model('relay', { returns: String })
 * async *relay(@Input('text', Stream(String)) texts: AsyncIterable<string>) {
 *   for await (const text of texts) yield text.toUpperCase();
 * }
 * ```
 */
export function Stream(element: TypeRef): StreamType {
  return new StreamType(element);
}
