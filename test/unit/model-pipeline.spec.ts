import { Metadata, status } from '@grpc/grpc-js';
import {
  BadRequestException,
  Catch,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  type ArgumentMetadata,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type Logger,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import { map, of, throwError, type Observable } from 'rxjs';
import { BlazeContext, BlazeRpcModule, Input, Int32, Model, ModelRegistry } from '../../lib/index.js';
import { ModelInvokerFactory } from '../../lib/pipeline/model-invoker.factory.js';
import { ModelPipeline } from '../../lib/pipeline/model-pipeline.js';

/*
 * A model call in process, without any transport: the registry's entry, the
 * invoker the server builds for it (`ModelInvokerFactory.create`) and the
 * `ModelPipeline` every protocol runs it through, with a `BlazeContext` as a
 * protocol makes one. Guards, interceptors, pipes and filters are Nest's own.
 */

/** Lets a call through only with `x-allow: yes` metadata. */
class AllowHeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getContext<BlazeContext>().header('x-allow') === 'yes';
  }
}

/** A guard with a bug in it. */
class BrokenGuard implements CanActivate {
  canActivate(): boolean {
    throw new TypeError('cannot read the token store');
  }
}

/** Wraps results: `{ label, score }` becomes `label (score)`. */
class FormatInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((result: { label: string; score: number }) => `${result.label} (${result.score})`));
  }
}

class UpperCasePipe implements PipeTransform {
  transform(value: unknown): unknown {
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}

class PositivePipe implements PipeTransform<number> {
  transform(value: number, metadata: ArgumentMetadata): number {
    if (value <= 0) throw new BadRequestException(`${metadata.data} must be positive, got ${value}`);
    return value;
  }
}

class OutOfStockError extends Error {
  constructor(readonly item: string) {
    super(`out of stock: ${item}`);
  }
}

/** Answers OutOfStockError with NOT_FOUND, as a filter written for Nest's gRPC transport does. */
@Catch(OutOfStockError)
class OutOfStockFilter implements ExceptionFilter {
  catch(error: OutOfStockError): Observable<never> {
    return throwError(() => new RpcException({ code: status.NOT_FOUND, message: `No ${error.item} left` }));
  }
}

/** Answers a failure with a value: the call succeeds. */
@Catch()
class FallbackFilter implements ExceptionFilter {
  catch(): Observable<string> {
    return of('fallback answer');
  }
}

let ran: string[] = [];
let executions: string[][] = [];
/** Ends the call the `held` model is holding. */
let release: () => void = () => undefined;

@Injectable()
class Models {
  @Model('plain')
  plain(@Input('text') text: string): string {
    ran.push('plain');
    return `plain:${text}`;
  }

  @Model('guarded')
  @UseGuards(AllowHeaderGuard)
  guarded(@Input('text') text: string): string {
    ran.push('guarded');
    return `allowed:${text}`;
  }

  @Model('broken-guard')
  @UseGuards(BrokenGuard)
  brokenGuard(@Input('text') text: string): string {
    ran.push('broken-guard');
    return text;
  }

  @Model('label', { returns: { label: String, score: Int32 } })
  @UseInterceptors(FormatInterceptor)
  label(@Input('text') text: string): { label: string; score: number } {
    return { label: text, score: text.length };
  }

  @Model('repeat')
  repeat(@Input('text', UpperCasePipe) text: string, @Input('times', Int32, PositivePipe) times: number): string {
    ran.push('repeat');
    return Array.from({ length: times }, () => text).join(' ');
  }

  @Model('order')
  @UseFilters(OutOfStockFilter)
  order(@Input('item') item: string): string {
    if (item === 'unicorn') throw new OutOfStockError(item);
    return `ordered ${item}`;
  }

  @Model('fallback')
  @UseFilters(FallbackFilter)
  fallback(@Input('text') _text: string): string {
    throw new Error('model crashed');
  }

  @Model('held', { returns: String })
  held(@Input('text') text: string): Promise<string> {
    return new Promise((resolve) => (release = () => resolve(text)));
  }

  @Model('crash')
  crash(@Input('text') _text: string): string {
    throw new Error('secret connection string in this message');
  }

  @Model('lengths', { returns: [Int32], batching: { maxBatchSize: 4, batchTimeoutMs: 50, tuneBatchSize: false } })
  lengths(@Input('texts', [String]) texts: string[]): number[] {
    executions.push([...texts]);
    return texts.map((text) => text.length);
  }

  @Model('guarded-lengths', {
    returns: [Int32],
    batching: { maxBatchSize: 8, batchTimeoutMs: 50, tuneBatchSize: false },
  })
  @UseGuards(AllowHeaderGuard)
  guardedLengths(@Input('texts', [String]) texts: string[]): number[] {
    executions.push([...texts]);
    return texts.map((text) => text.length);
  }
}

let moduleRef: TestingModule;
let registry: ModelRegistry;
let invokers: ModelInvokerFactory;
let logger: { error: jest.Mock };

beforeAll(async () => {
  moduleRef = await Test.createTestingModule({
    imports: [BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false })],
    providers: [Models],
  }).compile();
  await moduleRef.init();
  registry = moduleRef.get(ModelRegistry);
  invokers = moduleRef.get(ModelInvokerFactory);
});

afterAll(() => moduleRef?.close());

beforeEach(() => {
  ran = [];
  executions = [];
  logger = { error: jest.fn() };
});

/** The pipeline the server makes for a model version, with `enhancers` as the microservice's global ones. */
function pipelineOf(name: string, enhancers = new ApplicationConfig()): ModelPipeline {
  const entry = registry.entries().find((e) => e.descriptor.name === name && e.descriptor.isDefault)!;
  const { invoke } = invokers.create(entry, enhancers);
  return new ModelPipeline(entry.descriptor, invoke, logger as unknown as Logger);
}

/** A call's context as a protocol makes it. */
function contextFor(
  model: string,
  headers: Record<string, string> = {},
  controller = new AbortController(),
): BlazeContext {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  const rpc = registry.get(model).rpcMethods[0];
  return new BlazeContext(
    metadata,
    { getPeer: () => 'ipv4:127.0.0.1:40000' },
    `/blazerpc.InferenceService/${rpc}`,
    model,
    '1',
    undefined,
    controller,
  );
}

/** Runs a unary call to its result, or to the status its failure maps to. */
async function call(
  model: string,
  request: Record<string, unknown>,
  headers?: Record<string, string>,
  pipeline = pipelineOf(model),
) {
  try {
    return { result: await pipeline.run(request, contextFor(model, headers)) };
  } catch (error) {
    return { error, status: pipeline.failure(error) };
  }
}

describe('ModelPipeline, unary calls through Nest enhancers', () => {
  it('answers in the same tick when no enhancer applies and the handler is synchronous', () => {
    const result = pipelineOf('plain').run({ text: 'hi' }, contextFor('plain'));
    expect(result).toBe('plain:hi');
  });

  it('a guard that refuses ends the call with PERMISSION_DENIED before the handler runs, and logs nothing', async () => {
    const refused = await call('guarded', { text: 'x' });
    expect(refused.status).toEqual({ code: status.PERMISSION_DENIED, details: 'Forbidden resource' });
    expect(ran).toEqual([]);
    expect(logger.error).not.toHaveBeenCalled();

    await expect(call('guarded', { text: 'x' }, { 'x-allow': 'yes' })).resolves.toEqual({ result: 'allowed:x' });
    expect(ran).toEqual(['guarded']);
  });

  it('a guard that throws unexpectedly answers INTERNAL without its message, and the log blames the guard', async () => {
    const failed = await call('broken-guard', { text: 'x' });
    expect(failed.status).toEqual({ code: status.INTERNAL, details: 'Internal server error' });
    expect(ran).toEqual([]);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0][0]).toBe(
      "Model 'broken-guard' failed in BrokenGuard.canActivate, before its handler ran: cannot read the token store",
    );
  });

  it("an interceptor maps the handler's result", async () => {
    await expect(call('label', { text: 'good' })).resolves.toEqual({ result: 'good (4)' });
  });

  it('a pipe transforms an input before the handler sees it; one that throws answers INVALID_ARGUMENT with its message', async () => {
    await expect(call('repeat', { text: 'ab', times: 2 })).resolves.toEqual({ result: 'AB AB' });

    const refused = await call('repeat', { text: 'ab', times: -1 });
    expect(refused.status).toEqual({ code: status.INVALID_ARGUMENT, details: 'times must be positive, got -1' });
    expect(ran).toEqual(['repeat']);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('an exception filter answers a domain error with its own status; other calls pass it untouched', async () => {
    await expect(call('order', { item: 'tea' })).resolves.toEqual({ result: 'ordered tea' });
    const answered = await call('order', { item: 'unicorn' });
    expect(answered.status).toEqual({ code: status.NOT_FOUND, details: 'No unicorn left' });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('an exception filter may answer with a value: the call then succeeds with it', async () => {
    await expect(call('fallback', { text: 'x' })).resolves.toEqual({ result: 'fallback answer' });
  });

  it("an unexpected handler error answers INTERNAL with a generic message, and is logged once naming the model's handler", async () => {
    const failed = await call('crash', { text: 'x' });
    expect(failed.status).toEqual({ code: status.INTERNAL, details: 'Internal server error' });
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0][0]).toBe(
      "Model 'crash' (Models.crash) failed: secret connection string in this message",
    );
  });

  it('global enhancers are those of the configuration the pipeline is built with (the microservice’s)', async () => {
    const withGuard = new ApplicationConfig();
    withGuard.useGlobalGuards(new AllowHeaderGuard());
    const guarded = await call('plain', { text: 'x' }, {}, pipelineOf('plain', withGuard));
    expect(guarded.status?.code).toBe(status.PERMISSION_DENIED);
    await expect(call('plain', { text: 'x' }, { 'x-allow': 'yes' }, pipelineOf('plain', withGuard))).resolves.toEqual({
      result: 'plain:x',
    });
    // The same model built without it is not guarded.
    await expect(call('plain', { text: 'x' })).resolves.toEqual({ result: 'plain:x' });
  });

  it('idle() waits for the calls still running, which is when a retired version may release its runtime', async () => {
    const pipeline = pipelineOf('held');
    await expect(pipeline.idle()).resolves.toBeUndefined();

    const running = pipeline.run({ text: 'slow' }, contextFor('held')) as Promise<unknown>;
    let idle = false;
    const whenIdle = pipeline.idle().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);

    release();
    await expect(running).resolves.toBe('slow');
    await whenIdle;
    expect(idle).toBe(true);
  });
});

describe('ModelPipeline, batched models', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('N concurrent requests run as one execution of N rows after batchTimeoutMs, each getting its own rows back', async () => {
    const pipeline = pipelineOf('lengths');
    const pending = ['a', 'bb', 'ccc'].map(
      (text) => pipeline.run({ texts: [text] }, contextFor('lengths')) as Promise<unknown>,
    );

    // A partial batch waits for more requests, up to batchTimeoutMs.
    await jest.advanceTimersByTimeAsync(49);
    expect(executions).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);

    expect(executions).toEqual([['a', 'bb', 'ccc']]);
    await expect(Promise.all(pending)).resolves.toEqual([[1], [2], [3]]);
  });

  it('a full batch (maxBatchSize rows) runs at once, without waiting for the timeout', async () => {
    const pipeline = pipelineOf('lengths');
    const pending = ['a', 'b', 'c', 'd'].map(
      (text) => pipeline.run({ texts: [text] }, contextFor('lengths')) as Promise<unknown>,
    );
    await jest.advanceTimersByTimeAsync(0);
    expect(executions).toEqual([['a', 'b', 'c', 'd']]);
    await expect(Promise.all(pending)).resolves.toEqual([[1], [1], [1], [1]]);
  });

  it('each request passes its guard before it queues: a refused one never reaches the batch', async () => {
    const pipeline = pipelineOf('guarded-lengths');
    const allowed = { 'x-allow': 'yes' };
    const first = pipeline.run({ texts: ['one'] }, contextFor('guarded-lengths', allowed)) as Promise<unknown>;
    const refused = (pipeline.run({ texts: ['no'] }, contextFor('guarded-lengths')) as Promise<unknown>).catch(
      (error: unknown) => pipeline.failure(error),
    );
    const second = pipeline.run(
      { texts: ['three', 'four'] },
      contextFor('guarded-lengths', allowed),
    ) as Promise<unknown>;

    await jest.advanceTimersByTimeAsync(50);

    expect(executions).toEqual([['one', 'three', 'four']]);
    await expect(first).resolves.toEqual([3]);
    await expect(second).resolves.toEqual([5, 4]);
    await expect(refused).resolves.toEqual({ code: status.PERMISSION_DENIED, details: 'Forbidden resource' });
  });

  it('a call cancelled while queued leaves the batch with CANCELLED, and the others still run', async () => {
    const pipeline = pipelineOf('lengths');
    const controller = new AbortController();
    const kept = pipeline.run({ texts: ['kept'] }, contextFor('lengths')) as Promise<unknown>;
    const cancelled = (
      pipeline.run({ texts: ['gone'] }, contextFor('lengths', {}, controller)) as Promise<unknown>
    ).catch((error: unknown) => pipeline.failure(error));
    controller.abort();
    await expect(cancelled).resolves.toEqual({ code: status.CANCELLED, details: 'Cancelled' });

    await jest.advanceTimersByTimeAsync(50);
    expect(executions).toEqual([['kept']]);
    await expect(kept).resolves.toEqual([4]);
  });
});
