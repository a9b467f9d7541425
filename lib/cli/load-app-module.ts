import type { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { resolve } from 'node:path';
import { ModelRegistry } from '../core/registry/model.registry.js';
import { CliError, EXIT } from './cli-io.js';

/**
 * Boots an app module without serving (no transport, no HTTP) and hands back
 * its model registry. `exportName` picks the export: a module class, a dynamic
 * module, or a call such as `AppModule.forRoot()`.
 */
export async function withAppRegistry<T>(
  file: string,
  exportName: string | undefined,
  use: (registry: ModelRegistry) => T,
): Promise<T> {
  const module = await loadModuleExport(file, exportName);
  const app = await NestFactory.createApplicationContext(module, { logger: ['error'] }).catch((error: Error) => {
    throw new CliError(EXIT.moduleLoad, `Could not start ${file}: ${error.message}`);
  });
  try {
    await app.init();
    return use(registryOf(app, file));
  } finally {
    await app.close();
  }
}

function registryOf(app: INestApplicationContext, file: string): ModelRegistry {
  try {
    return app.get(ModelRegistry, { strict: false });
  } catch {
    throw new CliError(
      EXIT.moduleLoad,
      `${file}: the module it exports does not import BlazeRpcModule, so it has no models to describe; point at your app module, or pick it with --export`,
    );
  }
}

async function loadModuleExport(file: string, exportName: string | undefined): Promise<Type | DynamicModule> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(resolve(file))) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(EXIT.moduleLoad, `Could not load ${file}: ${(error as Error).message}`);
  }
  return exportName === undefined ? findModuleExport(file, exports) : namedExport(file, exports, exportName);
}

/** The export `exportName` names: `AppModule`, `default`, or a call such as `AppModule.forRoot()`. */
function namedExport(file: string, exports: Record<string, unknown>, exportName: string): Type | DynamicModule {
  const call = exportName.endsWith('()');
  const path = (call ? exportName.slice(0, -2) : exportName).split('.');
  let owner: unknown;
  // A CommonJS file's exports are its `default` too: `--export AppModule` finds `exports.AppModule` either way.
  let value: unknown = path[0]! in exports ? exports : exports.default;
  for (const part of path) {
    owner = value;
    value = (value as Record<string, unknown> | undefined)?.[part];
  }
  if (value === undefined) {
    throw new CliError(
      EXIT.moduleLoad,
      `${file} has no export '${exportName}' (exports: ${exportNames(exports).join(', ') || 'none'}); pick one with --export, e.g. --export 'AppModule.forRoot()'`,
    );
  }
  return (call ? (value as () => unknown).call(owner) : value) as Type | DynamicModule;
}

/**
 * The one Nest module the file exports, whether it is an ES module (default
 * or named export) or a CommonJS build (`exports.AppModule`, which `import()`
 * hands over as named exports and as the properties of `default`).
 */
function findModuleExport(file: string, exports: Record<string, unknown>): Type | DynamicModule {
  if (isNestModule(exports.default)) return exports.default;
  const found = new Map<unknown, string>();
  for (const name of exportNames(exports)) {
    const value = name in exports ? exports[name] : (exports.default as Record<string, unknown>)[name];
    if (isNestModule(value) && !found.has(value)) found.set(value, name);
  }
  // Several: the app's root is the one no other exported module imports (an app module that
  // exports a module it also imports, as `nest new` of Nest 12 does with ObserveModule).
  const imported = new Set([...found.keys()].flatMap(importsOf));
  const roots = [...found].filter(([module]) => !imported.has(moduleClassOf(module)));
  if (roots.length === 1) return roots[0]![0] as Type | DynamicModule;
  const names = [...found.values()];
  if (names.length === 0) {
    throw new CliError(
      EXIT.moduleLoad,
      `${file} exports no Nest module (exports: ${exportNames(exports).join(', ') || 'none'}); point at the file that defines your @Module() class, e.g. dist/app.module.js, or pick an export with --export 'AppModule.forRoot()'`,
    );
  }
  throw new CliError(
    EXIT.moduleLoad,
    `${file} exports several Nest modules (${names.join(', ')}); pick one with --export ${names[0]}`,
  );
}

/** Named exports, and the properties of a CommonJS `default` (its module.exports). */
function exportNames(exports: Record<string, unknown>): string[] {
  const names = new Set(Object.keys(exports).filter((name) => name !== 'default' && name !== 'module.exports'));
  const commonJs = exports.default;
  if (commonJs !== null && typeof commonJs === 'object') Object.keys(commonJs).forEach((name) => names.add(name));
  else if (commonJs !== undefined) names.add('default');
  return [...names].filter((name) => name !== '__esModule');
}

/** The module classes `module` imports directly (dynamic modules by their class). */
function importsOf(module: unknown): unknown[] {
  const imports = (Reflect.getMetadata('imports', moduleClassOf(module) as object) as unknown[] | undefined) ?? [];
  const dynamicImports = (module as DynamicModule).imports ?? [];
  return [...imports, ...dynamicImports].map(moduleClassOf);
}

function moduleClassOf(module: unknown): unknown {
  return typeof module === 'function' ? module : (module as { module?: unknown } | null)?.module;
}

const MODULE_METADATA_KEYS = ['imports', 'providers', 'controllers', 'exports'];

/** A `@Module()` class, or a dynamic module (`{ module: SomeModule, ... }`). */
function isNestModule(value: unknown): value is Type | DynamicModule {
  if (typeof value === 'function') return MODULE_METADATA_KEYS.some((key) => Reflect.hasOwnMetadata(key, value));
  return value !== null && typeof value === 'object' && typeof (value as { module?: unknown }).module === 'function';
}
