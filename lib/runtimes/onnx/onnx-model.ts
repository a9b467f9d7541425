import { otel } from '../../observability/otel-api.js';
import type { OnApplicationShutdown } from '@nestjs/common';
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { ConfigurationError } from '../../core/errors/configuration.error.js';
import { recycleTensorBuffer } from '../../core/tensor/tensor-buffers.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import type { OnnxModelOptions, OnnxModelSource, OnnxValueInfo } from './onnx-model-options.interface.js';
import { checkLoadOptions } from './onnx-options.validator.js';
import { loadOnnxRuntime } from './onnx-runtime.loader.js';
import { dtypeOfOrtType, fromWireTensor, toWireTensor } from './onnx-tensor.interop.js';
import type {
  OnnxInstanceData,
  OnnxInstanceInfo,
  OnnxRunResult,
  WireValueInfo,
} from './worker/onnx-instance.messages.js';
import { WorkerPool } from './worker/worker-pool.js';

/** Measured: a lower priority cost 10% throughput and did not shorten event-loop delays (GC pauses set those). */
const DEFAULT_NICENESS = 0;

/** Tasks an instance holds: the one it runs, and the next, ready to start when it ends (callers with more calls in flight than instances). */
const TASKS_PER_INSTANCE = 2;

const INSTANCE_SCRIPT = new URL('./worker/onnx-instance.worker.js', import.meta.url);

/** @internal One execution's outputs, how long `session.run()` took, and the instance that ran it. */
export interface OnnxRun {
  readonly outputs: Record<string, Tensor>;
  readonly runMs: number;
  readonly instance: number;
}

/**
 * An ONNX model on onnxruntime-node, run in worker threads: `instances`
 * sessions, each in its own thread, so inference never blocks the event loop
 * and that many executions run at once. Results come back without a copy;
 * `reload()` swaps the model while it serves.
 *
 * @example
 * ```ts
 * const model = await OnnxModel.load('models/iris.onnx', { instances: 2 });
 * const [probabilities] = await model.predict(features);
 * await model.dispose();
 * ```
 */
export class OnnxModel implements OnApplicationShutdown {
  private constructor(
    private pool: WorkerPool<OnnxInstanceInfo>,
    private readonly options: OnnxModelOptions,
    private origin: string,
  ) {}

  /**
   * Loads a model from a file path or its bytes, in `options.instances` worker threads
   * (started a few at a time).
   * @throws ConfigurationError naming the file and the reason when it cannot be loaded,
   *   or the option and the closest known one, the type or the range when one is
   *   unknown, of the wrong type or out of bounds (e.g. `instances` above 64)
   */
  static async load(source: OnnxModelSource, options: OnnxModelOptions = {}): Promise<OnnxModel> {
    return new OnnxModel(await startInstances(source, options), options, describeSource(source));
  }

  /** Where the serving session came from: the file path, or the byte count. */
  get source(): string {
    return this.origin;
  }

  /** The source's file name without its directories (`iris.onnx`), or its byte count: safe to show to clients. */
  get sourceName(): string {
    return this.origin.startsWith("'") ? `'${basename(this.origin.slice(1, -1))}'` : this.origin;
  }

  /** Number of instances (sessions in worker threads). */
  get instances(): number {
    return this.pool.size;
  }

  /** Input names, in the order `predict()` takes them. */
  get inputNames(): readonly string[] {
    return this.pool.info.inputs.map((input) => input.name);
  }

  /** Output names, in the order `predict()` returns them. */
  get outputNames(): readonly string[] {
    return this.pool.info.outputs.map((output) => output.name);
  }

  /** Inputs with their dtypes and shapes (dynamic dimensions as names or -1). */
  get inputs(): readonly OnnxValueInfo[] {
    return this.pool.info.inputs.map(valueInfo);
  }

  /** Outputs with their dtypes and shapes. */
  get outputs(): readonly OnnxValueInfo[] {
    return this.pool.info.outputs.map(valueInfo);
  }

  /** Runs the model on inputs given by position; resolves to every output, in order. */
  async predict(...inputs: Tensor[]): Promise<Tensor[]> {
    const names = this.inputNames;
    if (inputs.length !== names.length) {
      throw new Error(
        `ONNX model ${this.origin} takes ${names.length} input(s) (${names.join(', ')}), got ${inputs.length}`,
      );
    }
    const outputs = await this.predictDict(Object.fromEntries(names.map((name, i) => [name, inputs[i]])));
    return this.outputNames.map((name) => outputs[name]);
  }

  /** Runs the model on named inputs; resolves to named outputs. Your tensors are copied once, never changed. */
  async predictDict(inputs: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
    return (await this.run(inputs, false)).outputs;
  }

  /**
   * @internal Runs on the first free instance. With `consume`, buffers this
   * library made for the call (batch merges) move to the worker without a
   * copy; the caller must not read those tensors afterwards.
   */
  async run(inputs: Readonly<Record<string, Tensor>>, consume: boolean): Promise<OnnxRun> {
    const moving = new Set<ArrayBuffer>();
    const feeds = Object.entries(inputs).map(([name, tensor]) => toWireTensor(name, tensor, consume, moving));
    const { value, instance } = await this.pool.run<OnnxRunResult>({ feeds }, [...moving]);
    value.recycled.forEach(recycleTensorBuffer);
    const outputs: Record<string, Tensor> = {};
    for (const output of value.outputs) outputs[output.name] = fromWireTensor(output);
    // The active span is the batch execution's (or, unbatched, the call's): say which instance ran it, and how long.
    otel?.trace
      .getActiveSpan()
      ?.setAttributes({ 'blazerpc.instance': instance, 'blazerpc.inference_seconds': value.runMs / 1000 });
    return { outputs, runMs: value.runMs, instance };
  }

  /**
   * Swaps in a new model without a restart: new instances load it, calls
   * switch to them once all are ready, and the old instances finish what they
   * run and stop. If the new model cannot be loaded, the old one keeps serving.
   */
  async reload(source: OnnxModelSource): Promise<void> {
    const next = await startInstances(source, this.options);
    const old = this.pool;
    this.pool = next;
    this.origin = describeSource(source);
    await old.close();
  }

  /** Lets running executions finish, then stops the instances' threads. */
  async dispose(): Promise<void> {
    await this.pool.close();
  }

  /** Called by Nest after the app (and its gRPC server) has closed. */
  async onApplicationShutdown(): Promise<void> {
    await this.dispose();
  }
}

async function startInstances(
  source: OnnxModelSource,
  options: OnnxModelOptions,
): Promise<WorkerPool<OnnxInstanceInfo>> {
  checkLoadOptions(`ONNX model ${describeSource(source)}:`, source, options);
  const instances = options.instances ?? 1;
  // Fails fast, on this thread, with an install hint when the peer dependency is missing.
  await loadOnnxRuntime();
  if (typeof source === 'string') {
    await access(source).catch(() => {
      throw new ConfigurationError(
        `Cannot load ONNX model '${source}': the file does not exist (resolved from ${process.cwd()})`,
      );
    });
  }
  const sessionOptions = {
    intraOpNumThreads: Math.max(1, Math.floor(availableParallelism() / instances)),
    ...options.sessionOptions,
    executionProviders: options.executionProviders ?? ['cpu'],
  };
  const workerData: OnnxInstanceData = {
    source,
    sessionOptions,
    niceness: options.instanceNiceness ?? DEFAULT_NICENESS,
  };
  try {
    return await WorkerPool.start<OnnxInstanceInfo>({
      script: INSTANCE_SCRIPT,
      workerData,
      size: instances,
      tasksPerInstance: TASKS_PER_INSTANCE,
      name: typeof source === 'string' ? source : describeSource(source),
    });
  } catch (error) {
    throw new ConfigurationError(`Cannot load ONNX model ${describeSource(source)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function describeSource(source: OnnxModelSource): string {
  if (typeof source === 'string') return `'${source}'`;
  // Anything else is refused by checkLoadOptions, in a message that must not fail to be made.
  return source instanceof Uint8Array ? `(${source.byteLength} bytes)` : '(no source)';
}

function valueInfo(meta: WireValueInfo): OnnxValueInfo {
  return meta.isTensor && meta.type
    ? { name: meta.name, dtype: dtypeOfOrtType(meta.type), shape: meta.shape ?? [] }
    : { name: meta.name, dtype: undefined, shape: [] };
}
