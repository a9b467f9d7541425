import { access } from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import { ConfigurationError } from '../../errors/configuration.error.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OnnxModelOptions, OnnxModelSource, OnnxValueInfo } from './onnx-model-options.interface.js';
import { loadOnnxRuntime, type OrtModule } from './onnx-runtime.loader.js';
import { dtypeOfOrtType, fromOrtTensor, toOrtTensor } from './onnx-tensor.interop.js';

/** A session and the runs still using it, so a reload can retire it once they finish. */
interface SessionSlot {
  readonly session: InferenceSession;
  running: number;
  retired: boolean;
}

/**
 * An ONNX model on onnxruntime-node. Tensors go in and come out without
 * copying their data; `reload()` swaps the model while it serves.
 *
 * @example
 * ```ts
 * const model = await OnnxModel.load('models/iris.onnx');
 * const [probabilities] = await model.predict(features);
 * ```
 */
export class OnnxModel {
  private slot: SessionSlot;

  private constructor(
    private readonly ort: OrtModule,
    session: InferenceSession,
    private readonly options: OnnxModelOptions,
    private origin: string,
  ) {
    this.slot = { session, running: 0, retired: false };
  }

  /**
   * Loads a model from a file path or its bytes.
   * @throws ConfigurationError naming the file and the reason when it cannot be loaded
   */
  static async load(source: OnnxModelSource, options: OnnxModelOptions = {}): Promise<OnnxModel> {
    const ort = await loadOnnxRuntime();
    const session = await createSession(ort, source, options);
    return new OnnxModel(ort, session, options, describeSource(source));
  }

  /** Where the serving session came from: the file path, or the byte count. */
  get source(): string {
    return this.origin;
  }

  /** Input names, in the order `predict()` takes them. */
  get inputNames(): readonly string[] {
    return this.slot.session.inputNames;
  }

  /** Output names, in the order `predict()` returns them. */
  get outputNames(): readonly string[] {
    return this.slot.session.outputNames;
  }

  /** Inputs with their dtypes and shapes (dynamic dimensions as names or -1). */
  get inputs(): readonly OnnxValueInfo[] {
    return this.slot.session.inputMetadata.map(valueInfo);
  }

  /** Outputs with their dtypes and shapes. */
  get outputs(): readonly OnnxValueInfo[] {
    return this.slot.session.outputMetadata.map(valueInfo);
  }

  /** Runs the model on inputs given by position; resolves to every output, in order. */
  async predict(...inputs: Tensor[]): Promise<Tensor[]> {
    const names = this.inputNames;
    if (inputs.length !== names.length) {
      throw new Error(`ONNX model ${this.origin} takes ${names.length} input(s) (${names.join(', ')}), got ${inputs.length}`);
    }
    const outputs = await this.predictDict(Object.fromEntries(names.map((name, i) => [name, inputs[i]])));
    return this.outputNames.map((name) => outputs[name]);
  }

  /** Runs the model on named inputs; resolves to named outputs. */
  async predictDict(inputs: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
    const slot = this.slot;
    slot.running++;
    try {
      const feeds = Object.fromEntries(Object.entries(inputs).map(([name, tensor]) => [name, toOrtTensor(this.ort, tensor)]));
      const results = await slot.session.run(feeds);
      return Object.fromEntries(Object.entries(results).map(([name, value]) => [name, fromOrtTensor(value, name)]));
    } finally {
      slot.running--;
      if (slot.retired && slot.running === 0) void slot.session.release();
    }
  }

  /**
   * Swaps in a new model without a restart: runs in flight finish on the old
   * session, new runs use the new one, and the old one is released after.
   * If the new model cannot be loaded, the old one keeps serving.
   */
  async reload(source: OnnxModelSource): Promise<void> {
    const session = await createSession(this.ort, source, this.options);
    const old = this.slot;
    this.slot = { session, running: 0, retired: false };
    this.origin = describeSource(source);
    old.retired = true;
    if (old.running === 0) await old.session.release();
  }

  /** Releases the session. */
  async dispose(): Promise<void> {
    this.slot.retired = true;
    if (this.slot.running === 0) await this.slot.session.release();
  }
}

async function createSession(ort: OrtModule, source: OnnxModelSource, options: OnnxModelOptions): Promise<InferenceSession> {
  const sessionOptions = { ...options.sessionOptions, executionProviders: options.executionProviders ?? ['cpu'] };
  if (typeof source === 'string') {
    await access(source).catch(() => {
      throw new ConfigurationError(`Cannot load ONNX model '${source}': the file does not exist (resolved from ${process.cwd()})`);
    });
  }
  try {
    return typeof source === 'string'
      ? await ort.InferenceSession.create(source, sessionOptions)
      : await ort.InferenceSession.create(source, sessionOptions);
  } catch (error) {
    throw new ConfigurationError(`Cannot load ONNX model ${describeSource(source)}: ${(error as Error).message}`, { cause: error });
  }
}

function describeSource(source: OnnxModelSource): string {
  return typeof source === 'string' ? `'${source}'` : `(${source.byteLength} bytes)`;
}

function valueInfo(meta: InferenceSession.ValueMetadata): OnnxValueInfo {
  return meta.isTensor
    ? { name: meta.name, dtype: dtypeOfOrtType(meta.type), shape: meta.shape }
    : { name: meta.name, dtype: undefined, shape: [] };
}
