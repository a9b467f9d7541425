import type { Metadata } from '@grpc/grpc-js';
import type { Readable } from 'node:stream';
import { BlazeRpcClientError } from './blaze-rpc-client.error.js';
import type { CallDetails } from './call-details.interface.js';
import type { CallWatch } from './call-watch.js';

/**
 * The replies of `BlazeClient.stream()`: an async generator (leaving the loop
 * early cancels the call) that also tells the call's headers and details.
 */
export interface BlazeStream<R> extends AsyncGenerator<R, void, undefined> {
  /** Response initial metadata, once it arrives (empty if the call ends without any). Iterating starts the call. */
  readonly headers: Promise<Metadata>;
  /** Trailers and status, once the call has ended; never rejects (a failure also throws from the loop). */
  readonly details: Promise<CallDetails>;
}

/**
 * @internal The converted replies of a grpc-js readable call. A failed call
 * throws its status as `BlazeRpcClientError`; leaving before the end (break,
 * return, a conversion error) cancels the call, so the server stops working
 * for a reader that is gone.
 */
export async function* readReplies<R>(
  call: Readable & { cancel(): void },
  convert: (message: Record<string, unknown>) => R,
  watch: CallWatch,
): AsyncGenerator<R, void, undefined> {
  try {
    for await (const message of call) yield convert(message as Record<string, unknown>);
  } catch (error) {
    throw BlazeRpcClientError.from(error);
  } finally {
    if (!watch.outcome) call.cancel();
  }
}
