import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { OnnxModelSource } from './onnx-model-options.interface.js';
import { OnnxModel } from './onnx-model.js';
import { createOnnxEndpoint } from './onnx-endpoint.factory.js';
import { createOnnxModelProvider } from './onnx-model.provider.js';
import type {
  OnnxModelAsyncRegistration,
  OnnxModelRegistration,
  OnnxServeOptions,
} from './onnx-module-options.interface.js';
import { getOnnxModelToken } from './onnx.constants.js';
import { BlazeMetrics } from '../../observability/blaze-metrics.js';
import type { OnnxRepositoryOptions } from './onnx-repository.options.js';
import { scanRepository, type IgnoredVersion } from './onnx-repository.scanner.js';
import {
  checkAsyncRegistration,
  checkFactoryResult,
  checkRegistration,
  checkRepositoryOptions,
  checkServeOptions,
} from './onnx-options.validator.js';
import { OnnxModelRepository } from './onnx-model-repository.js';
import { BlazeHealthService } from '../../core/health/blaze-health.service.js';
import { modelIdString } from '../../core/registry/model-id.js';
import { LiveModels } from '../../server/live-models.service.js';

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
  /**
   * Loads each model at startup and makes it injectable with `@InjectOnnxModel(name)`.
   * @throws ConfigurationError when an option is unknown (naming the closest known one), of the wrong type
   *   (naming the type expected) or out of bounds (e.g. `instances` above 64, saying the range)
   */
  static register(...registrations: OnnxModelRegistration[]): DynamicModule {
    registrations.forEach(checkRegistration);
    const providers = registrations.map(({ name, ...registration }) =>
      createOnnxModelProvider(name, () => registration),
    );
    return { module: OnnxModule, providers, exports: providers.map((p) => p.provide) };
  }

  /**
   * Like `register()`, with the source and options built by a factory from other providers.
   * @throws ConfigurationError as `register()`: here for the registration, at startup for what its factory returns
   */
  static registerAsync(...registrations: OnnxModelAsyncRegistration[]): DynamicModule {
    registrations.forEach(checkAsyncRegistration);
    const providers = registrations.map(({ name, useFactory, inject }) =>
      createOnnxModelProvider(
        name,
        async (...deps: unknown[]) => checkFactoryResult(name, await useFactory(...deps)),
        inject,
      ),
    );
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
   * A whole-number `version` is taken as its digits (`2` is `'2'`), as in `@Model()`.
   * @throws ConfigurationError when an option is unknown (naming the closest known one), of the wrong type
   *   (naming the type expected) or out of bounds (e.g. `instances` above 64, saying the range)
   */
  static serve(name: string, source: OnnxModelSource, options: OnnxServeOptions = {}): DynamicModule {
    const { version, description, batching, ...modelOptions } = checkServeOptions(name, source, options);
    const model = createOnnxModelProvider(name, () => ({ source, ...modelOptions }));
    const endpoint = endpointProvider(name, model.provide as string, { version, description, batching });
    return { module: OnnxModule, providers: [model, endpoint], exports: [model.provide] };
  }

  /**
   * Serves every model of a directory laid out as Triton's model repository:
   * `<dir>/<model>/<version>/model.onnx` (versions numbered from 1), each
   * model optionally with a `config.json` (`instances`, `batching`,
   * `versionPolicy`, `defaultVersion`, `description`). Each served version gets
   * `Predict{Model}V{version}` (OIP: the model's `version`), the default one
   * also `Predict{Model}`; `@InjectOnnxModel(model)` gives the default
   * version loaded at startup, and the injectable `OnnxModelRepository` the
   * one serving now. With `pollIntervalMs`, new, changed and removed
   * versions roll out while the app serves (see `OnnxRepositoryOptions`).
   * Numbers in options and in `config.json` are bounded (e.g. `instances`
   * at most 64); versions are compared exactly, up to 9223372036854775807.
   *
   * @throws ConfigurationError when the directory is laid out wrongly, or a
   *   key is unknown, of the wrong type or out of bounds, naming the file or
   *   option, the key's path, and the closest known key, the type or the range
   *
   * @example
   * ```ts
   * imports: [OnnxModule.repository('models', { versionPolicy: { latest: 2 }, pollIntervalMs: 10_000 })]
   * ```
   */
  static repository(dir: string, options: OnnxRepositoryOptions = {}): DynamicModule {
    const checked = checkRepositoryOptions(dir, options);
    const { versionPolicy, batching, pollIntervalMs: _poll, control: _control, ...modelOptions } = checked;
    const providers: Provider[] = [];
    const exported: string[] = [];
    const ignored: IgnoredVersion[] = [];
    const entries = scanRepository(dir, { versionPolicy }, (version) => ignored.push(version));
    for (const { path, reason } of ignored) logger.warn(`Model repository: ignoring '${path}': ${reason}`);
    for (const entry of entries) {
      const token = entry.isDefault
        ? getOnnxModelToken(entry.model)
        : getOnnxModelToken(modelIdString({ name: entry.model, version: entry.version }));
      const { instances, batching: modelBatching, description } = entry.config;
      const model = createOnnxModelProvider(
        entry.model,
        () => ({ ...modelOptions, instances: instances ?? modelOptions.instances, source: entry.file }),
        [],
        token,
      );
      const options = {
        version: entry.version,
        default: entry.isDefault,
        description,
        batching: modelBatching ?? batching,
      };
      providers.push(model, endpointProvider(entry.model, token, options));
      exported.push(token);
    }
    const repository: Provider = {
      provide: OnnxModelRepository,
      inject: [
        ...exported,
        { token: LiveModels, optional: true },
        { token: BlazeHealthService, optional: true },
        { token: BlazeMetrics, optional: true },
      ],
      useFactory: (...deps: unknown[]) => {
        const models = deps.slice(0, entries.length) as OnnxModel[];
        const [live, health, metrics] = deps.slice(entries.length) as [LiveModels?, BlazeHealthService?, BlazeMetrics?];
        const served = entries.map((entry, i) => ({ entry, model: models[i]! }));
        return new OnnxModelRepository(dir, checked, served, live, health, metrics, ignored);
      },
    };
    return { module: OnnxModule, providers: [...providers, repository], exports: [...exported, OnnxModelRepository] };
  }
}

const logger = new Logger('BlazeRpcOnnx');

/** The provider of a served model's endpoint: the `@Model()` made from the loaded model under `modelToken`. */
function endpointProvider(
  name: string,
  modelToken: string,
  options: OnnxServeOptions & { default?: boolean },
): Provider {
  return {
    provide: `blazerpc:onnx-endpoint:${modelToken}`,
    inject: [modelToken, { token: BlazeMetrics, optional: true }],
    useFactory: (loaded: OnnxModel, metrics?: BlazeMetrics) => createOnnxEndpoint(name, loaded, options, metrics),
  };
}
