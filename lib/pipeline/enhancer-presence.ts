import {
  CUSTOM_ROUTE_ARGS_METADATA,
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '../core/nest-internals.js';
import type { ApplicationConfig } from '@nestjs/core';
import { hasGlobalEnhancers } from './enhancer-scope.js';

/**
 * @internal Whether any Nest enhancer could apply to a model method: a global
 * guard, interceptor, pipe or filter of the microservice's configuration
 * (`config`, APP_* providers included); one on the class or the method;
 * a pipe on a parameter; or a param decorator with a factory (@Ctx, @Depends,
 * createParamDecorator).
 *
 * When none can, running the call through Nest's context creator changes
 * nothing but its cost (its async cascade is about 8 µs of CPU per call, the
 * whole gap to a raw grpc-js server), so the server calls the method directly.
 */
export function hasEnhancers(config: ApplicationConfig, classRef: object, method: object, methodName: string): boolean {
  if (hasGlobalEnhancers(config)) return true;
  const keys = [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA, EXCEPTION_FILTERS_METADATA];
  if (keys.some((key) => hasItems(Reflect.getMetadata(key, classRef)) || hasItems(Reflect.getMetadata(key, method))))
    return true;
  const args: Record<string, { pipes?: unknown[] }> =
    Reflect.getMetadata(ROUTE_ARGS_METADATA, classRef, methodName) ?? {};
  return Object.entries(args).some(([key, arg]) => key.includes(CUSTOM_ROUTE_ARGS_METADATA) || hasItems(arg.pipes));
}

function hasItems(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}
