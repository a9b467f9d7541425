import { Logger, type FactoryProvider } from '@nestjs/common';
import { BlazeHealthService } from '../../core/health/blaze-health.service.js';
import type { OnnxModelRegistration } from './onnx-module-options.interface.js';
import { OnnxModel } from './onnx-model.js';
import { getOnnxModelToken } from './onnx.constants.js';

const logger = new Logger('BlazeRpcOnnx');

/**
 * @internal Loads the model while the app starts. Its health entry reads
 * NOT_SERVING until the session is ready; a load failure stops startup with
 * the file and the reason.
 */
export function createOnnxModelProvider(
  name: string,
  registration: (
    ...deps: unknown[]
  ) => Promise<Omit<OnnxModelRegistration, 'name'>> | Omit<OnnxModelRegistration, 'name'>,
  inject: FactoryProvider['inject'] = [],
  token: string = getOnnxModelToken(name),
): FactoryProvider<OnnxModel> {
  return {
    provide: token,
    inject: [...inject, { token: BlazeHealthService, optional: true }],
    useFactory: async (...deps: unknown[]) => {
      const health = deps.pop() as BlazeHealthService | undefined;
      health?.setStatus(name, 'NOT_SERVING');
      const { source, ...options } = await registration(...deps);
      const started = Date.now();
      const model = await OnnxModel.load(source, options);
      const instances = model.instances === 1 ? '1 instance' : `${model.instances} instances`;
      logger.log(`Loaded ONNX model '${name}' from ${model.source} in ${Date.now() - started} ms (${instances})`);
      health?.setStatus(name, 'SERVING');
      return model;
    },
  };
}
