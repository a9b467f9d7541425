import { ApplicationConfig } from '@nestjs/core';
import { copyPreRequestHooks } from '../core/nest-internals.js';

/**
 * @internal The global enhancers model calls run with: those of the Nest
 * microservice the server is mounted in, as they stood when Nest registered
 * that microservice's handlers.
 */
export interface EnhancerScope {
  /** The microservice's global guards, interceptors, pipes and filters (a snapshot). */
  readonly config: ApplicationConfig;
  /**
   * Whether the microservice shares the app's configuration: a standalone
   * microservice, or a hybrid one connected with `inheritAppConfig: true`.
   * When it does not, the app's own global enhancers do not reach model calls.
   */
  readonly sharesAppConfig: boolean;
}

/**
 * @internal A copy of `config`'s global enhancers and pre-request hooks. Nest builds its own
 * handlers' enhancer chains once, when the microservice registers its
 * listeners; enhancers added to the configuration later apply to none of its
 * handlers (Nest warns "registration must occur before initialization"), so
 * they must not apply to model calls either, although the server builds its
 * chains later, when it starts.
 */
export function snapshotEnhancers(config: ApplicationConfig): ApplicationConfig {
  const copy = new ApplicationConfig();
  copy.useGlobalGuards(...config.getGlobalGuards());
  copy.useGlobalInterceptors(...config.getGlobalInterceptors());
  copy.useGlobalPipes(...config.getGlobalPipes());
  copy.useGlobalFilters(...config.getGlobalFilters());
  config.getGlobalRequestGuards().forEach((wrapper) => copy.addGlobalRequestGuard(wrapper));
  config.getGlobalRequestInterceptors().forEach((wrapper) => copy.addGlobalRequestInterceptor(wrapper));
  config.getGlobalRequestPipes().forEach((wrapper) => copy.addGlobalRequestPipe(wrapper));
  config.getGlobalRequestFilters().forEach((wrapper) => copy.addGlobalRequestFilter(wrapper));
  copyPreRequestHooks(config, copy);
  return copy;
}

/** Whether `config` holds any global enhancer. */
export function hasGlobalEnhancers(config: ApplicationConfig): boolean {
  return [
    config.getGlobalGuards(),
    config.getGlobalRequestGuards(),
    config.getGlobalInterceptors(),
    config.getGlobalRequestInterceptors(),
    config.getGlobalPipes(),
    config.getGlobalRequestPipes(),
    config.getGlobalFilters(),
    config.getGlobalRequestFilters(),
  ].some((list) => list.length > 0);
}

/**
 * @internal Whether `config` holds a global guard (an instance, or an
 * APP_GUARD provider of any scope). Only global guards reach OIP's
 * repository control calls, which have no class or method of the app's.
 */
export function hasGlobalGuards(config: ApplicationConfig): boolean {
  return config.getGlobalGuards().length > 0 || config.getGlobalRequestGuards().length > 0;
}

/**
 * @internal The global enhancers of `config` by kind, for a log line:
 * `guards ApiKeyGuard, ThrottlerGuard; pipes ValidationPipe`. Empty when
 * there are none.
 */
export function describeGlobalEnhancers(config: ApplicationConfig): string {
  const kinds: Array<[string, unknown[], Array<{ metatype?: unknown; name?: unknown }>]> = [
    ['guards', config.getGlobalGuards(), config.getGlobalRequestGuards()],
    ['interceptors', config.getGlobalInterceptors(), config.getGlobalRequestInterceptors()],
    ['pipes', config.getGlobalPipes(), config.getGlobalRequestPipes()],
    ['filters', config.getGlobalFilters(), config.getGlobalRequestFilters()],
  ];
  return kinds
    .map(([kind, instances, wrappers]) => {
      const names = [...instances.map(nameOfInstance), ...wrappers.map(nameOfWrapper)];
      return names.length > 0 ? `${kind} ${names.join(', ')}` : '';
    })
    .filter(Boolean)
    .join('; ');
}

function nameOfInstance(enhancer: unknown): string {
  const name = (enhancer as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name && name !== 'Object' ? name : 'an object literal';
}

function nameOfWrapper(wrapper: { metatype?: unknown; name?: unknown }): string {
  const metatype = wrapper.metatype as { name?: string } | undefined;
  return metatype?.name || String(wrapper.name ?? 'a request-scoped provider');
}
