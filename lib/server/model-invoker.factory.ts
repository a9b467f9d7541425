import { Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { ContextIdFactory, ExternalContextCreator } from '@nestjs/core';
import type { ContextId } from '@nestjs/core';
import { Injector } from '@nestjs/core/injector/injector.js';
import { isObservable } from 'rxjs';
import type { BlazeContext } from '../context/blaze-context.js';
import type { RegisteredModel } from '../registry/model.registry.js';
import type { ModelRequest } from './model-codec.js';
import { ModelParamsFactory } from './model-params.factory.js';
import { observableAsIterable } from './stream-source.js';

/** Runs one model call through Nest's enhancers and the handler; resolves to what the handler produced. */
export type ModelInvoker = (request: ModelRequest, context: BlazeContext) => Promise<unknown>;

type Method = (...args: unknown[]) => unknown;

/**
 * @internal Builds each model's invoker on Nest's `ExternalContextCreator`
 * (context type `'rpc'`): guards, interceptors, pipes and exception filters,
 * global, class and method level. Singleton providers get one proxy built at
 * startup; request-scoped ones are resolved per call with their own context id.
 */
@Injectable()
export class ModelInvokerFactory {
  private readonly injector = new Injector();
  private readonly paramsFactory = new ModelParamsFactory();

  constructor(private readonly contextCreator: ExternalContextCreator) {}

  create({ descriptor, binding }: RegisteredModel): ModelInvoker {
    const { wrapper, methodName } = binding;
    const prototype = (wrapper.metatype as { prototype: Record<string, Method> } | null)?.prototype;
    const method = (wrapper.instance as Record<string, Method> | undefined)?.[methodName] ?? prototype?.[methodName];
    const handler = descriptor.streaming ? keepStreamsOpen(method!) : method!;
    if (!binding.requestScoped) {
      const proxy = this.createProxy(wrapper.instance as object, handler, methodName);
      return (request, context) => proxy(request, context);
    }
    return async (request, context) => {
      const contextId = ContextIdFactory.getByRequest(context);
      this.contextCreator.registerRequestProvider(context, contextId);
      const host = wrapper.host!;
      const instance = await this.injector.loadPerContext(wrapper.instance, host, host.providers, contextId, wrapper);
      return this.createProxy(instance as object, handler, methodName, contextId, wrapper.id)(request, context);
    };
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

/**
 * NOTE: Nest's context creator resolves an Observable result to its last
 * value, which is right for unary calls but would swallow a stream. A
 * streaming handler is wrapped so an Observable it returns travels as an
 * AsyncIterable instead. Nest reads guard/interceptor metadata off the
 * handler function, so the wrapper carries the method's metadata.
 */
function keepStreamsOpen(method: Method): Method {
  const handler = function (this: unknown, ...args: unknown[]) {
    const result = method.apply(this, args);
    return isObservable(result) ? observableAsIterable(result) : result;
  };
  for (const key of Reflect.getOwnMetadataKeys(method)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, method), handler);
  }
  Object.defineProperty(handler, 'name', { value: method.name });
  return handler;
}
