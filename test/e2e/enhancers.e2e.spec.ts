import { status } from '@grpc/grpc-js';
import { BlazeRpcModule } from '../../lib/index.js';
import {
  EnhancedModels,
  GuardedModels,
  observed,
  PerCallModels,
  useTestGlobalEnhancers,
} from '../fixtures/enhanced.models.js';
import { failureOf } from '../helpers/model-client.js';
import { serveForSuite, testServerOptions } from '../helpers/start-app.js';

describe('Nest enhancers, Depends and request scope on model calls', () => {
  const suite = serveForSuite(
    { imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [EnhancedModels, GuardedModels, PerCallModels] },
    {
      hybrid: { inheritAppConfig: true },
      configure: useTestGlobalEnhancers,
    },
  );

  it('runs method, class and global interceptors, innermost first', async () => {
    await expect(suite.client.unary('PredictTagged', { text: 'x' })).resolves.toEqual({
      result: 'x|method|class|global',
    });
  });

  it("gives interceptors an 'rpc' context whose data is the request and whose context is the BlazeContext", async () => {
    observed.length = 0;
    await suite.client.unary('PredictTagged', { text: 'seen' });
    expect(observed).toEqual([
      { type: 'rpc', data: { text: 'seen' }, isBlazeContext: true, method: '/blazerpc.InferenceService/PredictTagged' },
    ]);
  });

  it('applies a global guard: flagged calls get PERMISSION_DENIED', async () => {
    const error = await failureOf(suite.client.unary('PredictTagged', { text: 'x' }, { metadata: { 'x-deny': '1' } }));
    expect(error.code).toBe(status.PERMISSION_DENIED);
  });

  it('applies a class-level guard', async () => {
    await expect(
      suite.client.unary('PredictGuarded', { text: 'a' }, { metadata: { 'x-allow': 'yes' } }),
    ).resolves.toEqual({
      result: 'allowed: a|global',
    });
    expect((await failureOf(suite.client.unary('PredictGuarded', { text: 'a' }))).code).toBe(status.PERMISSION_DENIED);
  });

  it('runs parameter pipes: one transforms, one rejects with INVALID_ARGUMENT naming the field', async () => {
    await expect(suite.client.unary('PredictRepeat', { text: 'ab', times: 2 })).resolves.toEqual({
      result: 'AB AB|class|global',
    });
    const error = await failureOf(suite.client.unary('PredictRepeat', { text: 'ab', times: -1 }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toBe('times must be positive, got -1');
  });

  it('lets an exception filter turn a domain error into its own status', async () => {
    await expect(suite.client.unary('PredictOrder', { item: 'tea' })).resolves.toEqual({
      result: 'ordered tea|class|global',
    });
    const error = await failureOf(suite.client.unary('PredictOrder', { item: 'unicorn' }));
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toBe('No unicorn left');
  });

  it.each([
    ['not-found', status.NOT_FOUND, 'no such thing'],
    ['conflict', status.ALREADY_EXISTS, 'already there'],
    ['unauthorized', status.UNAUTHENTICATED, 'who are you'],
    ['rpc', status.FAILED_PRECONDITION, 'precondition failed: warm up first'],
    ['crash', status.INTERNAL, 'Internal server error'],
  ])('maps a thrown %s to its gRPC status', async (kind, code, details) => {
    const error = await failureOf(suite.client.unary('PredictFail', { kind }));
    expect({ code: error.code, details: error.details }).toEqual({ code, details });
  });

  it('never sends an unexpected error message or stack to the client', async () => {
    const error = await failureOf(suite.client.unary('PredictFail', { kind: 'crash' }));
    expect(error.details).not.toContain('secret');
    expect(error.metadata.getMap()).not.toHaveProperty('stack');
  });

  it('applies a global pipe to every input', async () => {
    const error = await failureOf(suite.client.unary('PredictTagged', { text: 'forbidden-word' }));
    expect({ code: error.code, details: error.details }).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'text contains a forbidden word',
    });
  });

  it('applies a global exception filter', async () => {
    await expect(suite.client.unary('PredictBrew', { drink: 'tea' })).resolves.toEqual({
      result: 'brewed tea|class|global',
    });
    const error = await failureOf(suite.client.unary('PredictBrew', { drink: 'coffee' }));
    expect({ code: error.code, details: error.details }).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'I am a teapot',
    });
  });

  it('answers a unary model that returns an Observable with its last value', async () => {
    await expect(suite.client.unary('PredictCountdownLast', { from: 'three' })).resolves.toEqual({
      result: 'three...|class|global',
    });
  });

  it('resolves sync and async Depends with the call context', async () => {
    await expect(
      suite.client.unary('PredictGreet', { text: 'hi' }, { metadata: { 'x-user': 'bob' } }),
    ).resolves.toEqual({
      result: 'bob@greet: hi|class|global',
    });
  });

  it('aborts the call with the mapped status when a dependency throws', async () => {
    const error = await failureOf(suite.client.unary('PredictForbiddenDependency', { text: 'hi' }));
    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect(error.details).toBe('dependency said no');
  });

  it('gives a request-scoped provider a fresh instance per call, with the call context injected', async () => {
    const first = await suite.client.unary('PredictWhoami', { text: 'one' }, { metadata: { 'x-user': 'ann' } });
    const second = await suite.client.unary('PredictWhoami', { text: 'two' }, { metadata: { 'x-user': 'ben' } });
    const instanceOf = (result: string) => Number(/instance=(\d+)/.exec(result)![1]);
    expect(first.result).toMatch(/^instance=\d+ user=ann same one\|global$/);
    expect(second.result).toMatch(/^instance=\d+ user=ben same two\|global$/);
    expect(instanceOf(second.result)).not.toBe(instanceOf(first.result));
  });
});
