import type { InferenceSession } from 'onnxruntime-node';
import type { TensorDType } from '../../tensor/tensor-dtype.js';

/** How an ONNX model's session is created. */
export interface OnnxModelOptions {
  /**
   * Execution providers, in order of preference.
   * @default ['cpu']
   */
  executionProviders?: InferenceSession.SessionOptions['executionProviders'];
  /** Further onnxruntime session options (threads, graph optimisation level, ...). */
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
