import { Logger } from '@nestjs/common';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { InferenceError } from '../../../core/errors/inference.error.js';

/** How a pool's workers are made. */
export interface WorkerPoolOptions {
  /** The worker script. It posts `{ kind: 'ready', info }` or `{ kind: 'failed', message }` once it can take tasks. */
  readonly script: URL;
  readonly workerData: unknown;
  /** Number of workers (instances). */
  readonly size: number;
  /** Model name, for messages and logs. */
  readonly name: string;
  /**
   * Tasks an instance holds at once: the one it runs and those waiting in its
   * thread, so it goes on to the next without waiting for the event loop to
   * send it. Idle instances are always served first.
   * @default 1
   */
  readonly tasksPerInstance?: number;
}

/** A task's result and the instance that produced it. */
export interface PoolResult<R> {
  readonly value: R;
  readonly instance: number;
}

interface PendingTask {
  readonly task: unknown;
  readonly transfer: readonly TransferListItem[];
  readonly resolve: (result: PoolResult<never>) => void;
  readonly reject: (error: unknown) => void;
}

/** One worker and the tasks it holds (running first), by id. */
interface Instance {
  readonly index: number;
  worker: Worker;
  ready: boolean;
  readonly tasks: Map<number, PendingTask>;
}

type WorkerMessage =
  | { kind: 'ready'; info: unknown }
  | { kind: 'failed'; message: string }
  | { id: number; result: unknown }
  | { id: number; error: string };

const REPLACE_BACKOFF_MS = [100, 1000, 5000, 30000];

/**
 * Workers starting at once in this process, across every pool. A starting
 * worker is at its most expensive (a new isolate, onnxruntime's native code,
 * the model file read and its session built), so a 64-instance model, or ten
 * models loading together at startup, grow memory a few workers at a time
 * rather than all in one tick; a bad start also stops the rest before they cost anything.
 */
export const WORKER_STARTS_AT_ONCE = 4;

let starting = 0;
const startQueue: (() => void)[] = [];

/** Waits for one of the process's `WORKER_STARTS_AT_ONCE` start slots; call the result once the start has settled. */
async function startSlot(): Promise<() => void> {
  if (starting >= WORKER_STARTS_AT_ONCE) await new Promise<void>((resolve) => startQueue.push(resolve));
  else starting++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // Handed straight to the next waiter: were the count to dip first, a newcomer could take the slot ahead of those waiting.
    const next = startQueue.shift();
    if (next) next();
    else starting--;
  };
}

/**
 * @internal A fixed set of stateful worker threads (model instances, as
 * Triton's instance groups): each task goes to an idle instance, else to one
 * with room in its thread (`tasksPerInstance`), or waits in FIFO order. A
 * worker that dies fails only the tasks it held, and is replaced. `close()` lets queued and running tasks finish, then
 * terminates the workers.
 *
 * NOTE: written here rather than on a pool library such as piscina: instances
 * hold state (a loaded session), must each report readiness and load errors at
 * startup, and are addressed as instances (metrics, traces); task pools treat
 * workers as interchangeable and hide all three.
 */
export class WorkerPool<I = unknown> {
  private readonly logger = new Logger('BlazeRpcOnnx');
  private readonly instances: Instance[] = [];
  private readonly waiting: PendingTask[] = [];
  private nextId = 0;
  private closing?: { resolve: () => void; promise: Promise<void> };
  private closed = false;

  private constructor(
    private readonly options: WorkerPoolOptions,
    /** What the first worker reported when it was ready (e.g. the model's inputs and outputs). */
    readonly info: I,
  ) {}

  /**
   * Starts every worker, at most `WORKER_STARTS_AT_ONCE` at a time across the
   * process, and waits until all are ready.
   * @throws Error with the worker's own message when one cannot start (the others are stopped, and those not started yet never start)
   */
  static async start<I>(options: WorkerPoolOptions): Promise<WorkerPool<I>> {
    const workers: { worker: Worker; info: unknown }[] = [];
    let failure: { reason: unknown } | undefined;
    let next = 0;
    const lane = async () => {
      while (!failure && next < options.size) {
        const index = next++;
        try {
          workers[index] = await spawn(options);
        } catch (error) {
          failure ??= { reason: error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WORKER_STARTS_AT_ONCE, options.size) }, lane));
    if (failure) {
      await Promise.all(workers.map((started) => started?.worker.terminate()));
      throw failure.reason;
    }
    const pool = new WorkerPool<I>(options, workers[0].info as I);
    workers.forEach(({ worker }, index) => pool.adopt(index, worker));
    return pool;
  }

  /** Number of instances. */
  get size(): number {
    return this.options.size;
  }

  /** Instances running a task now. */
  get busy(): number {
    return this.instances.filter((instance) => instance.tasks.size > 0).length;
  }

  /** Tasks waiting for an instance. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs a task on an idle instance (or the first to become idle); `transfer` lists buffers moved, not copied, to the worker. */
  run<R>(task: unknown, transfer: readonly TransferListItem[] = []): Promise<PoolResult<R>> {
    if (this.closing)
      return Promise.reject(new InferenceError(`Model '${this.options.name}' is closed`, this.options.name));
    return new Promise<PoolResult<R>>((resolve, reject) => {
      this.waiting.push({ task, transfer, resolve: resolve as PendingTask['resolve'], reject });
      this.dispatch();
    });
  }

  /** Lets queued and running tasks finish, then terminates every worker. */
  close(): Promise<void> {
    if (!this.closing) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r)).then(() => this.terminate());
      this.closing = { resolve, promise };
      this.settleIfIdle();
    }
    return this.closing.promise;
  }

  private adopt(index: number, worker: Worker): void {
    const instance: Instance = this.instances[index] ?? { index, worker, ready: false, tasks: new Map() };
    instance.worker = worker;
    instance.ready = true;
    this.instances[index] = instance;
    worker.unref();
    worker.on('message', (message: WorkerMessage) => this.handleMessage(instance, message));
    worker.on('error', (error) => this.handleExit(instance, worker, error.message));
    worker.on('exit', (code) => this.handleExit(instance, worker, `exit code ${code}`));
    this.dispatch();
  }

  private dispatch(): void {
    const depth = this.options.tasksPerInstance ?? 1;
    for (let load = 0; load < depth && this.waiting.length > 0; load++) {
      for (const instance of this.instances) {
        if (this.waiting.length === 0) break;
        if (instance.ready && instance.tasks.size === load) this.send(instance, this.waiting.shift()!);
      }
    }
    this.settleIfIdle();
  }

  private send(instance: Instance, pending: PendingTask): void {
    const id = this.nextId++;
    instance.tasks.set(id, pending);
    // A busy worker keeps the process alive until its answer arrives; an idle one does not.
    instance.worker.ref();
    try {
      instance.worker.postMessage({ id, task: pending.task }, pending.transfer as TransferListItem[]);
    } catch (error) {
      this.finish(instance, id);
      pending.reject(error);
    }
  }

  private handleMessage(instance: Instance, message: WorkerMessage): void {
    if (!('id' in message)) return;
    const pending = instance.tasks.get(message.id);
    if (!pending) return;
    this.finish(instance, message.id);
    if ('error' in message) pending.reject(new InferenceError(message.error, this.options.name));
    else pending.resolve({ value: message.result as never, instance: instance.index });
    this.dispatch();
  }

  private finish(instance: Instance, id: number): void {
    instance.tasks.delete(id);
    if (instance.tasks.size === 0) instance.worker.unref();
  }

  /** A worker died: fail its task, replace it (unless closing). Called for 'error' and again for 'exit'. */
  private handleExit(instance: Instance, worker: Worker, reason: string): void {
    if (instance.worker !== worker || !instance.ready) return;
    instance.ready = false;
    const lost = [...instance.tasks.values()];
    instance.tasks.clear();
    worker.unref();
    if (this.closed) return;
    void worker.terminate();
    const name = this.options.name;
    this.logger.error(`Instance ${instance.index} of ONNX model '${name}' stopped (${reason}); replacing it`);
    for (const task of lost) {
      task.reject(
        new InferenceError(
          `Instance ${instance.index} of model '${name}' stopped while running this call (${reason})`,
          name,
        ),
      );
    }
    this.replace(instance, 0);
  }

  /** Starts a worker in the instance's place; while closing, only if queued tasks still need it. */
  private replace(instance: Instance, attempt: number): void {
    if (this.closing && this.waiting.length === 0) return this.settleIfIdle();
    spawn(this.options).then(
      ({ worker }) => {
        if (this.closed) void worker.terminate();
        else this.adopt(instance.index, worker);
      },
      (error: Error) => {
        if (this.closing && this.instances.every((other) => !other.ready)) {
          // Shutting down with no instance left to run what is queued: fail it rather than wait forever.
          this.waiting
            .splice(0)
            .forEach((task) =>
              task.reject(new InferenceError(`Model '${this.options.name}' is closed`, this.options.name)),
            );
          return this.settleIfIdle();
        }
        const delay = REPLACE_BACKOFF_MS[Math.min(attempt, REPLACE_BACKOFF_MS.length - 1)];
        this.logger.error(
          `Instance ${instance.index} of ONNX model '${this.options.name}' could not restart: ${error.message}; retrying in ${delay} ms`,
        );
        setTimeout(() => this.replace(instance, attempt + 1), delay).unref();
      },
    );
  }

  private settleIfIdle(): void {
    if (!this.closing || this.waiting.length > 0) return;
    if (this.instances.every((instance) => instance.tasks.size === 0)) this.closing.resolve();
  }

  private async terminate(): Promise<void> {
    this.closed = true;
    await Promise.all(this.instances.map((instance) => instance.worker.terminate()));
  }
}

/** Starts one worker (once a start slot is free) and waits for its first word: ready (with its info) or failed (with why). */
async function spawn(options: WorkerPoolOptions): Promise<{ worker: Worker; info: unknown }> {
  const release = await startSlot();
  try {
    return await spawnNow(options);
  } finally {
    release();
  }
}

function spawnNow(options: WorkerPoolOptions): Promise<{ worker: Worker; info: unknown }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(options.script, { workerData: options.workerData });
    const fail = (error: Error) => {
      cleanup();
      // Rejected once the thread is gone, so a failed start leaves no thread behind when it settles.
      worker.terminate().then(
        () => reject(error),
        () => reject(error),
      );
    };
    const onMessage = (message: WorkerMessage) => {
      if ('kind' in message && message.kind === 'ready') {
        cleanup();
        resolve({ worker, info: message.info });
      } else if ('kind' in message && message.kind === 'failed') {
        fail(new Error(message.message));
      }
    };
    const onError = (error: Error) => fail(error);
    const onExit = (code: number) => fail(new Error(`the worker exited with code ${code} before it was ready`));
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
