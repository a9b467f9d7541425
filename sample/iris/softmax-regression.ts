import type { IrisSample } from './iris-data.js';

/** A trained multinomial logistic regression on standardised features. */
export interface SoftmaxRegression {
  /** Per-feature mean and standard deviation used to standardise inputs. */
  mean: number[];
  std: number[];
  /** weights[feature][class] and bias[class], applied to standardised features. */
  weights: number[][];
  bias: number[];
}

/**
 * Fits softmax regression with full-batch gradient descent. Deterministic
 * (zero initialisation, fixed epochs), so retraining gives the same model.
 */
export function trainSoftmaxRegression(
  samples: IrisSample[],
  classes: number,
  epochs = 3000,
  learningRate = 0.5,
  l2 = 1e-4,
): SoftmaxRegression {
  const features = samples[0].features.length;
  const mean = Array.from({ length: features }, (_, f) => average(samples.map((s) => s.features[f])));
  const std = Array.from(
    { length: features },
    (_, f) => Math.sqrt(average(samples.map((s) => (s.features[f] - mean[f]) ** 2))) || 1,
  );
  const x = samples.map((s) => s.features.map((v, f) => (v - mean[f]) / std[f]));
  const weights = Array.from({ length: features }, () => new Array<number>(classes).fill(0));
  const bias = new Array<number>(classes).fill(0);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gradW = weights.map((row) => row.map(() => 0));
    const gradB = bias.map(() => 0);
    x.forEach((row, i) => {
      const p = softmax(bias.map((b, c) => b + row.reduce((sum, v, f) => sum + v * weights[f][c], 0)));
      p.forEach((pc, c) => {
        const error = pc - (samples[i].label === c ? 1 : 0);
        gradB[c] += error;
        row.forEach((v, f) => (gradW[f][c] += error * v));
      });
    });
    weights.forEach((row, f) => row.forEach((w, c) => (row[c] -= learningRate * (gradW[f][c] / x.length + l2 * w))));
    bias.forEach((b, c) => (bias[c] -= (learningRate * gradB[c]) / x.length));
  }
  return { mean, std, weights, bias };
}

/** Class probabilities for one sample, computed in plain TypeScript (to check the exported graph against). */
export function predictProbabilities(model: SoftmaxRegression, features: number[]): number[] {
  const row = features.map((v, f) => (v - model.mean[f]) / model.std[f]);
  return softmax(model.bias.map((b, c) => b + row.reduce((sum, v, f) => sum + v * model.weights[f][c], 0)));
}

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

function average(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
