import { writeOnnxModel } from '../sample/iris/onnx-writer.js';

/**
 * A heavier model for the batching bench: four dense layers (512 -> 2048 ->
 * 2048 -> 2048 -> 16, ReLU between), deterministic weights. One row takes
 * about 0.85 ms on one thread (a batch of 64 about 7 ms), so batching has
 * real work to amortise.
 */
export function writeDenseModel(widths = [512, 2048, 2048, 2048, 16]): Uint8Array {
  let seed = 42;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.1;
  const layers = widths.slice(1).map((out, i) => ({ in: widths[i], out }));
  return writeOnnxModel({
    name: 'dense_bench',
    inputs: [{ name: 'x', elemType: 'float', shape: ['batch', widths[0]] }],
    outputs: [{ name: 'y', elemType: 'float', shape: ['batch', widths[widths.length - 1]] }],
    initializers: layers.map((layer, i) => ({
      name: `w${i}`,
      dims: [layer.in, layer.out],
      values: Float32Array.from({ length: layer.in * layer.out }, random),
    })),
    nodes: layers.flatMap((_, i) => {
      const input = i === 0 ? 'x' : `h${i}`;
      const product = i === layers.length - 1 ? 'y' : `z${i}`;
      const matmul = { op: 'MatMul', inputs: [input, `w${i}`], outputs: [product] };
      return i === layers.length - 1 ? [matmul] : [matmul, { op: 'Relu', inputs: [product], outputs: [`h${i + 1}`] }];
    }),
  });
}
