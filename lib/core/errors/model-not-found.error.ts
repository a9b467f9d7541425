import { BlazeRpcError } from './blaze-rpc.error.js';

/** No model is registered under this name (and version). Answered with `NOT_FOUND`. */
export class ModelNotFoundError extends BlazeRpcError {
  constructor(
    readonly modelName: string,
    readonly version?: string,
  ) {
    super(
      version === undefined
        ? `Model '${modelName}' is not registered`
        : `Model '${modelName}' version '${version}' is not registered`,
    );
  }
}
