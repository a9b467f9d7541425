import { ROUTE_ARGS_METADATA } from '../core/nest-internals.js';

/**
 * @internal Param type of the call's `BlazeContext`, which every model
 * handler wrapper gets as its last argument (see `defineModelArguments`).
 */
export const CALL_PARAM_TYPE = -1;

/** @internal Where the model call's arguments are declared for Nest's context creator. */
export const MODEL_ARGS_METADATA = 'blazerpc:model-args';

/**
 * @internal Declares the arguments Nest's context creator passes a model's
 * handler wrapper: the method's own (`@Input`, `@Ctx`, `@Depends`, custom
 * decorators), then the call itself. That is how a batched call reaches its
 * queue with its signal and deadline, with no side channel: the wrapper takes
 * the call off the end and hands the method exactly its own arguments. Pipes
 * never see the call (see `createModelContextCreator`).
 *
 * Declared under its own key, so the method's Nest metadata stays as the
 * user wrote it.
 *
 * @returns the index of the call argument: the method's argument count
 */
export function defineModelArguments(classRef: object, methodName: string): number {
  const declared: Record<string, { index: number }> =
    Reflect.getMetadata(ROUTE_ARGS_METADATA, classRef, methodName) ?? {};
  const callIndex = Object.values(declared).reduce((count, { index }) => Math.max(count, index + 1), 0);
  const args = { ...declared, [`${CALL_PARAM_TYPE}:${callIndex}`]: { index: callIndex, data: undefined, pipes: [] } };
  Reflect.defineMetadata(MODEL_ARGS_METADATA, args, classRef, methodName);
  return callIndex;
}
