import type { StatusObject } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import { isObservable, lastValueFrom } from 'rxjs';
import { BlazeContext } from '../context/blaze-context.js';
import { InferenceError } from '../errors/inference.error.js';
import type { ModelDescriptor } from '../schema/model-descriptor.interface.js';
import { toCallStatus } from '../errors/grpc-status.mapper.js';
import type { InflightCall, ModelCall } from '../transport/inflight-call.js';
import type { ModelCodec } from '../protocols/blazerpc/model-codec.js';
import type { SymbolBindings } from '../tensor/tensor-spec.check.js';
import type { ModelInvoker } from './model-invoker.factory.js';
import { openStream, type StreamSource } from './stream-source.js';

/**
 * The guard, interceptor or pipe a failure came from, read off its stack
 * (`ApiKeyGuard.canActivate`), so the log blames the enhancer rather than the
 * model; `undefined` when the top frame is not one.
 */
function failedEnhancer(stack: string | undefined): string | undefined {
  const top = stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
  return top ? /at (?:async )?([\w$]+\.(?:canActivate|intercept|transform))\b/.exec(top)?.[1] : undefined;
}

/** A status to end a call with. */
export type CallFailure = Pick<StatusObject, 'code' | 'details'>;

/**
 * @internal One model as the server runs it: decode -> enhancers and handler
 * -> encode, and the status a failure maps to.
 */
export class ServedModel {
  /** rpc name, e.g. `PredictIris` (the metrics' `method` label). */
  readonly rpc: string;

  constructor(
    readonly descriptor: ModelDescriptor,
    readonly path: string,
    private readonly codec: ModelCodec,
    private readonly invoke: ModelInvoker,
    private readonly logger: Logger,
  ) {
    this.rpc = path.slice(path.lastIndexOf('/') + 1);
  }

  /**
   * Runs a unary call to its encoded response: synchronously when the handler
   * answers synchronously (no enhancers, a sync method), so the response leaves
   * in the same tick; otherwise as a promise. Throws or rejects on failure.
   */
  runUnary(bytes: Buffer, call: ModelCall, inflight: InflightCall): Buffer | Promise<Buffer> {
    const { request, bindings } = this.codec.decode(bytes);
    const result = this.invoke(request, this.contextOf(call, inflight));
    if (result instanceof Promise || isObservable(result)) return this.settle(result, bindings);
    return this.codec.encode(result, bindings);
  }

  private async settle(pending: unknown, bindings: SymbolBindings): Promise<Buffer> {
    let result = await pending;
    // An exception filter may answer with an Observable (e.g. `throwError(...)` from an RpcExceptionFilter).
    if (isObservable(result)) result = await lastValueFrom(result);
    return this.codec.encode(result, bindings);
  }

  /** Runs a streaming call to the iterator of its results, and the encoder of each result. */
  async openStream(bytes: Buffer, call: ModelCall, inflight: InflightCall): Promise<{ source: StreamSource; encode: (result: unknown) => Buffer }> {
    const { request, bindings } = this.codec.decode(bytes);
    const result = await this.invoke(request, this.contextOf(call, inflight));
    const source = openStream(result);
    if (!source) {
      throw new InferenceError(
        `Streaming model '${this.descriptor.name}' (${this.descriptor.handler}) returned ${typeof result}; ` +
          'yield results from an async generator, or return an Observable or AsyncIterable',
        this.descriptor.name,
      );
    }
    return { source, encode: (item) => this.codec.encode(item, bindings) };
  }

  /** Maps an error to the status the client gets; unexpected ones are logged with their stack, never sent. */
  failure(error: unknown): CallFailure {
    const status = toCallStatus(error);
    if (status.unexpected) {
      const cause = error instanceof Error ? error : new Error(String(error));
      const enhancer = failedEnhancer(cause.stack);
      const where = enhancer ? `failed in ${enhancer}, before its handler ran` : `(${this.descriptor.handler}) failed`;
      this.logger.error(`Model '${this.descriptor.name}' ${where}: ${cause.message}`, cause.stack);
    }
    return { code: status.code, details: status.details };
  }

  private contextOf(call: ModelCall, inflight: InflightCall): BlazeContext {
    const { name, version } = this.descriptor;
    return new BlazeContext(call.metadata, call, this.path, name, version, inflight.deadline, inflight);
  }
}
