/**
 * Base class of every error nestjs-blazerpc raises. Catch it to handle any
 * library failure; the subclasses say which part failed.
 */
export class BlazeRpcError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
