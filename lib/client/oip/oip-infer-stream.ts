import { status as GrpcStatus, type ClientDuplexStream, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { BlazeRpcClientError } from '../blaze-rpc-client.error.js';
import type { OipBytesAs, OipRequestOptions } from './oip-client-options.interface.js';
import type { ModelInferResponseMessage, ModelStreamInferResponseMessage } from './oip-messages.js';
import { encodeInferRequest } from './oip-request.encode.js';
import { decodeInferResponse } from './oip-response.decode.js';
import { OipStreamError } from './oip-stream.error.js';
import type { OipInferResult, OipInputs } from './oip-tensors.interface.js';

/** What a stream yields: a response, or the error the server reported for one request. */
export type OipStreamResponse = OipInferResult | OipStreamError;

/**
 * A `ModelStreamInfer` call: requests go out with `send()`, responses come in
 * by iterating, in the order the server sends them (a decoupled model may
 * answer one request with many responses, or none). A failed request shows up
 * as an `OipStreamError` among the responses; the stream goes on. The
 * iteration throws `BlazeRpcClientError` only when the call itself ends with
 * a non-OK status (deadline, cancel, server failure).
 *
 * @example
 * ```ts
 * const stream = client.streamInfer({ timeoutMs: 30_000 });
 * stream.send('llm', { text_input: 'Hello' }, { id: 'a' });
 * stream.end();
 * for await (const response of stream) { ... }
 * ```
 */
export class OipInferStream implements AsyncIterable<OipStreamResponse> {
  private ended = false;
  private iterated = false;
  private failure: ServiceError | undefined;
  private status: StatusObject | undefined;
  private readonly statusReceived: Promise<void>;

  /** @internal Made by `OipClient.streamInfer()`. */
  constructor(
    private readonly call: ClientDuplexStream<object, object>,
    private readonly bytesAs: OipBytesAs,
    onFinish: () => void,
  ) {
    // Errors are kept here rather than left to the iterator, so a stream that
    // fails before anyone iterates neither crashes the process nor loses its status.
    call.on('error', (error: ServiceError) => (this.failure ??= error));
    this.statusReceived = new Promise((resolve) =>
      call.on('status', (status: StatusObject) => {
        this.status = status;
        onFinish();
        resolve();
      }),
    );
  }

  /**
   * Sends one inference request. Writes are buffered: this never waits.
   * @throws BlazeRpcClientError INVALID_ARGUMENT for inputs that cannot be sent; FAILED_PRECONDITION after `end()` or once the call is over
   */
  send(model: string, inputs: OipInputs, options: OipRequestOptions = {}): void {
    if (this.ended)
      throw new BlazeRpcClientError(
        GrpcStatus.FAILED_PRECONDITION,
        'The stream was ended; no more requests can be sent',
      );
    if (this.status) {
      if (this.failure) throw BlazeRpcClientError.from(this.failure);
      throw new BlazeRpcClientError(GrpcStatus.FAILED_PRECONDITION, 'The server has closed the stream');
    }
    this.call.write(encodeInferRequest(model, inputs, options));
  }

  /** No more requests: the server closes the stream once it has answered those sent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.call.end();
  }

  /** Cancels the call; the iteration then throws CANCELLED. */
  cancel(): void {
    if (!this.status) this.call.cancel();
  }

  /** The responses, read once. Leaving the loop early cancels the call. */
  async *[Symbol.asyncIterator](): AsyncGenerator<OipStreamResponse, void, undefined> {
    if (this.iterated) throw new BlazeRpcClientError(GrpcStatus.FAILED_PRECONDITION, 'A stream can be read only once');
    this.iterated = true;
    let finished = false;
    try {
      for await (const message of this.call) {
        const response = this.toResponse(message as ModelStreamInferResponseMessage);
        if (response) yield response;
      }
      // grpc-js ends the readable side before it reports the status: wait for it to learn how the call ended.
      await this.statusReceived;
      finished = true;
    } catch (error) {
      finished = true;
      throw BlazeRpcClientError.from(this.failure ?? error);
    } finally {
      if (!finished) this.cancel();
    }
    if (this.failure) throw BlazeRpcClientError.from(this.failure);
  }

  private toResponse(message: ModelStreamInferResponseMessage): OipStreamResponse | undefined {
    const requestId = message.infer_response?.id || undefined;
    if (message.error_message) return new OipStreamError(message.error_message, requestId);
    if (!message.infer_response) return undefined;
    try {
      return decodeInferResponse(message.infer_response as ModelInferResponseMessage, this.bytesAs);
    } catch (error) {
      const reason = error instanceof BlazeRpcClientError ? error.details : String(error);
      return new OipStreamError(reason, requestId, GrpcStatus.INTERNAL, { cause: error });
    }
  }
}
