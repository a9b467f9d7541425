import { AsyncLocalStorage } from 'node:async_hooks';

/** What a queued request needs to know of its call: when to leave the queue. */
export interface QueuedCall {
  readonly signal: AbortSignal;
  readonly deadline?: Date;
}

/**
 * @internal The call being served. Nest's context creator passes a handler
 * only its parameters; a batched handler reads the call from here so a
 * cancelled or expired request can leave the queue.
 */
export const currentCall = new AsyncLocalStorage<QueuedCall>();
