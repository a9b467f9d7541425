import type { ExecutionContext } from '@nestjs/common';
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
  /** Loads a model: runs `action` once the guards let the call through. */
  load(_request: object, _context: BlazeContext, action: () => Promise<void>): Promise<void> {
    return action();
  }

  /** Unloads a model: runs `action` once the guards let the call through. */
  unload(_request: object, _context: BlazeContext, action: () => Promise<void>): Promise<void> {
    return action();
  }
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
  return context.getClass() === RepositoryControlCall;
}
