import { status } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { BlazeRpcModule } from '../../lib/index.js';
import { BatchModels } from '../fixtures/batch.models.js';
import { failureOf } from '../helpers/model-client.js';
import { serveForSuite, testServerOptions } from '../helpers/start-app.js';
import { readTensor, tensorMessage } from '../helpers/tensor-message.js';
import { sleep } from '../helpers/time.js';

/** Captures warnings the app logs. */
class WarningLog implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: string): void {
    this.warnings.push(message);
  }
}

describe('adaptive batching over a real connection', () => {
  const log = new WarningLog();
  const suite = serveForSuite(
    { imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [BatchModels] },
    { logger: log },
  );
  let models: BatchModels;
  const rows = (values: number[]) => tensorMessage('float32', [values.length / 2, 2], Float32Array.from(values));
  const double = (values: number[], deadlineMs?: number) =>
    suite.client.unary('PredictDouble', { x: rows(values) }, { deadlineMs });

  beforeAll(() => {
    models = suite.running.app.get(BatchModels);
  });

  beforeEach(() => {
    models.executions.length = 0;
    models.seenIds.length = 0;
  });

  it('gives each of 500 concurrent callers exactly its own rows back, from far fewer executions', async () => {
    const inputs = Array.from({ length: 500 }, (_, i) =>
      Array.from({ length: 2 * (1 + (i % 3)) }, (_, j) => i * 10 + j),
    );
    const results = await Promise.all(inputs.map((values) => double(values)));
    results.forEach((response, i) => {
      expect(Array.from(readTensor(response.result).data as Float32Array)).toEqual(inputs[i].map((v) => v * 2));
    });
    expect(models.executions.reduce((a, b) => a + b, 0)).toBe(inputs.reduce((sum, v) => sum + v.length / 2, 0));
    expect(models.executions.length).toBeLessThan(100);
    expect(Math.max(...models.executions)).toBeLessThanOrEqual(64);
  });

  it('dispatches a partial batch when batchTimeoutMs passes', async () => {
    const started = Date.now();
    await Promise.all([double([1, 2]), double([3, 4]), double([5, 6])]);
    expect(models.executions).toEqual([3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('dispatches a full batch without waiting for the timeout', async () => {
    const started = Date.now();
    await Promise.all([1, 2, 3, 4].map((i) => suite.client.unary('PredictQuickFill', { x: rows([i, i]) })));
    expect(models.executions).toEqual([4]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers RESOURCE_EXHAUSTED when the queue is full, and serves the rest', async () => {
    const release = models.hold();
    const running = suite.client.unary('PredictLabel', { ids: [0] });
    await sleep(30);
    const queued = [1, 2, 3, 4].map((id) => suite.client.unary('PredictLabel', { ids: [id] }));
    await sleep(30);
    const refused = await failureOf(suite.client.unary('PredictLabel', { ids: [5] }));
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.details).toContain("Model 'label' is at capacity");
    release();
    expect((await Promise.all([running, ...queued])).map((r) => r.result)).toEqual([
      ['id-0'],
      ['id-1'],
      ['id-2'],
      ['id-3'],
      ['id-4'],
    ]);
    expect(models.seenIds).not.toContain(5);
  });

  it('evicts a queued request whose deadline passes: DEADLINE_EXCEEDED, and the model never sees it', async () => {
    const release = models.hold();
    const running = suite.client.unary('PredictLabel', { ids: [10] });
    await sleep(30);
    const expired = failureOf(suite.client.unary('PredictLabel', { ids: [11] }, { deadlineMs: 50 }));
    expect((await expired).code).toBe(status.DEADLINE_EXCEEDED);
    // The server's deadline is the timeout it received, counted from when the request arrived: on a
    // loaded machine it passes a little after the client's. The queue drops the request once it has.
    await sleep(100);
    release();
    await running;
    await expect(suite.client.unary('PredictLabel', { ids: [12] })).resolves.toEqual({ result: ['id-12'] });
    expect(models.seenIds).toEqual([10, 12]);
  });

  it('evicts a queued request whose client cancels, and the model never sees it', async () => {
    const release = models.hold();
    const running = suite.client.unary('PredictLabel', { ids: [20] });
    await sleep(30);
    const call = (suite.client.raw as any).PredictLabel({ ids: [21] }, () => undefined);
    await sleep(30);
    call.cancel();
    await sleep(30);
    release();
    await running;
    await suite.client.unary('PredictLabel', { ids: [22] });
    expect(models.seenIds).toEqual([20, 22]);
  });

  it('fails only the batch that failed; the next one succeeds', async () => {
    models.failNextBatch = true;
    const failed = await Promise.all([failureOf(double([1, 1])), failureOf(double([2, 2]))]);
    expect(failed.map((e) => e.code)).toEqual([status.INTERNAL, status.INTERNAL]);
    const ok = await double([3, 3]);
    expect(Array.from(readTensor(ok.result).data as Float32Array)).toEqual([6, 6]);
  });

  it('fails a batch whose result has the wrong number of rows with INTERNAL', async () => {
    const errors = await Promise.all(
      [1, 2].map((i) => failureOf(suite.client.unary('PredictShortChanged', { x: rows([i, i]) }))),
    );
    expect(errors.map((e) => e.code)).toEqual([status.INTERNAL, status.INTERNAL]);
  });

  it('runs guards per request: a denied call never reaches the queue', async () => {
    const denied = await failureOf(suite.client.unary('PredictGuardedLabel', { ids: [30] }));
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    await expect(
      suite.client.unary('PredictGuardedLabel', { ids: [31] }, { metadata: { 'x-allow': 'yes' } }),
    ).resolves.toEqual({
      result: ['ok-31'],
    });
    expect(models.seenIds).toEqual([31]);
  });

  it('concatenates list inputs from several guarded callers and hands each its own items back', async () => {
    const allowed = { metadata: { 'x-allow': 'yes' } };
    const inputs = [[1, 2], [3], [4, 5, 6], [7]];
    const results = await Promise.all(inputs.map((ids) => suite.client.unary('PredictGuardedLabel', { ids }, allowed)));
    expect(results.map((r) => r.result)).toEqual(inputs.map((ids) => ids.map((id) => `ok-${id}`)));
    expect([...models.seenIds].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('runs a @Ctx() model unbatched, with one startup warning naming it', () => {
    const warnings = log.warnings.filter((w) => w.includes("'per-call'"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      "Model 'per-call' (BatchModels.perCall) runs unbatched: it takes @Ctx(), which is per call.",
    );
    expect(suite.running.registry.get('per-call').batching).toBeUndefined();
    expect(suite.running.registry.get('double').batching).toMatchObject({ maxBatchSize: 64, batchTimeoutMs: 20 });
  });
});
