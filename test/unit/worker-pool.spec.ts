import { Logger } from '@nestjs/common';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WorkerPool, type PoolResult } from '../../lib/runtimes/onnx/worker/worker-pool.js';
import { InferenceError } from '../../lib/core/errors/inference.error.js';

/** A stand-in model instance (see the script for the tasks it takes). */
const SCRIPT = new URL('../fixtures/workers/echo-instance.worker.mjs', import.meta.url);

interface Echo {
  readonly echo: unknown;
  /** Thread id of the worker that ran the task. */
  readonly pid: number;
}

const pools: WorkerPool[] = [];
const gates: MessagePort[] = [];

async function startPool(size: number, workerData: unknown = {}): Promise<WorkerPool<{ pid: number }>> {
  const pool = await WorkerPool.start<{ pid: number }>({ script: SCRIPT, workerData, size, name: 'echo' });
  pools.push(pool);
  return pool;
}

/** Runs a task that holds in its worker until `open()` is called. */
function runGated(pool: WorkerPool, echo: string): { result: Promise<PoolResult<Echo>>; open: () => void } {
  const { port1, port2 } = new MessageChannel();
  gates.push(port1);
  return { result: pool.run<Echo>({ echo, gate: port2 }, [port2]), open: () => port1.postMessage('open') };
}

/** Worker threads alive in this process, as the diagnostic report sees them. */
function liveThreads(): number {
  return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

afterEach(async () => {
  for (const gate of gates) gate.postMessage('open');
  await Promise.all(pools.map((pool) => pool.close()));
  for (const gate of gates) gate.close();
  pools.length = 0;
  gates.length = 0;
  jest.restoreAllMocks();
});

describe('WorkerPool', () => {
  it('runs tasks on idle instances at once, and queues the rest in FIFO order for the first instance to free up', async () => {
    const pool = await startPool(2);
    expect(pool.size).toBe(2);

    const slow = runGated(pool, 'slow');
    const quick = runGated(pool, 'quick');
    expect(pool.busy).toBe(2);

    const finished: string[] = [];
    const third = pool.run<Echo>({ echo: 'third' }).then((r) => (finished.push('third'), r));
    const fourth = pool.run<Echo>({ echo: 'fourth' }).then((r) => (finished.push('fourth'), r));
    expect(pool.queued).toBe(2);

    // Only the 'quick' instance frees up: the queued tasks run there, one after the other, in order,
    // while 'slow' still holds the other instance.
    quick.open();
    const [q, t3, t4] = await Promise.all([quick.result, third, fourth]);
    expect(finished).toEqual(['third', 'fourth']);
    expect(t3.instance).toBe(q.instance);
    expect(t4.instance).toBe(q.instance);
    expect(t3.value).toEqual({ echo: 'third', pid: q.value.pid });
    expect(pool.busy).toBe(1);
    expect(pool.queued).toBe(0);

    slow.open();
    const s = await slow.result;
    expect(s.value.echo).toBe('slow');
    expect(s.instance).not.toBe(q.instance);
    expect(s.value.pid).not.toBe(q.value.pid);
    // The pool's info is what instance 0 reported when it started.
    expect(pool.info.pid).toBe((s.instance === 0 ? s : q).value.pid);
    expect(pool.busy).toBe(0);
  });

  it("rejects only the task that failed, with the worker's message, and keeps the worker", async () => {
    const pool = await startPool(1);
    const failing = pool.run({ echo: 'x', throw: 'Got invalid dimensions for input: features' });
    const next = pool.run<Echo>({ echo: 'next' });

    await expect(failing).rejects.toThrow(new InferenceError('Got invalid dimensions for input: features', 'echo'));
    await expect(failing).rejects.toBeInstanceOf(InferenceError);
    await expect(next).resolves.toEqual({ value: { echo: 'next', pid: pool.info.pid }, instance: 0 });
  });

  it('fails only the call a crashed worker was running, names the instance, and replaces the worker', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const pool = await startPool(2);
    const first = [runGated(pool, 'a'), runGated(pool, 'b')];
    first.forEach((task) => task.open());
    const pidOf = new Map((await Promise.all(first.map((task) => task.result))).map((r) => [r.instance, r.value.pid]));

    const survivor = runGated(pool, 'survivor');
    const crash = pool.run({ echo: 'boom', crash: true });
    await expect(crash).rejects.toThrow("Instance 1 of model 'echo' stopped while running this call (exit code 1)");
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining("Instance 1 of ONNX model 'echo' stopped (exit code 1); replacing it"),
    );

    // The call on the other instance is untouched.
    survivor.open();
    await expect(survivor.result).resolves.toEqual({ value: { echo: 'survivor', pid: pidOf.get(0) }, instance: 0 });

    // Instance 1 comes back as a new thread: with instance 0 held, the next task waits for it and runs there.
    const held = runGated(pool, 'held');
    const afterCrash = await pool.run<Echo>({ echo: 'after crash' });
    expect(afterCrash.instance).toBe(1);
    expect(afterCrash.value.echo).toBe('after crash');
    expect(afterCrash.value.pid).not.toBe(pidOf.get(1));
    held.open();
    await expect(held.result).resolves.toEqual({ value: { echo: 'held', pid: pidOf.get(0) }, instance: 0 });
    expect(pool.busy).toBe(0);
  });

  it("rejects start with the worker's own message and stops the instances that did start", async () => {
    const before = liveThreads();
    // Two of three instances start; the third cannot load its model.
    const healthy = new Int32Array(new SharedArrayBuffer(4));
    healthy[0] = 2;
    const starting = WorkerPool.start({
      script: SCRIPT,
      workerData: { fail: "Load model from /models/iris.onnx failed: File doesn't exist", healthy },
      size: 3,
      name: 'echo',
    });
    await expect(starting).rejects.toThrow("Load model from /models/iris.onnx failed: File doesn't exist");
    expect(healthy[0]).toBeLessThan(0);
    expect(liveThreads()).toBe(before);
  });

  it('close() lets running and queued tasks finish, refuses new ones, then stops the workers', async () => {
    const before = liveThreads();
    const pool = await startPool(1);
    expect(liveThreads()).toBe(before + 1);
    const running = runGated(pool, 'running');
    const queued = pool.run<Echo>({ echo: 'queued' });

    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    await expect(pool.run({ echo: 'late' })).rejects.toThrow(new InferenceError("Model 'echo' is closed", 'echo'));
    expect(closed).toBe(false);
    expect(liveThreads()).toBe(before + 1);

    running.open();
    await expect(running.result).resolves.toMatchObject({ value: { echo: 'running' } });
    await expect(queued).resolves.toMatchObject({ value: { echo: 'queued' } });
    await closing;
    expect(liveThreads()).toBe(before);
    await expect(pool.run({ echo: 'after' })).rejects.toThrow("Model 'echo' is closed");
  });

  it('close() right after a crash still runs what was queued on the replacement, then stops', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const pool = await startPool(1);
    const crash = pool.run({ echo: 'boom', crash: true });
    const queued = pool.run<Echo>({ echo: 'queued behind the crash' });
    await expect(crash).rejects.toThrow('stopped while running this call');
    const closing = pool.close();
    await expect(queued).resolves.toMatchObject({ value: { echo: 'queued behind the crash' } });
    await closing;
  });

  it('with tasksPerInstance 2, hands an instance its next task while it runs one, and idle instances still come first', async () => {
    const pool = await WorkerPool.start<{ pid: number }>({
      script: SCRIPT,
      workerData: {},
      size: 2,
      name: 'echo',
      tasksPerInstance: 2,
    });
    pools.push(pool);
    const first = runGated(pool, 'first');
    const second = runGated(pool, 'second');
    const third = pool.run<Echo>({ echo: 'third' });
    const fourth = pool.run<Echo>({ echo: 'fourth' });
    const fifth = pool.run<Echo>({ echo: 'fifth' });
    // Both instances are busy, each holds one more task in its thread; only the fifth waits here.
    expect(pool.busy).toBe(2);
    expect(pool.queued).toBe(1);
    first.open();
    second.open();
    const results = await Promise.all([first.result, second.result, third, fourth, fifth]);
    expect(results.map((r) => r.value.echo)).toEqual(['first', 'second', 'third', 'fourth', 'fifth']);
    expect(new Set(results.slice(0, 2).map((r) => r.instance))).toEqual(new Set([0, 1]));
  });
});
