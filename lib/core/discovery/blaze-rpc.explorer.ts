import { Inject, Injectable, Logger, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InstanceWrapper } from '../nest-internals.js';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RESOLVED_OPTIONS } from '../blaze-rpc.constants.js';
import type { ResolvedBlazeRpcOptions } from '../options/resolved-options.interface.js';
import { ModelRegistry, type PendingModel } from '../registry/model.registry.js';
import type { ModelDeclaration } from '../schema/model-declaration.interface.js';
import { createModelSchema } from '../schema/model-schema.factory.js';
import { decideBatching } from '../schema/batching-decision.js';
import { BlazeRpcMetadataAccessor } from './blaze-rpc-metadata.accessor.js';

/**
 * Finds `@Model()` methods on every provider and controller when the app
 * initialises, registers them, generates the .proto and writes it to
 * `protoFile`. A bad declaration fails `app.init()` with a message that says how to fix it.
 */
@Injectable()
export class BlazeRpcExplorer implements OnModuleInit {
  private readonly logger = new Logger('BlazeRpc');

  /** @internal Made by Nest's injector. */
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: BlazeRpcMetadataAccessor,
    private readonly registry: ModelRegistry,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedBlazeRpcOptions,
  ) {}

  private explored?: Promise<void>;

  onModuleInit(): Promise<void> {
    return this.explore();
  }

  /**
   * Registers the models once. Also called by the server: in a hybrid app
   * `startAllMicroservices()` may run before the app's module init.
   */
  explore(): Promise<void> {
    this.explored ??= this.registerAll();
    return this.explored;
  }

  private async registerAll(): Promise<void> {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      for (const model of this.modelsOf(wrapper)) this.registry.add(model.schema, model.markedDefault, model.binding);
    }
    this.registry.seal(this.options.protoPackage);
  }

  /** Writes the generated .proto to `protoFile` (the server does, once it is bound and serving it). */
  async writeProtoFile(): Promise<void> {
    if (this.options.protoFile === false) return;
    const path = resolve(this.options.protoFile);
    await writeFile(path, this.registry.protoText);
    this.logger.log(`Wrote ${this.registry.list().length} model(s) to ${path}`);
  }

  /**
   * @internal The `@Model()` methods of an object made outside Nest's
   * injector (e.g. an endpoint for a model version loaded at runtime), as
   * models to register. They run with the global enhancers only.
   */
  modelsOfInstance(instance: object): PendingModel[] {
    const metatype = instance.constructor as Type;
    return this.modelsOf(
      new InstanceWrapper({ name: metatype.name, token: metatype, metatype, instance, isResolved: true }),
    );
  }

  private modelsOf(wrapper: InstanceWrapper): PendingModel[] {
    const models: PendingModel[] = [];
    const requestScoped = !wrapper.isDependencyTreeStatic() || wrapper.isTransient;
    const prototype = this.prototypeOf(wrapper, requestScoped);
    if (!prototype) return models;
    const classRef = prototype.constructor as { name: string };
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = (prototype as Record<string, unknown>)[methodName];
      const metadata = this.accessor.getModelMetadata(method);
      if (!metadata) continue;
      const params = this.accessor.getParams(classRef, methodName);
      const declaration: ModelDeclaration = {
        className: classRef.name,
        methodName,
        metadata,
        params,
        customParamIndexes: this.accessor.getCustomParamIndexes(classRef, methodName, params),
        paramtypes: this.accessor.getParamTypes(prototype, methodName),
        returntype: this.accessor.getReturnType(prototype, methodName),
        isGenerator: isGeneratorFunction(method),
        requestScoped,
      };
      const schema = createModelSchema(declaration);
      const batching = decideBatching(schema, metadata.options.batching, this.options.batching);
      if (batching.warn) {
        this.logger.warn(
          `Model '${schema.name}' (${schema.handler}) runs unbatched: ${batching.reason}. To batch it, do per-call work ` +
            'in a guard, interceptor or pipe (they run per request, before batching) and keep @Ctx()/@Depends() off the handler.',
        );
      }
      const served = {
        ...schema,
        batching: batching.settings,
        batchPlan: batching.plan,
        unbatchedReason: batching.reason,
      };
      models.push({
        schema: served,
        markedDefault: metadata.options.default === true,
        binding: { wrapper, methodName, requestScoped },
      });
    }
    return models;
  }

  private prototypeOf(wrapper: InstanceWrapper, requestScoped: boolean): object | undefined {
    if (!requestScoped) {
      return wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : undefined;
    }
    // NOTE: a request-scoped provider has no instance until a call arrives, so scan its class.
    const metatype = wrapper.metatype as { prototype?: object } | null;
    return wrapper.inject || !metatype ? undefined : metatype.prototype;
  }
}

function isGeneratorFunction(method: unknown): boolean {
  const kind = (method as { constructor?: { name?: string } })?.constructor?.name;
  return kind === 'AsyncGeneratorFunction' || kind === 'GeneratorFunction';
}
