import { writeOnnxModel, type OnnxGraphSpec } from './onnx-writer.js';
import type { SoftmaxRegression } from './softmax-regression.js';

/** Output names of the exported iris graph. */
export interface IrisExportOptions {
  /** Also output the predicted class index (`label`, int64 [batch]) after the probabilities. */
  withLabel?: boolean;
}

/**
 * The iris classifier as an ONNX graph:
 * features [batch, 4] -> (x - mean) / std -> MatMul W [4, 3] -> Add b -> Softmax -> probabilities [batch, 3]
 * (and, with `withLabel`, ArgMax -> label [batch]).
 */
export function exportIrisOnnx(model: SoftmaxRegression, options: IrisExportOptions = {}): Uint8Array {
  const classes = model.bias.length;
  const graph: OnnxGraphSpec = {
    name: 'iris_softmax_regression',
    doc: 'Softmax regression on the iris data set; outputs class probabilities (setosa, versicolor, virginica).',
    inputs: [{ name: 'features', elemType: 'float', shape: ['batch', model.mean.length] }],
    outputs: [{ name: 'probabilities', elemType: 'float', shape: ['batch', classes] }],
    initializers: [
      { name: 'mean', dims: [model.mean.length], values: Float32Array.from(model.mean) },
      { name: 'std', dims: [model.std.length], values: Float32Array.from(model.std) },
      { name: 'weights', dims: [model.weights.length, classes], values: Float32Array.from(model.weights.flat()) },
      { name: 'bias', dims: [classes], values: Float32Array.from(model.bias) },
    ],
    nodes: [
      { op: 'Sub', inputs: ['features', 'mean'], outputs: ['centered'] },
      { op: 'Div', inputs: ['centered', 'std'], outputs: ['standardized'] },
      { op: 'MatMul', inputs: ['standardized', 'weights'], outputs: ['scores'] },
      { op: 'Add', inputs: ['scores', 'bias'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: 1 } },
    ],
  };
  if (options.withLabel) {
    graph.outputs.push({ name: 'label', elemType: 'int64', shape: ['batch'] });
    graph.nodes.push({
      op: 'ArgMax',
      inputs: ['probabilities'],
      outputs: ['label'],
      attributes: { axis: 1, keepdims: 0 },
    });
  }
  return writeOnnxModel(graph);
}
