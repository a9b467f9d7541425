import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { ModelBatchingOptions } from '../../core/options/batching-options.interface.js';
import type { OnnxModelOptions, OnnxModelSource } from './onnx-model-options.interface.js';

/** One ONNX model to load at startup and make injectable. */
export interface OnnxModelRegistration extends OnnxModelOptions {
  /** Injection name (`@InjectOnnxModel(name)`) and health entry; use the model's `@Model()` name. */
  name: string;
  /** The .onnx file (relative to the working directory) or its bytes. */
  source: OnnxModelSource;
}

/** `OnnxModule.registerAsync()`: the registration built from other providers (config, secrets, ...). */
export interface OnnxModelAsyncRegistration extends Pick<ModuleMetadata, 'imports'> {
  name: string;
  inject?: FactoryProvider['inject'];
  useFactory: (...args: any[]) => Omit<OnnxModelRegistration, 'name'> | Promise<Omit<OnnxModelRegistration, 'name'>>;
}

/** `OnnxModule.serve()`: an endpoint made from the model file alone. */
export interface OnnxServeOptions extends OnnxModelOptions {
  /** A whole number is taken as its digits, as in `@Model()`. @default '1' */
  version?: string;
  /** Comment on the rpc in the generated .proto. */
  description?: string;
  /** Batching overrides, or `false`. */
  batching?: ModelBatchingOptions;
}
