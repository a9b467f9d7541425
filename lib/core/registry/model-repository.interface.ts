import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ExecutionContext } from '@nestjs/common';
import { CallStatusError } from '../errors/call-status.error.js';
import type { BlazeContext } from '../context/blaze-context.js';

/** A model version as a repository knows it (OIP `RepositoryIndex`'s states, as Triton names them). */
export interface RepositoryModelState {
  readonly name: string;
  readonly version: string;
  readonly state: 'READY' | 'LOADING' | 'UNAVAILABLE';
  /** Why a version is UNAVAILABLE (e.g. its file failed to load); empty otherwise. */
  readonly reason: string;
}

/**
 * A model repository that serves models at runtime, as OIP's
 * repository rpcs reach it: what it holds, and loading or unloading a model.
 */
export interface ModelRepositoryControl {
  /** Every version the repository tried to serve, including those loading or broken. */
  index(): readonly RepositoryModelState[];
  /** Whether clients may load and unload models (OIP `RepositoryModelLoad`/`Unload`). */
  readonly controllable: boolean;
  /** Whether it holds a model of this name (served, or a directory of it). */
  has(model: string): boolean;
  /** Loads (or reloads) a model from the repository now; rejects with the reason it could not. */
  load(model: string): Promise<void>;
  /** Unloads every version of a model, once their calls have ended; it stays unloaded until loaded again. */
  unload(model: string): Promise<void>;
}

/**
 * The class `context.getClass()` returns in a guard for OIP's
 * `RepositoryModelLoad` and `RepositoryModelUnload` calls; `getHandler()` is
 * its `load` or `unload`, and `switchToRpc().getData()` the request
 * (`{ model_name, repository_name }`).
 */
export class RepositoryControlCall {
  /** Loads a model: runs `action` once the guards let the call through, and one of them asked `isRepositoryControlCall`. */
  load(_request: object, context: BlazeContext, action: () => Promise<void>): Promise<void> {
    return actIfAsked(context, action);
  }

  /** Unloads a model: runs `action` once the guards let the call through, and one of them asked `isRepositoryControlCall`. */
  unload(_request: object, context: BlazeContext, action: () => Promise<void>): Promise<void> {
    return actIfAsked(context, action);
  }
}

/** Runs a repository action through the microservice's global guards, interceptors and filters. */
export type GuardedRepositoryAction = (
  action: 'load' | 'unload',
  request: object,
  context: BlazeContext,
  run: () => Promise<void>,
) => Promise<unknown>;

/**
 * Contexts of control calls a guard recognised as such. A guard that never
 * asks (a rate limiter, an auth guard that passes what it does not know)
 * lets control through without having judged it, so control fails closed
 * unless some guard did.
 */
const askedByGuard = new WeakSet<object>();

async function actIfAsked(context: BlazeContext, action: () => Promise<void>): Promise<void> {
  if (!askedByGuard.has(context)) {
    throw new CallStatusError(
      GrpcStatus.PERMISSION_DENIED,
      'Repository control is refused: no global guard checked isRepositoryControlCall(context) for it. ' +
        'Add one that does, e.g. RepositoryControlGuard.withToken(() => process.env.ADMIN_TOKEN); see README "OIP repository control"',
    );
  }
  return action();
}

/**
 * True when a guard is looking at a repository control call (OIP
 * `RepositoryModelLoad`/`RepositoryModelUnload`), e.g. to ask for an admin
 * token on those and nothing else.
 *
 * `RepositoryControlGuard.withToken()` is such a guard, ready made.
 *
 * @example
 * ```ts
 * canActivate(context: ExecutionContext) {
 *   if (!isRepositoryControlCall(context)) return true; // model calls: other guards decide
 *   const secret = process.env.ADMIN_TOKEN;
 *   if (!secret) return false; // no secret set: nobody loads or unloads
 *   const sent = context.switchToRpc().getContext<BlazeContext>().header('x-admin-token') ?? '';
 *   return timingSafeEqual(sha256(sent), sha256(secret)); // digests of equal length: the time tells nothing
 * }
 * ```
 */
export function isRepositoryControlCall(context: ExecutionContext): boolean {
  if (context.getClass() !== RepositoryControlCall) return false;
  const call = context.switchToRpc().getContext<unknown>();
  if (typeof call === 'object' && call !== null) askedByGuard.add(call);
  return true;
}
