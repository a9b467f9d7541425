import { Inject } from '@nestjs/common';
import { getOnnxModelToken } from './onnx.constants.js';

/**
 * Injects the `OnnxModel` registered with `OnnxModule.register({ name })`.
 *
 * @example
 * ```ts
 * constructor(@InjectOnnxModel('iris') private readonly iris: OnnxModel) {}
 * ```
 */
export const InjectOnnxModel = (name: string): ParameterDecorator & PropertyDecorator =>
  Inject(getOnnxModelToken(name));
