import { status } from '@grpc/grpc-js';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { map } from 'rxjs';
import { BlazeContext, BlazeRpcModule } from '../../lib/index.js';
import { TextModels } from '../../sample/text/text.models.js';
import { failureOf } from '../helpers/model-client.js';
import { serveForSuite, testServerOptions } from '../helpers/start-app.js';

/** Registered as APP_GUARD: refuses calls that carry `x-block`. */
@Injectable()
class BlockGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getContext<BlazeContext>().header('x-block') === undefined;
  }
}

describe('APP_GUARD and APP_INTERCEPTOR providers in a hybrid app (microservices started before init)', () => {
  const suite = serveForSuite({
    imports: [BlazeRpcModule.forRoot(testServerOptions)],
    providers: [
      TextModels,
      { provide: APP_GUARD, useClass: BlockGuard },
      { provide: APP_INTERCEPTOR, useValue: { intercept: (_: unknown, next: { handle: () => any }) => next.handle().pipe(map((r: unknown) => `[${r}]`)) } },
    ],
  });

  it('applies both to model calls', async () => {
    await expect(suite.client.unary('PredictEcho', { text: 'x' })).resolves.toEqual({ result: '[x]' });
    const blocked = await failureOf(suite.client.unary('PredictEcho', { text: 'x' }, { metadata: { 'x-block': '1' } }));
    expect(blocked.code).toBe(status.PERMISSION_DENIED);
  });
});
