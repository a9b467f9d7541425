import type { Metadata, MetadataValue } from '@grpc/grpc-js';

const NO_PARAMETERS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The current call, as handlers, guards, interceptors, `@Depends()`
 * functions and request-scoped providers see it.
 *
 * - In a handler: `@Ctx() ctx: BlazeContext`
 * - In a guard or interceptor: `context.switchToRpc().getContext<BlazeContext>()`
 *   (it also answers `get(key)` and `getMap()` as the grpc-js `Metadata` that
 *   Nest's own gRPC transport hands guards does)
 * - In a request-scoped provider: `@Inject(BLAZE_CONTEXT) ctx: BlazeContext`
 */
export class BlazeContext {
  constructor(
    /** Metadata (headers) the client sent. */
    readonly metadata: Metadata,
    private readonly call: { getPeer(): string },
    /** Full gRPC method path, e.g. `/blazerpc.InferenceService/PredictEcho`. */
    readonly method: string,
    /** Model name. */
    readonly model: string,
    /** Model version serving the call. */
    readonly version: string,
    /** When the client stops waiting, or `undefined` when it set no deadline. */
    readonly deadline: Date | undefined,
    private readonly signalSource: { readonly signal: AbortSignal },
    /**
     * Request parameters the protocol carries, e.g. an Open Inference
     * Protocol request's `parameters` (values as bool, number, bigint or
     * string). Empty for BlazeRPC calls.
     */
    readonly parameters: Readonly<Record<string, unknown>> = NO_PARAMETERS,
    /** The protocol the call came in on: `blazerpc` or `oip`. */
    readonly protocol: 'blazerpc' | 'oip' = 'blazerpc',
  ) {}

  /** The client's address, e.g. `127.0.0.1:53422`. */
  get peer(): string {
    return this.call.getPeer();
  }

  /** Fires when the client cancels, the deadline passes or the server shuts down. */
  get signal(): AbortSignal {
    return this.signalSource.signal;
  }

  /**
   * @internal The call's OpenTelemetry server span, when the call is traced
   * (the batch queue links batch executions to it).
   */
  get traceSpan(): unknown {
    return (this.signalSource as { trace?: { span: unknown } }).trace?.span;
  }

  /**
   * Every value of a metadata key, as grpc-js's `Metadata.get` gives them.
   * With `getMap`, this lets a guard written as Nest's gRPC docs teach
   * (`context.switchToRpc().getContext<Metadata>().get('x-api-key')`)
   * protect model calls as it protects `Transport.GRPC` controllers.
   */
  get(key: string): MetadataValue[] {
    return this.metadata.get(key);
  }

  /** The metadata as a plain object of each key's first value, as grpc-js's `Metadata.getMap` gives it. */
  getMap(): { [key: string]: MetadataValue } {
    return this.metadata.getMap();
  }

  /** First value of a metadata key as a string, e.g. `ctx.header('authorization')`. */
  header(key: string): string | undefined {
    const [value] = this.metadata.get(key);
    return value === undefined ? undefined : value.toString();
  }
}
