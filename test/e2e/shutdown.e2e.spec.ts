import * as grpc from '@grpc/grpc-js';
import { BlazeRpcModule } from '../../lib/index.js';
import { BatchModels } from '../fixtures/batch.models.js';
import { SlowModels } from '../fixtures/slow.models.js';
import { HealthClient } from '../helpers/health-client.js';
import { collect, failureOf, ModelClient } from '../helpers/model-client.js';
import { startApp, testServerOptions } from '../helpers/start-app.js';
import { sleep } from '../helpers/time.js';

async function startSlowApp(gracePeriodMs: number) {
  const running = await startApp({
    imports: [BlazeRpcModule.forRoot({ ...testServerOptions, gracePeriodMs })],
    providers: [SlowModels],
  });
  return {
    running,
    client: new ModelClient(running.address, running.registry.protoText),
    health: new HealthClient(running.address),
  };
}

describe('graceful shutdown', () => {
  it('turns health NOT_SERVING, refuses new calls, and lets every call in flight finish', async () => {
    const { running, client, health } = await startSlowApp(3000);
    const statuses: string[] = [];
    const watch = health.watch('');
    watch.on('data', (message) => statuses.push(message.status));
    watch.on('error', () => undefined);
    await sleep(50);

    const unary = Array.from({ length: 5 }, (_, i) => client.unary('PredictNap', { ms: 300 + i * 10 }));
    const stream = collect(client.stream('PredictDrip', { count: 10 }));
    await sleep(50);
    const closed = running.app.close();
    await sleep(20);

    const refused = await failureOf(client.unary('PredictNap', { ms: 1 }));
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
    expect((await Promise.all(unary)).map((r) => r.result)).toEqual([
      'napped 300',
      'napped 310',
      'napped 320',
      'napped 330',
      'napped 340',
    ]);
    expect((await stream).map((m) => m.result)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await closed;
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    client.close();
    health.close();
  });

  it('cancels what is still running after the grace period with UNAVAILABLE', async () => {
    const { running, client, health } = await startSlowApp(100);
    const slow = failureOf(client.unary('PredictNap', { ms: 5000 }));
    await sleep(50);
    const started = Date.now();
    await running.app.close();
    const error = await slow;
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toBe('Server shut down before the call finished');
    expect(Date.now() - started).toBeLessThan(2000);
    client.close();
    health.close();
  });

  it('runs requests still queued for a batch before stopping', async () => {
    const running = await startApp({
      imports: [BlazeRpcModule.forRoot({ ...testServerOptions, gracePeriodMs: 3000 })],
      providers: [BatchModels],
    });
    const client = new ModelClient(running.address, running.registry.protoText);
    const models = running.app.get(BatchModels);
    const release = models.hold();
    const calls = [1, 2, 3, 4].map((id) => client.unary('PredictLabel', { ids: [id] }));
    await sleep(50);
    const closed = running.app.close();
    await sleep(50);
    release();
    expect((await Promise.all(calls)).map((r) => r.result)).toEqual([['id-1'], ['id-2'], ['id-3'], ['id-4']]);
    await closed;
    client.close();
  });

  it('answers UNAVAILABLE to requests still queued when the grace period ends', async () => {
    const running = await startApp({
      imports: [BlazeRpcModule.forRoot({ ...testServerOptions, gracePeriodMs: 100 })],
      providers: [BatchModels],
    });
    const client = new ModelClient(running.address, running.registry.protoText);
    const release = running.app.get(BatchModels).hold();
    const calls = [1, 2, 3].map((id) => failureOf(client.unary('PredictLabel', { ids: [id] })));
    await sleep(50);
    await running.app.close();
    expect((await Promise.all(calls)).map((e) => e.code)).toEqual([
      grpc.status.UNAVAILABLE,
      grpc.status.UNAVAILABLE,
      grpc.status.UNAVAILABLE,
    ]);
    release();
    client.close();
  });
});
