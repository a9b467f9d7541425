import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * @internal The abort signal of the call being served. Nest's context
 * creator passes a handler only its parameters; a batched handler reads the
 * call's signal from here so a cancelled request can leave the queue.
 */
export const currentCallSignal = new AsyncLocalStorage<AbortSignal>();
