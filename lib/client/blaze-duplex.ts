import { status as GrpcStatus, type ClientDuplexStream, type Metadata } from '@grpc/grpc-js';
import { BlazeRpcClientError } from './blaze-rpc-client.error.js';
import type { CallDetails } from './call-details.interface.js';
import type { CallWatch } from './call-watch.js';
import { readReplies } from './reply-stream.js';
import { writeMessage } from './request-stream.js';

/**
 * A call to a bidirectional model (`BlazeClient.duplex()`): write request
 * messages, read converted replies, in any interleaving the model allows.
 *
 * @example
 * ```ts
 * const relay = client.duplex('relay');
 * const replies = relay[Symbol.asyncIterator]();
 * for (const text of ['ping', 'pong']) {
 *   await relay.write({ text });
 *   console.log((await replies.next()).value); // each reply before the next write
 * }
 * relay.end();
 * ```
 */
export class BlazeDuplex<I, R> implements AsyncIterable<R>, AsyncDisposable {
  /** Response initial metadata, once it arrives (empty if the call ends without any). */
  readonly headers: Promise<Metadata>;
  /** Trailers and status, once the call has ended; never rejects (a failure also throws from the loop and from `write()`). */
  readonly details: Promise<CallDetails>;
  private readonly replies: AsyncGenerator<R, void, undefined>;

  /** @internal Made by `BlazeClient.duplex()`. */
  constructor(
    private readonly call: ClientDuplexStream<object, object>,
    private readonly encode: (message: I) => object,
    convert: (message: Record<string, unknown>) => R,
    private readonly watch: CallWatch,
  ) {
    this.headers = watch.headers;
    this.details = watch.details;
    this.replies = readReplies(call, convert, watch);
  }

  /**
   * Sends one message. Resolves once grpc-js has taken it; when its buffer
   * is full (the server reads slower than we write), only after it drained,
   * so awaiting each write keeps memory bounded.
   * @throws BlazeRpcClientError with the call's status when it has failed;
   *   FAILED_PRECONDITION after `end()` or once the call ended OK
   */
  async write(message: I): Promise<void> {
    if (this.call.writableEnded)
      throw new BlazeRpcClientError(
        GrpcStatus.FAILED_PRECONDITION,
        'write() after end(): the request stream is closed',
      );
    if (this.watch.outcome) throw this.watch.endedError();
    if (!(await writeMessage(this.call, this.encode(message), this.watch))) throw this.watch.endedError();
  }

  /** Half-closes: no more messages; replies still arrive until the server ends the call. */
  end(): void {
    if (!this.call.writableEnded) this.call.end();
  }

  /** Cancels the call: the server stops, and reading throws CANCELLED. Nothing happens once the call has ended. */
  cancel(): void {
    if (!this.watch.outcome) this.call.cancel();
  }

  /**
   * The replies, converted as `predict()` converts a result. There is one
   * reader: every loop continues the same sequence. Leaving a loop early
   * cancels the call; a failed call throws its status as `BlazeRpcClientError`.
   */
  [Symbol.asyncIterator](): AsyncGenerator<R, void, undefined> {
    return this.replies;
  }

  /** Cancels the call unless it has ended, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
  }
}
