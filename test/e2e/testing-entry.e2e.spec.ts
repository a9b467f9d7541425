import { Test } from '@nestjs/testing';
import { existsSync, statSync } from 'node:fs';
import { serveForTesting } from '../../lib/testing/index.js';
import { AppModule } from '../../sample/app.module.js';
import type { BlazeModels } from '../fixtures/sample-models.generated.js';

describe('nestjs-blazerpc/testing: serveForTesting', () => {
  it("serves a testing module's models on a free loopback port, with a typed client, whatever port the module asked for", async () => {
    // The sample's module asks for port 50051 and writes blazerpc.proto; neither happens here.
    const protoBefore = existsSync('blazerpc.proto') ? statSync('blazerpc.proto').mtimeMs : undefined;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot()] }).compile();
    const served = await serveForTesting<BlazeModels>(moduleRef);
    try {
      expect(existsSync('blazerpc.proto') ? statSync('blazerpc.proto').mtimeMs : undefined).toBe(protoBefore);
      expect(served.port).toBeGreaterThan(0);
      expect(served.port).not.toBe(50051);
      expect(served.address).toBe(`127.0.0.1:${served.port}`);
      await expect(served.client.predict('echo', { text: 'hi' })).resolves.toBe('hi');
      await expect(served.client.upload('tally', [{ text: 'two words' }, { text: 'three more words' }])).resolves.toBe(
        5,
      );
    } finally {
      await served.close();
    }
  });

  it('two testing servers run side by side', async () => {
    const [a, b] = await Promise.all(
      [1, 2].map(async () =>
        serveForTesting<BlazeModels>(await Test.createTestingModule({ imports: [AppModule.forRoot()] }).compile()),
      ),
    );
    try {
      expect(a!.port).not.toBe(b!.port);
      await expect(
        Promise.all([a!.client.predict('echo', { text: 'a' }), b!.client.predict('echo', { text: 'b' })]),
      ).resolves.toEqual(['a', 'b']);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});
