import { ROUTE_ARGS_METADATA, CUSTOM_ROUTE_ARGS_METADATA } from '../nest-internals.js';
import type { ExecutionContext, PipeTransform, Type } from '@nestjs/common';
import { MODEL_PARAMS_METADATA } from '../blaze-rpc.constants.js';
import type { InputTypeRef } from '../schema/input-type-ref.js';

/** @internal Numeric param type of `@Input`, read by the model params factory. */
export const INPUT_PARAM_TYPE = 0;

/** @internal What the explorer learns of one decorated parameter. */
export type ModelParamMetadata =
  | { kind: 'input'; index: number; name: string; type?: InputTypeRef }
  | { kind: 'context'; index: number }
  | { kind: 'depends'; index: number; dependency: string };

type ParamPipe = PipeTransform | Type<PipeTransform>;

/** @internal Records a parameter for the explorer (our list) and for Nest's context creator (route args). */
export function recordModelParam(target: object, key: string | symbol, param: ModelParamMetadata): void {
  const ctor = target.constructor;
  const params: ModelParamMetadata[] = Reflect.getMetadata(MODEL_PARAMS_METADATA, ctor, key) ?? [];
  Reflect.defineMetadata(MODEL_PARAMS_METADATA, [...params, param], ctor, key);
}

/** @internal Adds an `@Input` entry to Nest's route-args metadata, so pipes see it with `data` = field name. */
export function recordInputArg(
  target: object,
  key: string | symbol,
  index: number,
  name: string,
  pipes: ParamPipe[],
): void {
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) ?? {};
  const entry = { index, data: name, pipes };
  Reflect.defineMetadata(
    ROUTE_ARGS_METADATA,
    { ...args, [`${INPUT_PARAM_TYPE}:${index}`]: entry },
    target.constructor,
    key,
  );
}

/**
 * @internal Adds a custom (factory-based) entry to Nest's route-args metadata,
 * the way `createParamDecorator` does, so default pipes (e.g. ValidationPipe)
 * treat it as `custom` and leave it alone.
 */
export function recordCustomArg<D>(
  target: object,
  key: string | symbol,
  index: number,
  id: string,
  data: D,
  factory: (data: D, context: ExecutionContext) => unknown,
): void {
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) ?? {};
  const entry = { index, factory, data, pipes: [] };
  Reflect.defineMetadata(
    ROUTE_ARGS_METADATA,
    { ...args, [`${id}${CUSTOM_ROUTE_ARGS_METADATA}:${index}`]: entry },
    target.constructor,
    key,
  );
}
