import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ApplicationConfig } from '@nestjs/core';
import { ExternalExceptionsHandler } from '@nestjs/core/exceptions/external-exceptions-handler.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { NestMicroservice } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { ConfigurationError } from './errors/configuration.error.js';

/*
 * The one seam between this package and Nest's internals: every deep import
 * and every difference between the Nest majors it supports goes through this
 * file. Nest 11 ships CommonJS without an exports map, Nest 12 ES modules with
 * `./*.js` exported, so the deep paths below resolve on both.
 */
export {
  ROUTE_ARGS_METADATA,
  CUSTOM_ROUTE_ARGS_METADATA,
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
} from '@nestjs/common/constants.js';
export { INTERCEPTORS_METADATA, PIPES_METADATA } from '@nestjs/common/constants.js';
export { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
export { Injector } from '@nestjs/core/injector/injector.js';
export { ExecutionContextHost };
export type { ParamsFactory } from '@nestjs/core/helpers/external-context-creator.js';
export { ExternalExceptionFilterContext } from '@nestjs/core/exceptions/external-exception-filter-context.js';
export { ExternalExceptionsHandler };
export { GuardsConsumer } from '@nestjs/core/guards/guards-consumer.js';
export { GuardsContextCreator } from '@nestjs/core/guards/guards-context-creator.js';
export { InterceptorsConsumer } from '@nestjs/core/interceptors/interceptors-consumer.js';
export { InterceptorsContextCreator } from '@nestjs/core/interceptors/interceptors-context-creator.js';
export { PipesConsumer } from '@nestjs/core/pipes/pipes-consumer.js';
export { PipesContextCreator } from '@nestjs/core/pipes/pipes-context-creator.js';

/** The Nest majors this release of the package is built and tested against. */
export const SUPPORTED_NEST_MAJORS: readonly number[] = [11, 12];

/**
 * @internal A global pre-request hook (`app.registerPreRequestHook()`, Nest 12):
 * declared here rather than imported, because Nest 11's types have no such name.
 */
export type PreRequestHook = (context: ExecutionContextHost, next: () => Observable<unknown>) => Observable<unknown>;

const PACKAGES = ['@nestjs/common', '@nestjs/core', '@nestjs/microservices'] as const;

/** @internal The installed version of each Nest package this one reaches into; `undefined` where unreadable. */
export function installedNestVersions(): Record<(typeof PACKAGES)[number], string | undefined> {
  const load = createRequire(import.meta.url);
  return Object.fromEntries(PACKAGES.map((name) => [name, readVersion(load, name)])) as Record<
    (typeof PACKAGES)[number],
    string | undefined
  >;
}

/**
 * The version in `name`'s package.json, found from its entry point: some Nest
 * packages' exports maps do not export `./package.json`.
 */
function readVersion(load: NodeJS.Require, name: string): string | undefined {
  try {
    for (let dir = dirname(load.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
      const manifest = join(dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const { name: found, version } = JSON.parse(readFileSync(manifest, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (found === name) return version;
    }
  } catch {
    // Not installed, or not resolvable from here: reported as unreadable.
  }
  return undefined;
}

let checkedMajor: number | undefined;

/**
 * @internal Fails startup, naming the release found and the supported ones,
 * unless the installed Nest is supported (see `checkNestRelease`). Cheap
 * after the first call.
 * @returns the Nest major in use.
 */
export function assertSupportedNestRelease(): number {
  return (checkedMajor ??= checkNestRelease(installedNestVersions()));
}

/**
 * @internal Throws a `ConfigurationError` naming `versions` and the supported
 * majors unless every Nest package is of one supported major and has the
 * internals this package uses.
 * @returns that major.
 */
export function checkNestRelease(versions: Partial<Record<(typeof PACKAGES)[number], string>>): number {
  const supported = SUPPORTED_NEST_MAJORS.map((major) => `^${major}`).join(' || ');
  const found = PACKAGES.map((name) => `${name}@${versions[name] ?? '(unreadable)'}`).join(', ');
  const majors = new Set(PACKAGES.map((name) => Number.parseInt(versions[name] ?? '', 10)));
  const [major] = majors;
  if (majors.size !== 1 || major === undefined || !SUPPORTED_NEST_MAJORS.includes(major)) {
    throw new ConfigurationError(
      `nestjs-blazerpc supports Nest ${SUPPORTED_NEST_MAJORS.join(' and ')} (${supported}, all packages of one major); ` +
        `this app has ${found}. Install one supported major of all three, e.g. npm install ${PACKAGES.map((name) => `${name}@${SUPPORTED_NEST_MAJORS.at(-1)}`).join(' ')}.`,
    );
  }
  const missing = missingInternals();
  if (missing.length > 0) {
    throw new ConfigurationError(
      `nestjs-blazerpc does not recognise this Nest release (${found}): it lacks ${missing.join(', ')}. ` +
        `Supported: ${supported}. Upgrade nestjs-blazerpc, or pin Nest to a release it supports.`,
    );
  }
  return major;
}

function missingInternals(): string[] {
  const checks: Array<[string, unknown]> = [
    [
      'NestMicroservice.registerListeners',
      (NestMicroservice.prototype as unknown as Record<string, unknown>).registerListeners,
    ],
    ['ExternalExceptionsHandler.invokeCustomFilters', ExternalExceptionsHandler.prototype.invokeCustomFilters],
  ];
  return checks.filter(([, member]) => typeof member !== 'function').map(([name]) => name);
}

/**
 * @internal The microservice's global pre-request hooks: Nest 12 has them,
 * Nest 11 does not (none run there).
 */
export function globalPreRequestHooks(config: ApplicationConfig): readonly PreRequestHook[] {
  const read = (config as unknown as { getGlobalPreRequestHooks?: () => PreRequestHook[] }).getGlobalPreRequestHooks;
  return typeof read === 'function' ? read.call(config) : [];
}

/** @internal Copies `from`'s pre-request hooks onto `to`, where this Nest release has them. */
export function copyPreRequestHooks(from: ApplicationConfig, to: ApplicationConfig): void {
  const hooks = globalPreRequestHooks(from);
  if (hooks.length > 0)
    (to as unknown as { registerPreRequestHook(...hooks: PreRequestHook[]): void }).registerPreRequestHook(...hooks);
}

/**
 * @internal Whether an exception filter answered: what
 * `ExternalExceptionsHandler.invokeCustomFilters` returns when none did is
 * `null` on Nest 11 and `undefined` on Nest 12 (where a filter may answer `null`).
 */
export function filterAnswered(result: unknown): boolean {
  return assertSupportedNestRelease() >= 12 ? result !== undefined : result != null;
}
