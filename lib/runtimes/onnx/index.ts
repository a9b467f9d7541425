export { InjectOnnxModel } from './inject-onnx-model.decorator.js';
export type { OnnxModelOptions, OnnxModelSource, OnnxValueInfo } from './onnx-model-options.interface.js';
export { OnnxModel } from './onnx-model.js';
export type {
  OnnxModelAsyncRegistration,
  OnnxModelRegistration,
  OnnxServeOptions,
} from './onnx-module-options.interface.js';
export { getOnnxModelToken } from './onnx.constants.js';
export { OnnxModule } from './onnx.module.js';
export type { OnnxRepositoryModelConfig, OnnxRepositoryOptions, OnnxVersionPolicy } from './onnx-repository.options.js';
export { fromOrtTensor, toOrtTensor } from './onnx-tensor.interop.js';
export { OnnxModelRepository } from './onnx-model-repository.js';
