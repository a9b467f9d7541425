import { Test } from '@nestjs/testing';
import { serveForTesting, type TestingServer } from 'nestjs-blazerpc/testing';
import { GreeterModels } from '../src/greeter.models';
import { AppModule } from '../src/app.module';

// As `npx blazerpc types` generates it.
type Models = {
  greet: { inputs: { name: string }; result: string; kind: 'unary' };
  count: { inputs: { text: string }; result: number; kind: 'client-stream' };
};

describe('the packed package in an app', () => {
  it('unit: the model is a plain provider', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [GreeterModels] }).compile();
    expect(moduleRef.get(GreeterModels).greet('Ada')).toBe('Hello, Ada!');
  });

  describe('e2e: served over gRPC on a free port', () => {
    let served: TestingServer<Models>;
    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      served = await serveForTesting<Models>(moduleRef);
    });
    afterAll(() => served.close());

    it('answers a unary call', async () => {
      expect(served.port).not.toBe(50051);
      await expect(served.client.predict('greet', { name: 'Ada' })).resolves.toBe('Hello, Ada!');
    });

    it('answers a client-streaming call', async () => {
      await expect(served.client.upload('count', [{ text: 'one two' }, { text: 'three' }])).resolves.toBe(3);
    });
  });
});
