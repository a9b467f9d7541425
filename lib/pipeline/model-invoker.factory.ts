import { Injectable } from '@nestjs/common';
import { ContextIdFactory, ExternalContextCreator } from '@nestjs/core';
import type { ApplicationConfig, ContextId, NestContainer } from '@nestjs/core';
import { Injector, globalPreRequestHooks } from '../core/nest-internals.js';
import { defineModelArguments, MODEL_ARGS_METADATA } from './call-argument.js';
import { ModelBatcher } from './batching/model-batcher.js';
import type { BlazeContext } from '../core/context/blaze-context.js';
import { BlazeMetrics } from '../observability/blaze-metrics.js';
import type { RegisteredModel } from '../core/registry/model.registry.js';
import type { ModelDescriptor } from '../core/schema/model-descriptor.interface.js';
import { hasEnhancers } from './enhancer-presence.js';
import { batchingHandler, executeOnce, timedHandler, type Method } from './handler-wrappers.js';
import type { ModelRequest } from './model-request.js';
import { ModelParamsFactory } from './model-params.factory.js';
import { createModelContextCreator } from './model-context-creator.factory.js';
import { withPreRequestHooks } from './pre-request-hooks.js';
import type { CallTracer } from '../observability/call-tracer.js';
import { isTimedByRuntime } from '../observability/runtime-timed.metadata.js';
import { isObservable, lastValueFrom } from 'rxjs';
import { RepositoryControlCall, type GuardedRepositoryAction } from '../core/registry/model-repository.interface.js';

/**
 * Runs one model call through Nest's enhancers and the handler, to what the
 * handler produced: a value when it answered synchronously, else a promise.
 */
export type ModelInvoker = (request: ModelRequest, context: BlazeContext) => unknown;

/**
 * The way into one model version that the factory builds: its invoker (the
 * enhancers and the handler), and the batch queue calls go through when it
 * is batched. (Not a runtime: those are under `runtimes/`.)
 */
export interface ModelCallPath {
  readonly invoke: ModelInvoker;
  readonly batcher?: ModelBatcher;
}

/**
 * @internal Builds each model's invoker on Nest's `ExternalContextCreator`
 * (context type `'rpc'`): guards, interceptors, pipes and exception filters,
 * global, class and method level, run per request. The global ones are those
 * of `enhancers`, the configuration of the microservice the server is mounted
 * in. Singleton providers get one proxy built at startup; request-scoped ones
 * are resolved per call with their own context id. A batched model's handler
 * queues the request; the batcher runs the real method once per batch.
 */
@Injectable()
export class ModelInvokerFactory {
  private readonly injector = new Injector();
  private readonly paramsFactory = new ModelParamsFactory();
  private readonly container?: NestContainer;
  private readonly contextCreators = new WeakMap<ApplicationConfig, ExternalContextCreator>();

  constructor(
    private readonly nestContextCreator: ExternalContextCreator,
    private readonly metrics: BlazeMetrics,
  ) {
    this.container = (nestContextCreator as unknown as { container?: NestContainer }).container;
  }

  /** The app's own configuration: where APP_* providers and `app.useGlobal*()` land. */
  get appConfig(): ApplicationConfig | undefined {
    return this.container?.applicationConfig;
  }

  create(model: RegisteredModel, enhancers: ApplicationConfig, tracer?: CallTracer): ModelCallPath {
    const { wrapper, methodName } = model.binding;
    const prototype = (wrapper.metatype as { prototype?: Record<string, Method> } | null)?.prototype;
    const method = ((wrapper.instance as Record<string, Method> | undefined)?.[methodName] ??
      prototype?.[methodName]) as Method;
    const classRef = (wrapper.instance as object | undefined)?.constructor ?? (wrapper.metatype as object);
    defineModelArguments(classRef, methodName);
    const callPath = this.createCallPath(model, method, enhancers, tracer);
    return {
      ...callPath,
      invoke: withPreRequestHooks(globalPreRequestHooks(enhancers), classRef, method, callPath.invoke),
    };
  }

  private createCallPath(
    { descriptor, binding }: RegisteredModel,
    method: Method,
    enhancers: ApplicationConfig,
    tracer?: CallTracer,
  ): ModelCallPath {
    const { wrapper, methodName } = binding;
    const plan = descriptor.batchPlan;
    const timesExecutions = !isTimedByRuntime(method);
    const pipeline = new EnhancerPipeline(this.contextCreatorFor(enhancers), this.paramsFactory, methodName);
    if (descriptor.batching && plan) {
      const instance = wrapper.instance as object;
      const outputs = { named: descriptor.namedOutputs, names: descriptor.outputs.map((o) => o.name) };
      const execute = (args: unknown[]) => executeOnce(method, instance, args);
      const batcher = new ModelBatcher(
        descriptor.name,
        plan,
        descriptor.batching,
        outputs,
        execute,
        this.metrics,
        timesExecutions,
        tracer,
      );
      return {
        batcher,
        invoke: this.createCallable(
          descriptor,
          enhancers,
          pipeline,
          instance,
          batchingHandler(method, batcher),
          method,
        ),
      };
    }
    const handler = timedHandler(method, descriptor.name, descriptor.streaming, this.metrics, timesExecutions);
    if (!binding.requestScoped) {
      return {
        invoke: this.createCallable(descriptor, enhancers, pipeline, wrapper.instance as object, handler, method),
      };
    }
    return {
      invoke: async (request, context) => {
        const contextId = ContextIdFactory.getByRequest(context);
        pipeline.contextCreator.registerRequestProvider(context, contextId);
        const host = wrapper.host!;
        const instance = await this.injector.loadPerContext(wrapper.instance, host, host.providers, contextId, wrapper);
        return pipeline.proxy(instance as object, handler, contextId, wrapper.id)(request, context);
      },
    };
  }

  /**
   * OIP's repository load/unload calls through the same global guards,
   * interceptors and filters as model calls. Guards see
   * `RepositoryControlCall` as the class and its `load`/`unload` as the handler.
   */
  guardRepositoryActions(enhancers: ApplicationConfig): GuardedRepositoryAction {
    const target = new RepositoryControlCall();
    const creator = this.contextCreatorFor(enhancers);
    const proxies = {
      load: creator.create(
        target,
        target.load as Method,
        'load',
        undefined,
        undefined,
        undefined,
        undefined,
        ENHANCED,
        'rpc',
      ),
      unload: creator.create(
        target,
        target.unload as Method,
        'unload',
        undefined,
        undefined,
        undefined,
        undefined,
        ENHANCED,
        'rpc',
      ),
    };
    return async (action, request, context, run) => settle(await proxies[action](request, context, run));
  }

  /** Nest's context creator reading global enhancers from `config`, one per configuration. */
  private contextCreatorFor(config: ApplicationConfig): ExternalContextCreator {
    if (!this.container) return this.nestContextCreator;
    let creator = this.contextCreators.get(config);
    if (!creator) {
      // Nest's own creator, but with a quiet last-resort exception filter (see createModelContextCreator).
      creator = createModelContextCreator(this.container, config);
      this.contextCreators.set(config, creator);
    }
    return creator;
  }

  /**
   * The call through Nest's enhancer pipeline, or, when no enhancer can apply
   * to this method (see `hasEnhancers`), the same call made directly.
   */
  private createCallable(
    descriptor: ModelDescriptor,
    enhancers: ApplicationConfig,
    pipeline: EnhancerPipeline,
    instance: object,
    handler: Method,
    method: Method,
  ): ModelInvoker {
    if (hasEnhancers(enhancers, instance.constructor, method, pipeline.methodName)) {
      return pipeline.proxy(instance, handler);
    }
    const names = descriptor.inputs.map((input) => input.name);
    const count = names.length;
    return (request, context) => {
      const args = new Array<unknown>(count + 1);
      for (let i = 0; i < count; i++) args[i] = request[names[i]!];
      args[count] = context;
      return handler.apply(instance, args);
    };
  }
}

const ENHANCED = { guards: true, interceptors: true, filters: true };

/** What an interceptor or filter answered, as a promise. */
async function settle(result: unknown): Promise<unknown> {
  return isObservable(result) ? lastValueFrom(result) : result;
}

/** One model method's enhancer chain, built by a context creator. */
class EnhancerPipeline {
  constructor(
    readonly contextCreator: ExternalContextCreator,
    private readonly paramsFactory: ModelParamsFactory,
    readonly methodName: string,
  ) {}

  proxy(instance: object, handler: Method, contextId?: ContextId, inquirerId?: string): ModelInvoker {
    return this.contextCreator.create(
      instance,
      handler,
      this.methodName,
      MODEL_ARGS_METADATA,
      this.paramsFactory,
      contextId,
      inquirerId,
      ENHANCED,
      'rpc',
    ) as ModelInvoker;
  }
}
