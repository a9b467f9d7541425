import { type ApplicationConfig, ExternalContextCreator, type NestContainer } from '@nestjs/core';
import {
  ExternalExceptionFilterContext,
  type ExternalExceptionsHandler,
  GuardsConsumer,
  GuardsContextCreator,
  InterceptorsConsumer,
  InterceptorsContextCreator,
  PipesConsumer,
  PipesContextCreator,
  filterAnswered,
} from '../core/nest-internals.js';
import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { InputStream } from './input-stream.js';
import { CALL_PARAM_TYPE } from './call-argument.js';

/**
 * Exception filters as Nest builds them, except that an exception no filter
 * handles is rethrown without Nest's own error log: the server answers it and
 * logs it once, naming the model (or not at all, for an expected refusal).
 */
class QuietExceptionFilterContext extends ExternalExceptionFilterContext {
  override create(...args: Parameters<ExternalExceptionFilterContext['create']>): ExternalExceptionsHandler {
    const handler = super.create(...args);
    handler.next = (exception: unknown, host) => {
      const handled = handler.invokeCustomFilters(exception, host);
      if (filterAnswered(handled)) return handled as Promise<unknown>;
      throw exception;
    };
    return handler;
  }
}

type PipesFn = ReturnType<ExternalContextCreator['createPipesFn']>;
type ParamOptions = Parameters<ExternalContextCreator['createPipesFn']>[1][number];

/**
 * Nest's context creator, except that the call argument (see
 * `defineModelArguments`) is passed through as it is (pipes transform what
 * the client sent, never the call itself), and pipes run per message on a
 * streamed input.
 */
class ModelContextCreator extends ExternalContextCreator {
  /** A streamed input goes through its pipes one message at a time, as the handler reads it. */
  override async getParamValue<T>(value: T, metadata: ArgumentMetadata, pipes: PipeTransform[]): Promise<unknown> {
    if (value instanceof InputStream && pipes.length > 0)
      return value.map((item) => super.getParamValue(item, metadata, pipes));
    return super.getParamValue(value, metadata, pipes);
  }

  override createPipesFn(pipes: PipeTransform[], paramsOptions: ParamOptions[]): PipesFn {
    const call = paramsOptions.find((param) => param.type === CALL_PARAM_TYPE);
    const piped = super.createPipesFn(pipes, call ? paramsOptions.filter((param) => param !== call) : paramsOptions);
    if (!call) return piped;
    return async (args: unknown[], ...params: unknown[]) => {
      args[call.index] = call.extractValue(...params);
      if (piped) await piped(args, ...params);
    };
  }
}

/**
 * @internal The context creator model calls run through: Nest's own
 * `ExternalContextCreator`, with guards, interceptors, pipes and filters read
 * from `config`, the call argument kept away from pipes, and the quiet
 * exception filter above.
 */
export function createModelContextCreator(container: NestContainer, config: ApplicationConfig): ExternalContextCreator {
  const creator = new ModelContextCreator(
    new GuardsContextCreator(container, config),
    new GuardsConsumer(),
    new InterceptorsContextCreator(container, config),
    new InterceptorsConsumer(),
    container.getModules(),
    new PipesContextCreator(container, config),
    new PipesConsumer(),
    new QuietExceptionFilterContext(container, config),
  );
  // NOTE: fromContainer() sets this too; registerRequestProvider() reads it.
  (creator as unknown as { container: NestContainer }).container = container;
  return creator;
}
