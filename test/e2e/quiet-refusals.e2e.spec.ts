import { status } from '@grpc/grpc-js';
import type { CallHandler, ExecutionContext, LoggerService, NestInterceptor } from '@nestjs/common';
import { Injectable, UseGuards } from '@nestjs/common';
import { BlazeRpcModule, Input, Model, Tensor } from '../../lib/index.js';
import { BatchModels } from '../fixtures/batch.models.js';
import { SlowModels } from '../fixtures/slow.models.js';
import { failureOf } from '../helpers/model-client.js';
import { driveQueueRefusals } from '../helpers/queue-refusals.js';
import { serveForSuite, testServerOptions } from '../helpers/start-app.js';
import { tensorMessage } from '../helpers/tensor-message.js';
import { sleep } from '../helpers/time.js';

/** A global interceptor, so every call goes through Nest's pipeline (and its exception filter). */
class PassThrough implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

/** A guard written for HTTP only: on a model call there is no HTTP request to read. */
class HttpOnlyGuard {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-key'] === 'yes';
  }
}

/** A handler that builds a tensor whose data does not fit its shape. */
@Injectable()
class SloppyModels {
  @Model('sloppy', { returns: Tensor.of('float32', [2]) })
  sloppy(@Input('text') _text: string): Tensor {
    return new Tensor('float32', [2], new Float32Array(3));
  }

  @Model('http-guarded')
  @UseGuards(HttpOnlyGuard)
  httpGuarded(@Input('text') text: string): string {
    return text;
  }

  @Model('boom')
  boom(@Input('text') text: string): string {
    throw new Error(`boom: ${text}`);
  }
}

describe('expected refusals are not logged as errors; unexpected failures are logged once', () => {
  const errors: string[] = [];
  const logger: LoggerService = {
    log: () => undefined,
    warn: () => undefined,
    error: (message: unknown) => void errors.push(String(message instanceof Error ? message.message : message)),
  };
  const suite = serveForSuite(
    { imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [BatchModels, SloppyModels, SlowModels] },
    { logger, hybrid: { inheritAppConfig: true }, configure: (app) => app.useGlobalInterceptors(new PassThrough()) },
  );

  it('queue full, deadline while queued, cancel while queued, bad input and a guard denial: no error lines', async () => {
    const { client } = suite;
    const models = suite.running.app.get(BatchModels);
    const { full, expired } = await driveQueueRefusals(client, models);
    const invalid = await failureOf(
      client.unary('PredictDouble', { x: tensorMessage('float64', [1, 2], new Float64Array(2)) }),
    );
    const denied = await failureOf(client.unary('PredictGuardedLabel', { ids: [1] }));
    expect([full.code, expired.code, invalid.code, denied.code]).toEqual([
      status.RESOURCE_EXHAUSTED,
      status.DEADLINE_EXCEEDED,
      status.INVALID_ARGUMENT,
      status.PERMISSION_DENIED,
    ]);
    expect(errors).toEqual([]);
  });

  it('a handler breaking its contract is INTERNAL for the client and one error line, naming the model', async () => {
    errors.length = 0;
    const failure = await failureOf(
      suite.client.unary('PredictShortChanged', { x: tensorMessage('float32', [2, 2], new Float32Array(4)) }),
    );
    expect(failure.code).toBe(status.INTERNAL);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("'short-changed'");
  });

  it('a tensor the handler built wrongly is INTERNAL (not INVALID_ARGUMENT), with the details in one log line only', async () => {
    errors.length = 0;
    const failure = await failureOf(suite.client.unary('PredictSloppy', { text: 'x' }));
    expect(failure.code).toBe(status.INTERNAL);
    expect(failure.details).toBe('Internal server error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("Model 'sloppy'");
    expect(errors[0]).toContain('has 2 elements but the data has 3');
  });

  it('a handler that stops on its cancelled or expired signal (an AbortError) is not logged either', async () => {
    errors.length = 0;
    const cancelled = (suite.client.raw as any).PredictNap({ ms: 2000 }, () => undefined);
    const expired = failureOf(suite.client.unary('PredictNap', { ms: 2000 }, { deadlineMs: 50 }));
    await sleep(30);
    cancelled.cancel();
    expect((await expired).code).toBe(status.DEADLINE_EXCEEDED);
    await sleep(50);
    expect(errors).toEqual([]);
  });

  it("an unexpected error from a handler run through Nest's pipeline is logged exactly once, naming the model", async () => {
    errors.length = 0;
    const failure = await failureOf(suite.client.unary('PredictBoom', { text: 'x' }));
    expect(failure.code).toBe(status.INTERNAL);
    expect(failure.details).toBe('Internal server error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("Model 'boom'");
    expect(errors[0]).toContain('boom: x');
  });

  it('a guard that fails (an HTTP-only guard on a model call) is logged once, naming the guard, not the model', async () => {
    errors.length = 0;
    const failure = await failureOf(suite.client.unary('PredictHttpGuarded', { text: 'x' }));
    expect(failure.code).toBe(status.INTERNAL);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("Model 'http-guarded' failed in HttpOnlyGuard.canActivate, before its handler ran");
  });
});
