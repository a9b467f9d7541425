import type { Logger } from '@nestjs/common';
import { isObservable, lastValueFrom } from 'rxjs';
import type { BlazeContext } from '../core/context/blaze-context.js';
import { InferenceError } from '../core/errors/inference.error.js';
import { toCallStatus } from '../core/errors/grpc-status.mapper.js';
import type { ModelDescriptor } from '../core/schema/model-descriptor.interface.js';
import type { ModelInvoker } from './model-invoker.factory.js';
import type { ModelRequest } from './model-request.js';
import { openStream, type StreamSource } from './stream-source.js';

/**
 * A status to end a call with: a value handed from the pipeline to the
 * transport once an error is mapped (and logged, when unexpected), not an
 * error. `BlazeRpcError.from` gives the error form of a failure.
 */
export interface CallFailure {
  readonly code: number;
  readonly details: string;
}

/**
 * The guard, interceptor or pipe a failure came from, read off its stack
 * (`ApiKeyGuard.canActivate`), so the log blames the enhancer rather than the
 * model; `undefined` when the top frame is not one.
 */
function failedEnhancer(stack: string | undefined): string | undefined {
  const top = stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
  return top ? /at (?:async )?([\w$]+\.(?:canActivate|intercept|transform))\b/.exec(top)?.[1] : undefined;
}

/**
 * @internal One model version as every protocol runs it: a decoded request
 * and its call context in, through Nest's enhancers, the batch queue and the
 * handler, to the handler's result; and the status a failure maps to.
 * Protocols decode before it and encode after it; it knows none of them.
 */
export class ModelPipeline {
  /** Calls and streams still running here: a retired version waits for them before its runtime is released. */
  private active = 0;
  private onIdle?: () => void;

  constructor(
    readonly descriptor: ModelDescriptor,
    private readonly invoke: ModelInvoker,
    private readonly logger: Logger,
    /** Results a streaming model's Observable may run ahead of its client (`limits.maxBufferedResults`). */
    private readonly maxBufferedResults?: number,
  ) {}

  /**
   * Runs a unary call to its result: synchronously when the handler answers
   * synchronously (no enhancers, a sync method), so the response can leave in
   * the same tick; otherwise as a promise. Throws or rejects on failure.
   */
  run(request: ModelRequest, context: BlazeContext): unknown {
    const result = this.invoke(request, context);
    if (!(result instanceof Promise || isObservable(result))) return result;
    this.active++;
    return this.settle(result);
  }

  /** Runs a streaming call to the iterator of its results; the stream counts as running here until it ends, fails or is cancelled. */
  async openStream(request: ModelRequest, context: BlazeContext): Promise<StreamSource> {
    this.active++;
    const done = once(() => this.leave());
    try {
      const result = await this.invoke(request, context);
      const source = openStream(result, this.maxBufferedResults);
      if (!source) {
        throw new InferenceError(
          `Streaming model '${this.descriptor.name}' (${this.descriptor.handler}) returned ${typeof result}; ` +
            'yield results from an async generator, or return an Observable or AsyncIterable',
          this.descriptor.name,
        );
      }
      context.signal.addEventListener('abort', done, { once: true });
      return untilEnded(source, done);
    } catch (error) {
      done();
      throw error;
    }
  }

  /** Resolves once no call or stream is running here (e.g. after its version was unmounted). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.onIdle;
      this.onIdle = () => {
        previous?.();
        resolve();
      };
    });
  }

  private async settle(pending: unknown): Promise<unknown> {
    try {
      const result = await pending;
      // An exception filter may answer with an Observable (e.g. `throwError(...)` from an RpcExceptionFilter).
      return isObservable(result) ? await lastValueFrom(result) : result;
    } finally {
      this.leave();
    }
  }

  private leave(): void {
    if (--this.active > 0 || !this.onIdle) return;
    const notify = this.onIdle;
    this.onIdle = undefined;
    notify();
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
}

function once(action: () => void): () => void {
  let pending = true;
  return () => {
    if (!pending) return;
    pending = false;
    action();
  };
}

/** `source`, calling `done` once when it finishes, fails or is returned early. */
function untilEnded(source: StreamSource, done: () => void): StreamSource {
  return {
    async next() {
      try {
        const next = await source.next();
        if (next.done) done();
        return next;
      } catch (error) {
        done();
        throw error;
      }
    },
    async return(value?: unknown) {
      try {
        return (await source.return?.(value)) ?? { done: true, value };
      } finally {
        done();
      }
    },
  };
}
