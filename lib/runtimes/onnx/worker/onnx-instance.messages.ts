/**
 * @internal Messages between an `OnnxModel` and its instance workers. Tensor
 * data travels as typed arrays whose buffers are transferred, not copied.
 */

/** A tensor crossing the thread boundary: onnxruntime element type, dims and data. */
export interface WireTensor {
  readonly name: string;
  /** onnxruntime's element type name, e.g. `float32`. */
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayBufferView;
}

/** What an instance worker is started with. */
export interface OnnxInstanceData {
  /** File path, or the model's bytes (each worker gets its own copy). */
  readonly source: string | Uint8Array;
  readonly sessionOptions: Record<string, unknown>;
  /** Niceness of the worker thread (Linux); above 0 the event loop gets the CPU first. */
  readonly niceness: number;
}

/** One input or output as the session's metadata describes it. */
export interface WireValueInfo {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

/** Sent once the session has loaded. */
export interface OnnxInstanceInfo {
  readonly inputs: readonly WireValueInfo[];
  readonly outputs: readonly WireValueInfo[];
}

/** One execution. */
export interface OnnxRunTask {
  readonly feeds: readonly WireTensor[];
}

/** Its outputs, the time `session.run()` took, and the input buffers handed back for reuse. */
export interface OnnxRunResult {
  readonly outputs: readonly WireTensor[];
  readonly runMs: number;
  readonly recycled: readonly ArrayBuffer[];
}
