import { status } from '@grpc/grpc-js';
import { BlazeRpcModule } from '../../lib/index.js';
import { StreamModels } from '../fixtures/stream.models.js';
import { collect, failureOf, ModelClient } from '../helpers/model-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { until } from '../helpers/time.js';

describe('streaming models, cancellation and deadlines', () => {
  let running: RunningApp;
  let client: ModelClient;
  let models: StreamModels;

  beforeAll(async () => {
    running = await startApp({ imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [StreamModels] });
    client = new ModelClient(running.address, running.registry.protoText);
    models = running.app.get(StreamModels);
  });

  beforeEach(() => {
    models.events.length = 0;
  });

  afterAll(async () => {
    client.close();
    await running.app.close();
  });

  it("stops the generator when the client cancels: its finally runs and the call's signal fires", async () => {
    const call = client.stream('PredictTicks', {});
    const received: number[] = [];
    await new Promise<void>((resolve) => {
      call.on('data', (message: { result: number }) => {
        received.push(message.result);
        if (received.length === 3) {
          call.cancel();
          resolve();
        }
      });
      call.on('error', () => undefined);
    });
    await until(() => models.events.includes('finally'));
    expect(received).toEqual([0, 1, 2]);
    expect(models.events).toContain(`aborted:${status.CANCELLED}`);
  });

  it('stops the generator when the deadline passes', async () => {
    const error = await failureOf(collect(client.stream('PredictTicks', {}, { deadlineMs: 60 })));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    await until(() => models.events.includes('finally'));
    expect(models.events).toContain(`aborted:${status.DEADLINE_EXCEEDED}`);
  });

  it('answers DEADLINE_EXCEEDED to a unary call that outlives its deadline and fires its signal', async () => {
    const error = await failureOf(client.unary('PredictSlow', { ms: 200 }, { deadlineMs: 50 }));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    await until(() => models.events.length > 0);
    expect(models.events).toEqual(['slow-finished aborted=true']);
  });

  it('waits for a slow reader instead of buffering the whole stream (HTTP/2 backpressure)', async () => {
    const call = client.stream('PredictFlood', { count: 400 });
    let received = 0;
    call.on('data', () => {
      received++;
      if (received === 1) call.pause();
    });
    const done = new Promise((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // 400 x 64 KiB = 25 MiB; with the reader paused, only a few windows' worth may be produced.
    expect(models.produced).toBeLessThan(100);
    call.resume();
    await done;
    expect(received).toBe(400);
  });

  it('streams what an Observable emits', async () => {
    const messages = await collect(client.stream('PredictCountdown', { from: 3 }));
    expect(messages.map((m) => m.result)).toEqual([3, 2, 1, 0]);
  });

  it('delivers the messages sent before a stream fails, then INTERNAL', async () => {
    const call = client.stream('PredictBroken', {});
    const received: number[] = [];
    call.on('data', (message: { result: number }) => received.push(message.result));
    const error = await failureOf(collect(call));
    expect(received).toEqual([1, 2]);
    expect(error.code).toBe(status.INTERNAL);
    expect(error.details).not.toContain('sensor');
  });
});
