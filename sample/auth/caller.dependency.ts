import type { BlazeContext, Dependency } from '../../lib/index.js';

/** Who is calling: the `x-client-id` metadata when sent, else the peer address. */
export const callerOf: Dependency<string> = (ctx: BlazeContext) => ctx.header('x-client-id') ?? ctx.peer;
