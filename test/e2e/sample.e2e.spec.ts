import { status } from '@grpc/grpc-js';
import { AppModule } from '../../sample/app.module.js';
import { collect, failureOf } from '../helpers/model-client.js';
import { serveForSuite, testServerOptions } from '../helpers/start-app.js';

describe('sample app over a real gRPC connection', () => {
  const suite = serveForSuite({ imports: [AppModule.forRoot(testServerOptions)] });

  it('echo returns the text unchanged', async () => {
    await expect(suite.client.unary('PredictEcho', { text: 'héllo wörld' })).resolves.toEqual({
      result: 'héllo wörld',
    });
  });

  it('tokens streams the words of the prompt, one per message', async () => {
    const messages = await collect(suite.client.stream('PredictTokens', { prompt: '  the quick   brown fox ' }));
    expect(messages.map((m) => m.result)).toEqual(['the', 'quick', 'brown', 'fox']);
  });

  it('secure greets a caller with the right token', async () => {
    const response = await suite.client.unary(
      'PredictSecure',
      { text: 'hi' },
      { metadata: { authorization: 'Bearer demo-token', 'x-client-id': 'alice' } },
    );
    expect(response.result).toBe('Hello alice, you said: hi');
  });

  it('secure refuses a call without a token with UNAUTHENTICATED', async () => {
    const error = await failureOf(suite.client.unary('PredictSecure', { text: 'hi' }));
    expect(error.code).toBe(status.UNAUTHENTICATED);
    expect(error.details).toContain('authorization');
  });

  it('secure refuses a wrong token with PERMISSION_DENIED', async () => {
    const error = await failureOf(
      suite.client.unary('PredictSecure', { text: 'hi' }, { metadata: { authorization: 'Bearer nope' } }),
    );
    expect(error.code).toBe(status.PERMISSION_DENIED);
  });

  it('info reports the full method path and the peer', async () => {
    const { result } = await suite.client.unary('PredictInfo', {});
    expect(result).toContain('method=/blazerpc.InferenceService/PredictInfo');
    expect(result).toMatch(/peer=127\.0\.0\.1:\d+/);
  });
});
