import type { InferenceSession } from 'onnxruntime-node';
import type { TensorDType } from '../../core/tensor/tensor-dtype.js';

/** How an ONNX model's sessions are created. */
export interface OnnxModelOptions {
  /**
   * Model instances: worker threads that each hold their own session, so that
   * `instances` executions run at once (Triton's instance groups). Loading and
   * running never happen on the event loop. A served model batches for as many
   * instances as it has (`maxConcurrentBatches` defaults to this count).
   * At most 64: more instances than cores add no throughput, only memory.
   * Instances start a few at a time, not all at once.
   * @default 1
   */
  instances?: number;
  /**
   * Niceness (0-19) of the instances' threads on Linux: how far below the
   * event loop they run when both want a core. The event loop reads requests,
   * answers health checks and sees cancels; inference still gets every cycle
   * nothing else wants. On a machine where other processes compete for the
   * cores, raising it keeps the server responsive at some cost in throughput
   * (about 10% at 10 in the ONNX bench, where other processes did not compete).
   * From 0 to 19.
   * @default 0
   */
  instanceNiceness?: number;
  /**
   * Execution providers, in order of preference.
   * @default ['cpu']
   */
  executionProviders?: InferenceSession.SessionOptions['executionProviders'];
  /**
   * Further onnxruntime session options (threads, graph optimisation level,
   * ...), applied to every instance. `intraOpNumThreads` defaults to the CPU
   * count divided by `instances` (at least 1), so instances do not fight for cores.
   * `intraOpNumThreads` and `interOpNumThreads` go from 0 (onnxruntime picks
   * one per core) to 64, per instance.
   */
  sessionOptions?: Omit<InferenceSession.SessionOptions, 'executionProviders'>;
}

/** An ONNX model file or its bytes. */
export type OnnxModelSource = string | Uint8Array;

/** One input or output of an ONNX model, as its metadata declares it. */
export interface OnnxValueInfo {
  /** Name in the ONNX graph. */
  readonly name: string;
  /** Element type as our wire dtype, or `undefined` for types a TensorProto cannot carry. */
  readonly dtype: TensorDType | undefined;
  /** Dimensions: sizes, symbolic names for dynamic ones, `-1` where unknown. */
  readonly shape: readonly (number | string)[];
}
