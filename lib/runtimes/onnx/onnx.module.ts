import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { OnnxModelSource } from './onnx-model-options.interface.js';
import { OnnxModel } from './onnx-model.js';
import { createOnnxEndpoint } from './onnx-endpoint.factory.js';
import { createOnnxModelProvider } from './onnx-model.provider.js';
import type { OnnxModelAsyncRegistration, OnnxModelRegistration, OnnxServeOptions } from './onnx-module-options.interface.js';
import { getOnnxModelToken } from './onnx.constants.js';
import { BlazeMetrics } from '../../metrics/blaze-metrics.js';

/**
 * ONNX Runtime models as Nest providers.
 *
 * @example
 * ```ts
 * // inject a model into your own @Model() handler
 * imports: [OnnxModule.register({ name: 'iris', source: 'models/iris.onnx' })]
 * constructor(@InjectOnnxModel('iris') private readonly iris: OnnxModel) {}
 *
 * // or serve a file with no handler code at all
 * imports: [OnnxModule.serve('iris', 'models/iris.onnx')]
 * ```
 */
@Module({})
export class OnnxModule {
  /** Loads each model at startup and makes it injectable with `@InjectOnnxModel(name)`. */
  static register(...registrations: OnnxModelRegistration[]): DynamicModule {
    const providers = registrations.map(({ name, ...registration }) => createOnnxModelProvider(name, () => registration));
    return { module: OnnxModule, providers, exports: providers.map((p) => p.provide) };
  }

  /** Like `register()`, with the source and options built by a factory from other providers. */
  static registerAsync(...registrations: OnnxModelAsyncRegistration[]): DynamicModule {
    const providers = registrations.map(({ name, useFactory, inject }) => createOnnxModelProvider(name, useFactory, inject));
    return {
      module: OnnxModule,
      imports: registrations.flatMap((r) => r.imports ?? []),
      providers,
      exports: providers.map((p) => p.provide),
    };
  }

  /**
   * Serves an .onnx file as model `name`, with no handler code: inputs,
   * outputs, dtypes and shapes come from the model's metadata. The model is
   * also injectable with `@InjectOnnxModel(name)` (e.g. to `reload()` it).
   */
  static serve(name: string, source: OnnxModelSource, options: OnnxServeOptions = {}): DynamicModule {
    const { version, description, batching, ...modelOptions } = options;
    const model = createOnnxModelProvider(name, () => ({ source, ...modelOptions }));
    const endpoint: Provider = {
      provide: `blazerpc:onnx-endpoint:${name}`,
      inject: [getOnnxModelToken(name), { token: BlazeMetrics, optional: true }],
      useFactory: (loaded: OnnxModel, metrics?: BlazeMetrics) => createOnnxEndpoint(name, loaded, { version, description, batching }, metrics),
    };
    return { module: OnnxModule, providers: [model, endpoint], exports: [model.provide] };
  }
}
