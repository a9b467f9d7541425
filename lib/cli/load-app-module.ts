import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { resolve } from 'node:path';
import { ModelRegistry } from '../registry/model.registry.js';
import { CliError, EXIT } from './cli-io.js';

/**
 * Boots an app module without serving (no transport, no HTTP) and hands back
 * its model registry. `exportName` picks the export: a module class, a dynamic
 * module, or a call such as `AppModule.forRoot()`.
 */
export async function withAppRegistry<T>(file: string, exportName: string | undefined, use: (registry: ModelRegistry) => T): Promise<T> {
  const module = await loadModuleExport(file, exportName);
  const app = await NestFactory.createApplicationContext(module, { logger: ['error'] }).catch((error: Error) => {
    throw new CliError(EXIT.moduleLoad, `Could not start ${file}: ${error.message}`);
  });
  try {
    await app.init();
    return use(app.get(ModelRegistry));
  } finally {
    await app.close();
  }
}

async function loadModuleExport(file: string, exportName = 'default'): Promise<Type | DynamicModule> {
  let exports: Record<string, unknown>;
  try {
    exports = await import(resolve(file));
  } catch (error) {
    throw new CliError(EXIT.moduleLoad, `Could not load ${file}: ${(error as Error).message}`);
  }
  const call = exportName.endsWith('()');
  const path = (call ? exportName.slice(0, -2) : exportName).split('.');
  let owner: unknown;
  let value: unknown = exports;
  for (const part of path) {
    owner = value;
    value = (value as Record<string, unknown> | undefined)?.[part];
  }
  if (value === undefined) {
    const names = Object.keys(exports).join(', ') || 'none';
    throw new CliError(
      EXIT.moduleLoad,
      `${file} has no export '${exportName}' (exports: ${names}); pick one with --export, e.g. --export 'AppModule.forRoot()'`,
    );
  }
  return (call ? (value as () => unknown).call(owner) : value) as Type | DynamicModule;
}
