import { Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { ContextIdFactory, ExternalContextCreator } from '@nestjs/core';
import type { ContextId, NestContainer } from '@nestjs/core';
import { Injector } from '@nestjs/core/injector/injector.js';
import { currentCall } from '../batching/current-call.js';
import { ModelBatcher } from '../batching/model-batcher.js';
import type { BlazeContext } from '../context/blaze-context.js';
import { BlazeMetrics } from '../metrics/blaze-metrics.js';
import type { RegisteredModel } from '../registry/model.registry.js';
import type { ModelDescriptor } from '../schema/model-descriptor.interface.js';
import { hasEnhancers } from './enhancer-presence.js';
import { batchingHandler, executeOnce, timedHandler, type Method } from './handler-wrappers.js';
import type { ModelRequest } from './model-codec.js';
import { ModelParamsFactory } from './model-params.factory.js';
import { createModelContextCreator } from './model-context-creator.factory.js';
import { isTimedByRuntime } from '../metrics/runtime-timed.metadata.js';

/**
 * Runs one model call through Nest's enhancers and the handler, to what the
 * handler produced: a value when it answered synchronously, else a promise.
 */
export type ModelInvoker = (request: ModelRequest, context: BlazeContext) => unknown;

/** A model's invoker, and its batch queue when it is batched. */
export interface ModelRuntime {
  readonly invoke: ModelInvoker;
  readonly batcher?: ModelBatcher;
}

/**
 * @internal Builds each model's invoker on Nest's `ExternalContextCreator`
 * (context type `'rpc'`): guards, interceptors, pipes and exception filters,
 * global, class and method level, run per request. Singleton providers get
 * one proxy built at startup; request-scoped ones are resolved per call with
 * their own context id. A batched model's handler queues the request; the
 * batcher runs the real method once per batch.
 */
@Injectable()
export class ModelInvokerFactory {
  private readonly injector = new Injector();
  private readonly paramsFactory = new ModelParamsFactory();
  private readonly contextCreator: ExternalContextCreator;

  constructor(nestContextCreator: ExternalContextCreator, private readonly metrics: BlazeMetrics) {
    const container = (nestContextCreator as unknown as { container?: NestContainer }).container;
    const config = container?.applicationConfig;
    // Nest's own creator, but with a quiet last-resort exception filter (see createModelContextCreator).
    this.contextCreator = container && config ? createModelContextCreator(container, config) : nestContextCreator;
  }

  create({ descriptor, binding }: RegisteredModel): ModelRuntime {
    const { wrapper, methodName } = binding;
    const prototype = (wrapper.metatype as { prototype: Record<string, Method> } | null)?.prototype;
    const method = ((wrapper.instance as Record<string, Method> | undefined)?.[methodName] ?? prototype?.[methodName]) as Method;
    const plan = descriptor.batchPlan;
    const timesExecutions = !isTimedByRuntime(method);
    if (descriptor.batching && plan) {
      const instance = wrapper.instance as object;
      const outputs = { named: descriptor.namedOutputs, names: descriptor.outputs.map((o) => o.name) };
      const execute = (args: unknown[]) => executeOnce(method, instance, args);
      const batcher = new ModelBatcher(descriptor.name, plan, descriptor.batching, outputs, execute, this.metrics, timesExecutions);
      const proxy = this.createCallable(descriptor, instance, batchingHandler(method, batcher), method, methodName);
      return { batcher, invoke: (request, context) => currentCall.run(context, () => proxy(request, context)) };
    }
    const handler = timedHandler(method, descriptor.name, descriptor.streaming, this.metrics, timesExecutions);
    if (!binding.requestScoped) {
      return { invoke: this.createCallable(descriptor, wrapper.instance as object, handler, method, methodName) };
    }
    return {
      invoke: async (request, context) => {
        const contextId = ContextIdFactory.getByRequest(context);
        this.contextCreator.registerRequestProvider(context, contextId);
        const host = wrapper.host!;
        const instance = await this.injector.loadPerContext(wrapper.instance, host, host.providers, contextId, wrapper);
        return this.createProxy(instance as object, handler, methodName, contextId, wrapper.id)(request, context);
      },
    };
  }

  /**
   * The call through Nest's enhancer pipeline, or, when no enhancer can apply
   * to this method (see `hasEnhancers`), the same call made directly.
   */
  private createCallable(descriptor: ModelDescriptor, instance: object, handler: Method, method: Method, methodName: string): ModelInvoker {
    if (hasEnhancers(this.contextCreator, instance.constructor, method, methodName)) {
      return this.createProxy(instance, handler, methodName);
    }
    const names = descriptor.inputs.map((input) => input.name);
    return (request) => handler.apply(instance, names.map((name) => request[name]));
  }

  private createProxy(instance: object, handler: Method, methodName: string, contextId?: ContextId, inquirerId?: string) {
    return this.contextCreator.create(
      instance,
      handler,
      methodName,
      ROUTE_ARGS_METADATA,
      this.paramsFactory,
      contextId,
      inquirerId,
      { guards: true, interceptors: true, filters: true },
      'rpc',
    ) as (request: ModelRequest, context: BlazeContext) => Promise<unknown>;
  }
}
