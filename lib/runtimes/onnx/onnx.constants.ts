/** Injection token of the ONNX model registered under `name`. */
export function getOnnxModelToken(name: string): string {
  return `blazerpc:onnx-model:${name}`;
}
