import { status as GrpcStatus } from '@grpc/grpc-js';
import { Tensor } from '../../lib/index.js';
import type { BatchOutputs } from '../../lib/pipeline/batching/batch-merge.js';
import type { BatchPlan } from '../../lib/core/schema/batch-plan.interface.js';
import type { QueuedCall } from '../../lib/pipeline/batching/queued-call.js';
import { ModelBatcher } from '../../lib/pipeline/batching/model-batcher.js';
import type { BatchingOptions } from '../../lib/core/options/batching-options.interface.js';
import { NoopBlazeMetrics } from '../../lib/observability/blaze-metrics.js';
import { CallStatusError } from '../../lib/core/errors/call-status.error.js';

const plan: BatchPlan = { kind: 'tensor', inputs: ['tensor'], outputs: ['tensor'] };
const UNNAMED: BatchOutputs = { named: false, names: ['result'] };

/** One request's arguments: `n` rows of two features, numbered from `start`. */
const request = (n: number, start: number): [Tensor] => [
  Tensor.from(
    'float32',
    [n, 2],
    Array.from({ length: n * 2 }, (_, i) => start + i),
  ),
];
const valuesOf = (tensor: Tensor) => Array.from(tensor.data as Float32Array);
/** What the fake model answers: every value times ten. */
const timesTen = (tensor: Tensor) =>
  Tensor.from(
    'float32',
    tensor.shape,
    valuesOf(tensor).map((v) => v * 10),
  );

/** One execution of the fake model, finished by hand. */
interface Execution {
  readonly input: Tensor;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
}

let executions: Execution[];

function batcher(
  settings: Partial<Required<BatchingOptions>>,
  outputs: BatchOutputs = UNNAMED,
  model = 'iris',
): ModelBatcher {
  const execute = (args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => executions.push({ input: args[0] as Tensor, resolve, reject }));
  return new ModelBatcher(
    model,
    plan,
    {
      enabled: true,
      maxBatchSize: 8,
      batchTimeoutMs: 0,
      maxQueueSize: 1024,
      maxConcurrentBatches: 1,
      tuneBatchSize: false,
      ...settings,
    },
    outputs,
    execute,
    new NoopBlazeMetrics(),
  );
}

/** Answers an execution as the fake model would. */
const answer = (execution: Execution) => execution.resolve(timesTen(execution.input));

/** The reason the server fires a call's signal with when the client cancels (see InflightCall). */
const CLIENT_CANCELLED = { code: GrpcStatus.CANCELLED, details: 'Cancelled by the client' };

const call = (over: Partial<QueuedCall> = {}): QueuedCall => ({ signal: new AbortController().signal, ...over });

/** The gRPC status a request was refused with. */
async function statusOf(pending: Promise<unknown>): Promise<{ code: GrpcStatus; message: string }> {
  const error = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CallStatusError);
  return { code: (error as CallStatusError).code, message: (error as CallStatusError).message };
}

beforeEach(() => {
  executions = [];
  // Fakes setTimeout, Date and performance.now() alike: the batcher measures waits with performance.now().
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('ModelBatcher', () => {
  it('with no timeout, dispatches the first request at once and gathers those arriving while the slot is busy into one batch', async () => {
    const model = batcher({ batchTimeoutMs: 0, maxConcurrentBatches: 1 });
    const first = model.submit(request(1, 0));
    expect(executions).toHaveLength(1);

    const second = model.submit(request(1, 10));
    const third = model.submit(request(2, 20));
    expect(executions).toHaveLength(1);
    expect(model.depth).toBe(2);

    answer(executions[0]);
    expect(valuesOf((await first) as Tensor)).toEqual([0, 10]);
    expect(executions).toHaveLength(2);
    expect(executions[1].input.shape).toEqual([3, 2]);
    expect(valuesOf(executions[1].input)).toEqual([10, 11, 20, 21, 22, 23]);
    expect(model.depth).toBe(0);

    answer(executions[1]);
    expect(valuesOf((await second) as Tensor)).toEqual([100, 110]);
    expect(valuesOf((await third) as Tensor)).toEqual([200, 210, 220, 230]);
  });

  it('with maxConcurrentBatches 2, runs two batches at once; a third waits for a free slot', async () => {
    const model = batcher({ batchTimeoutMs: 0, maxConcurrentBatches: 2 });
    const a = model.submit(request(1, 0));
    const b = model.submit(request(1, 10));
    expect(executions).toHaveLength(2);

    const c = model.submit(request(1, 20));
    expect(executions).toHaveLength(2);
    expect(model.depth).toBe(1);

    // The second slot frees first: the waiting request takes it while the first batch still runs.
    answer(executions[1]);
    expect(valuesOf((await b) as Tensor)).toEqual([100, 110]);
    expect(executions).toHaveLength(3);
    expect(valuesOf(executions[2].input)).toEqual([20, 21]);

    answer(executions[2]);
    answer(executions[0]);
    expect(valuesOf((await c) as Tensor)).toEqual([200, 210]);
    expect(valuesOf((await a) as Tensor)).toEqual([0, 10]);
  });

  it('with batchTimeoutMs 10, holds a partial batch for 10 ms (not less) and takes what arrived meanwhile', () => {
    const model = batcher({ batchTimeoutMs: 10, maxBatchSize: 4 });
    void model.submit(request(1, 0));
    jest.advanceTimersByTime(5);
    void model.submit(request(1, 10));
    jest.advanceTimersByTime(4);
    expect(executions).toHaveLength(0);

    jest.advanceTimersByTime(1);
    expect(executions).toHaveLength(1);
    expect(valuesOf(executions[0].input)).toEqual([0, 1, 10, 11]);
  });

  it('with batchTimeoutMs 10, dispatches a full batch (maxBatchSize rows) at once', () => {
    const model = batcher({ batchTimeoutMs: 10, maxBatchSize: 4 });
    void model.submit(request(1, 0));
    void model.submit(request(3, 10));
    expect(executions).toHaveLength(1);
    expect(executions[0].input.shape).toEqual([4, 2]);

    // The timer armed for the partial batch dispatches nothing more.
    jest.advanceTimersByTime(10);
    expect(executions).toHaveLength(1);
  });

  it('flush() dispatches a partial batch without waiting for the timeout', () => {
    const model = batcher({ batchTimeoutMs: 10, maxBatchSize: 4 });
    void model.submit(request(1, 0));
    void model.submit(request(1, 10));
    expect(executions).toHaveLength(0);

    model.flush();
    expect(executions).toHaveLength(1);
    expect(executions[0].input.shape).toEqual([2, 2]);
  });

  it('evicts a request cancelled while queued with CANCELLED; it never reaches the model', async () => {
    const model = batcher({ batchTimeoutMs: 0, maxConcurrentBatches: 1 });
    const running = model.submit(request(1, 0));
    const controller = new AbortController();
    const cancelled = model.submit(request(1, 10), call({ signal: controller.signal }));
    const kept = model.submit(request(1, 20), call());

    // As the server fires a call's signal when the client cancels.
    controller.abort(CLIENT_CANCELLED);
    expect(await statusOf(cancelled)).toEqual({ code: GrpcStatus.CANCELLED, message: 'Cancelled by the client' });
    expect(model.depth).toBe(1);

    answer(executions[0]);
    await running;
    expect(executions).toHaveLength(2);
    expect(valuesOf(executions[1].input)).toEqual([20, 21]);
    answer(executions[1]);
    expect(valuesOf((await kept) as Tensor)).toEqual([200, 210]);
  });

  it('answers with the status the signal fired with (the server fires it at the deadline too)', async () => {
    const model = batcher({ batchTimeoutMs: 0, maxConcurrentBatches: 1 });
    void model.submit(request(1, 0));
    const controller = new AbortController();
    const expired = model.submit(request(1, 10), call({ signal: controller.signal }));
    controller.abort({ code: GrpcStatus.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
    expect(await statusOf(expired)).toEqual({ code: GrpcStatus.DEADLINE_EXCEEDED, message: 'Deadline exceeded' });
    expect(model.depth).toBe(0);
  });

  it('refuses a request whose call is already cancelled without queueing it', async () => {
    const model = batcher({ batchTimeoutMs: 10 });
    const controller = new AbortController();
    controller.abort(CLIENT_CANCELLED);
    expect(await statusOf(model.submit(request(1, 0), call({ signal: controller.signal })))).toEqual({
      code: GrpcStatus.CANCELLED,
      message: 'Cancelled by the client',
    });
    expect(model.depth).toBe(0);
    jest.advanceTimersByTime(10);
    expect(executions).toHaveLength(0);
  });

  it('answers a queued request whose deadline has passed with DEADLINE_EXCEEDED; it never reaches the model', async () => {
    const model = batcher({ batchTimeoutMs: 0, maxConcurrentBatches: 1 });
    const running = model.submit(request(1, 0));
    const expired = model.submit(request(1, 10), call({ deadline: new Date(Date.now() + 50) }));
    const inTime = model.submit(request(1, 20), call({ deadline: new Date(Date.now() + 1000) }));

    jest.advanceTimersByTime(100);
    answer(executions[0]);
    await running;
    expect(await statusOf(expired)).toEqual({
      code: GrpcStatus.DEADLINE_EXCEEDED,
      message: 'Deadline exceeded while queued',
    });
    expect(executions).toHaveLength(2);
    expect(valuesOf(executions[1].input)).toEqual([20, 21]);
    answer(executions[1]);
    expect(valuesOf((await inTime) as Tensor)).toEqual([200, 210]);
  });

  it('refuses requests beyond maxQueueSize with RESOURCE_EXHAUSTED, naming the model', async () => {
    const model = batcher({ batchTimeoutMs: 0, maxConcurrentBatches: 1, maxQueueSize: 2 }, UNNAMED, 'resnet');
    const running = model.submit(request(1, 0));
    const queued = [model.submit(request(1, 10)), model.submit(request(1, 20))];

    const refused = await statusOf(model.submit(request(1, 30)));
    expect(refused.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(refused.message).toBe("Model 'resnet' is at capacity: 2 requests queued (maxQueueSize); retry with backoff");

    // Once the queue drains, requests are taken again.
    answer(executions[0]);
    await running;
    expect(valuesOf(executions[1].input)).toEqual([10, 11, 20, 21]);
    const later = model.submit(request(1, 40));
    expect(model.depth).toBe(1);
    answer(executions[1]);
    await Promise.all(queued);
    answer(executions[2]);
    expect(valuesOf((await later) as Tensor)).toEqual([400, 410]);
  });

  it('gives each request of a batch its own rows of the result', async () => {
    const model = batcher({ batchTimeoutMs: 10, maxBatchSize: 8 });
    const pending = [model.submit(request(1, 0)), model.submit(request(3, 10)), model.submit(request(2, 20))];
    jest.advanceTimersByTime(10);
    expect(executions).toHaveLength(1);
    expect(executions[0].input.shape).toEqual([6, 2]);

    answer(executions[0]);
    const results = (await Promise.all(pending)) as Tensor[];
    expect(results.map((t) => t.shape)).toEqual([
      [1, 2],
      [3, 2],
      [2, 2],
    ]);
    expect(results.map(valuesOf)).toEqual([
      [0, 10],
      [100, 110, 120, 130, 140, 150],
      [200, 210, 220, 230],
    ]);
  });

  it("gives a model whose single named output is called 'result' a { result } per request", async () => {
    const model = batcher({ batchTimeoutMs: 10 }, { named: true, names: ['result'] });
    const pending = [model.submit(request(2, 0)), model.submit(request(1, 10))];
    jest.advanceTimersByTime(10);
    executions[0].resolve({ result: timesTen(executions[0].input) });

    const [a, b] = (await Promise.all(pending)) as { result: Tensor }[];
    expect(Object.keys(a)).toEqual(['result']);
    expect(a.result.shape).toEqual([2, 2]);
    expect(valuesOf(a.result)).toEqual([0, 10, 20, 30]);
    expect(Object.keys(b)).toEqual(['result']);
    expect(valuesOf(b.result)).toEqual([100, 110]);
  });

  it('never batches requests with different trailing shapes together', () => {
    const model = batcher({ batchTimeoutMs: 10, maxConcurrentBatches: 2 });
    void model.submit(request(1, 0));
    void model.submit([Tensor.from('float32', [1, 3], [7, 8, 9])]);
    void model.submit(request(1, 10));
    jest.advanceTimersByTime(10);
    expect(executions.map((e) => e.input.shape)).toEqual([
      [2, 2],
      [1, 3],
    ]);
  });

  it('rejects every request of a batch whose execution fails, and still runs the next batch', async () => {
    const model = batcher({ batchTimeoutMs: 0, maxConcurrentBatches: 1 });
    const first = model.submit(request(1, 0));
    const failing = [model.submit(request(1, 10)), model.submit(request(1, 20))];
    answer(executions[0]);
    await first;
    expect(executions).toHaveLength(2);

    const next = model.submit(request(1, 30));
    const failure = new Error('Non-zero status code returned while running Gemm node');
    executions[1].reject(failure);
    for (const request of failing) await expect(request).rejects.toBe(failure);

    expect(executions).toHaveLength(3);
    expect(valuesOf(executions[2].input)).toEqual([30, 31]);
    answer(executions[2]);
    expect(valuesOf((await next) as Tensor)).toEqual([300, 310]);
  });

  it('answers CANCELLED when a signal aborts with a reason that is not a gRPC status (a plain abort())', async () => {
    const b = batcher({});
    const busy = b.submit(request(1, 0));
    const controller = new AbortController();
    const queued = b.submit(request(1, 2), { signal: controller.signal });
    controller.abort();
    expect(await statusOf(queued)).toEqual({ code: GrpcStatus.CANCELLED, message: 'Cancelled' });
    answer(executions[0]);
    await busy;
  });

  it('fails a lone request whose handler returns the wrong number of rows, as it would in a batch', async () => {
    const b = batcher({});
    const lone = b.submit(request(2, 0));
    executions[0].resolve(Tensor.from('float32', [1, 2], [0, 0]));
    await expect(lone).rejects.toThrow("Model 'iris' returned 1 rows for 'result' in a batch of 2 rows");
  });
});

describe('ModelBatcher with tuneBatchSize', () => {
  it('under full load, settles on the batch size that runs fastest per row', async () => {
    // ms per row by batch size: cheapest at 2 rows.
    const perRowMs: Record<number, number> = { 1: 1.2, 2: 1.0, 4: 1.3, 8: 1.6 };
    const sizes: number[] = [];
    const execute = (args: unknown[]) => {
      const input = args[0] as Tensor;
      sizes.push(input.shape[0]);
      return new Promise<unknown>((resolve) =>
        setTimeout(() => resolve(timesTen(input)), input.shape[0] * perRowMs[input.shape[0]]),
      );
    };
    const settings = {
      enabled: true,
      maxBatchSize: 8,
      batchTimeoutMs: 0,
      maxQueueSize: 4096,
      maxConcurrentBatches: 1,
      tuneBatchSize: true,
    };
    const tuned = new ModelBatcher('cnn', plan, settings, UNNAMED, execute, new NoopBlazeMetrics());
    const pending = Array.from({ length: 3000 }, (_, i) => tuned.submit(request(1, i)));
    await jest.advanceTimersByTimeAsync(5000);
    await Promise.all(pending);
    // The first request leaves alone at once; the rest queue behind it and leave in full batches until the tuner learns.
    expect(sizes.slice(0, 3)).toEqual([1, 8, 8]);
    const last = sizes.slice(-200);
    expect(last.filter((size) => size === 2).length).toBeGreaterThan(150);
  });
});
