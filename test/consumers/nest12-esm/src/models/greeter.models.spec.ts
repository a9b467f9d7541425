import { Test } from '@nestjs/testing';
import { BlazeRpcModule } from 'nestjs-blazerpc';
import { serveForTesting, type TestingServer } from 'nestjs-blazerpc/testing';
import { GreeterModels } from './greeter.models.js';

type Models = {
  greet: { inputs: { name: string }; result: string; kind: 'unary' };
};

describe('GreeterModels', () => {
  it('greets, as a plain provider', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [GreeterModels],
    }).compile();
    expect(moduleRef.get(GreeterModels).greet('Ada')).toBe('Hello, Ada!');
  });

  describe('served over gRPC', () => {
    let served: TestingServer<Models>;
    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [BlazeRpcModule.forRoot()],
        providers: [GreeterModels],
      }).compile();
      served = await serveForTesting<Models>(moduleRef);
    });
    afterAll(() => served.close());

    it('answers a caller with the API key', async () => {
      await expect(
        served.client.predict(
          'greet',
          { name: 'Ada' },
          { metadata: { 'x-api-key': 'secret' } },
        ),
      ).resolves.toBe('Hello, Ada!');
    });

    it('refuses a caller without it', async () => {
      await expect(
        served.client.predict('greet', { name: 'Ada' }),
      ).rejects.toMatchObject({ code: 7 });
    });
  });
});
