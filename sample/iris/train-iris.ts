/**
 * Trains the sample's iris classifier and writes it as ONNX:
 *   npm run train:iris
 * Reads sample/iris/iris.csv, writes sample/iris/iris.onnx, prints the training accuracy.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { IRIS_SPECIES, readIrisCsv } from './iris-data.js';
import { exportIrisOnnx } from './iris-onnx.export.js';
import { predictProbabilities, trainSoftmaxRegression } from './softmax-regression.js';

const csvPath = resolve(process.argv[2] ?? 'sample/iris/iris.csv');
const onnxPath = resolve(process.argv[3] ?? 'sample/iris/iris.onnx');

const samples = readIrisCsv(csvPath);
const model = trainSoftmaxRegression(samples, IRIS_SPECIES.length);
const correct = samples.filter((s) => {
  const p = predictProbabilities(model, s.features);
  return p.indexOf(Math.max(...p)) === s.label;
}).length;
const bytes = exportIrisOnnx(model);
writeFileSync(onnxPath, bytes);
console.log(
  `Trained on ${samples.length} rows: accuracy ${((100 * correct) / samples.length).toFixed(1)}%; wrote ${bytes.byteLength} bytes to ${onnxPath}`,
);
