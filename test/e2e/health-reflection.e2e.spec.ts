import * as grpc from '@grpc/grpc-js';
import { BlazeHealthService } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { HealthClient } from '../helpers/health-client.js';
import { ReflectionClient } from '../helpers/reflection-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';

const call = (client: grpc.Client, method: string, request: object, metadata = new grpc.Metadata()) =>
  new Promise<any>((resolve, reject) =>
    (client as any)[method](request, metadata, (error: Error | null, response: unknown) =>
      error ? reject(error) : resolve(response),
    ),
  );

describe('health and reflection over a real connection', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ imports: [AppModule.forRoot(testServerOptions)] });
  });

  afterAll(async () => {
    await running?.app.close();
  });

  describe('grpc.health.v1.Health', () => {
    let health: HealthClient;
    beforeAll(() => (health = new HealthClient(running.address)));
    afterAll(() => health.close());

    it.each(['', 'blazerpc.InferenceService', 'echo', 'tokens', 'secure', 'info', 'iris'])(
      "reports '%s' SERVING",
      async (service) => {
        await expect(health.check(service)).resolves.toBe('SERVING');
      },
    );

    it('answers NOT_FOUND for a service it does not know', async () => {
      await expect(health.check('nope')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    });

    it('answers a 10 kB unknown name with NOT_FOUND and a short message, not a failure of its own', async () => {
      const failure = await health.check('x'.repeat(10_000)).catch((error) => error);
      expect(failure.code).toBe(grpc.status.NOT_FOUND);
      expect(failure.details.length).toBeLessThan(200);
      expect(failure.details).toContain('more characters');
    });

    it('Watch keeps nothing for a name once its last watcher leaves: 10,000 made-up names, 100 at a time', async () => {
      const service = running.app.get(BlazeHealthService);
      const before = service.watchedServiceCount;
      for (let round = 0; round < 100; round++) {
        // One connection per round: HTTP/2 servers end a connection whose client
        // resets streams faster than about 1,000 at once or 33 a second after
        // (the "rapid reset" defence), and this test resets 10,000.
        const watcher = new HealthClient(running.address, { 'grpc.use_local_subchannel_pool': 1 });
        const streams = Array.from({ length: 100 }, (_, i) =>
          watcher.watch(`made-up-${round}-${i}-${'x'.repeat(200)}`),
        );
        const ended = streams.map(
          (stream) => new Promise((resolve) => stream.on('error', () => undefined).once('status', resolve)),
        );
        const firstStatus = streams.map((stream) => new Promise((resolve) => stream.once('data', resolve)));
        await Promise.race([Promise.all(firstStatus), Promise.any(ended)]);
        expect(service.watchedServiceCount).toBe(before + 100);
        for (const stream of streams) stream.cancel();
        await Promise.all(ended);
        // The cancels reach the server over the next few event-loop turns.
        for (let waited = 0; waited < 3000 && service.watchedServiceCount > before; waited += 10) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(service.watchedServiceCount).toBe(before);
        watcher.close();
      }
    }, 120_000);

    it('Watch sends the current status, then SERVICE_UNKNOWN for unknown services', async () => {
      const first = (stream: grpc.ClientReadableStream<{ status: string }>) =>
        new Promise<string>((resolve) =>
          stream.once('data', (message) => {
            resolve(message.status);
            stream.cancel();
          }),
        ).finally(() => stream.on('error', () => undefined));
      await expect(first(health.watch('echo'))).resolves.toBe('SERVING');
      await expect(first(health.watch('nope'))).resolves.toBe('SERVICE_UNKNOWN');
    });
  });

  describe.each(['v1', 'v1alpha'] as const)('server reflection %s', (version) => {
    let reflection: ReflectionClient;
    beforeAll(() => (reflection = new ReflectionClient(running.address, version)));
    afterAll(() => reflection.close());

    it('lists the inference, health and reflection services', async () => {
      const services = await reflection.listServices();
      expect(services).toEqual(expect.arrayContaining(['blazerpc.InferenceService', 'grpc.health.v1.Health']));
    });

    it('describes every model from file_containing_symbol', async () => {
      const definition = await reflection.describe('blazerpc.InferenceService');
      const service = definition['blazerpc.InferenceService'] as grpc.ServiceDefinition;
      expect(Object.keys(service).sort()).toEqual([
        'PredictEcho',
        'PredictInfo',
        'PredictIris',
        'PredictRelay',
        'PredictSecure',
        'PredictTally',
        'PredictTokens',
      ]);
      expect(service.PredictTokens.responseStream).toBe(true);
      expect([service.PredictTally.requestStream, service.PredictTally.responseStream]).toEqual([true, false]);
      expect([service.PredictRelay.requestStream, service.PredictRelay.responseStream]).toEqual([true, true]);
      const request = (definition['blazerpc.EchoRequest'] as any).type;
      expect(request.field.map((f: { name: string; number: number }) => [f.name, f.number])).toEqual([['text', 1]]);
    });
  });

  it('lets a client that knows only reflection call every sample model', async () => {
    const reflection = new ReflectionClient(running.address);
    const client = await reflection.clientFor('blazerpc.InferenceService');
    const auth = new grpc.Metadata();
    auth.set('authorization', 'Bearer demo-token');
    auth.set('x-client-id', 'generic');
    await expect(call(client, 'PredictEcho', { text: 'via reflection' })).resolves.toEqual({
      result: 'via reflection',
    });
    await expect(call(client, 'PredictSecure', { text: 'hi' }, auth)).resolves.toEqual({
      result: 'Hello generic, you said: hi',
    });
    await expect(call(client, 'PredictInfo', {})).resolves.toEqual({
      result: expect.stringContaining('/blazerpc.InferenceService/PredictInfo'),
    });
    const words: string[] = [];
    await new Promise((resolve, reject) => {
      const stream = (client as any).PredictTokens({ prompt: 'found by reflection' });
      stream.on('data', (m: { result: string }) => words.push(m.result));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(words).toEqual(['found', 'by', 'reflection']);
    const features = {
      shape: ['1', '4'],
      dtype: 'float32',
      data: Buffer.from(new Float32Array([5.1, 3.5, 1.4, 0.2]).buffer),
    };
    const { result } = await call(client, 'PredictIris', { features });
    expect(result).toMatchObject({ shape: ['1', '3'], dtype: 'float' });
    expect(new Float32Array(new Uint8Array(result.data).buffer)[0]).toBeGreaterThan(0.9);
    client.close();
    reflection.close();
  });
});
