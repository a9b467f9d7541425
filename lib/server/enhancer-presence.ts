import { CUSTOM_ROUTE_ARGS_METADATA, EXCEPTION_FILTERS_METADATA, GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import type { ApplicationConfig, ExternalContextCreator } from '@nestjs/core';

/**
 * @internal Whether any Nest enhancer could apply to a model method: a global
 * or APP_* guard, interceptor, pipe or filter; one on the class or the method;
 * a pipe on a parameter; or a param decorator with a factory (@Ctx, @Depends,
 * createParamDecorator).
 *
 * When none can, running the call through Nest's context creator changes
 * nothing but its cost (its async cascade is about 8 µs of CPU per call, the
 * whole gap to a raw grpc-js server), so the server calls the method directly.
 * When the app config cannot be read, the answer is "yes" and the full
 * pipeline runs.
 */
export function hasEnhancers(contextCreator: ExternalContextCreator, classRef: object, method: object, methodName: string): boolean {
  const config = (contextCreator as unknown as { container?: { applicationConfig?: ApplicationConfig } }).container?.applicationConfig;
  if (!config) return true;
  const globals = [
    config.getGlobalGuards(),
    config.getGlobalRequestGuards(),
    config.getGlobalInterceptors(),
    config.getGlobalRequestInterceptors(),
    config.getGlobalPipes(),
    config.getGlobalRequestPipes(),
    config.getGlobalFilters(),
    config.getGlobalRequestFilters(),
  ];
  if (globals.some((list) => list.length > 0)) return true;
  const keys = [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA, EXCEPTION_FILTERS_METADATA];
  if (keys.some((key) => hasItems(Reflect.getMetadata(key, classRef)) || hasItems(Reflect.getMetadata(key, method)))) return true;
  const args: Record<string, { pipes?: unknown[] }> = Reflect.getMetadata(ROUTE_ARGS_METADATA, classRef, methodName) ?? {};
  return Object.entries(args).some(([key, arg]) => key.includes(CUSTOM_ROUTE_ARGS_METADATA) || hasItems(arg.pipes));
}

function hasItems(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}
