import { BlazeRpcError } from './blaze-rpc.error.js';

/**
 * Invalid module options or model declarations. Raised at startup, before the
 * server accepts a call; the message says how to fix it.
 */
export class ConfigurationError extends BlazeRpcError {}
