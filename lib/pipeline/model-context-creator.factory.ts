import { ApplicationConfig, ExternalContextCreator, type NestContainer } from '@nestjs/core';
import { ExternalExceptionFilterContext } from '@nestjs/core/exceptions/external-exception-filter-context.js';
import type { ExternalExceptionsHandler } from '@nestjs/core/exceptions/external-exceptions-handler.js';
import { GuardsConsumer } from '@nestjs/core/guards/guards-consumer.js';
import { GuardsContextCreator } from '@nestjs/core/guards/guards-context-creator.js';
import { InterceptorsConsumer } from '@nestjs/core/interceptors/interceptors-consumer.js';
import { InterceptorsContextCreator } from '@nestjs/core/interceptors/interceptors-context-creator.js';
import { PipesConsumer } from '@nestjs/core/pipes/pipes-consumer.js';
import { PipesContextCreator } from '@nestjs/core/pipes/pipes-context-creator.js';

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
      if (handled !== undefined) return handled;
      throw exception;
    };
    return handler;
  }
}

/**
 * @internal The context creator model calls run through: Nest's own
 * `ExternalContextCreator`, with guards, interceptors, pipes and filters read
 * from `config`, and the quiet exception filter above.
 */
export function createModelContextCreator(container: NestContainer, config: ApplicationConfig): ExternalContextCreator {
  const creator = new ExternalContextCreator(
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
