import { createHash, timingSafeEqual } from 'node:crypto';
import {
  ForbiddenException,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { BlazeContext } from '../context/blaze-context.js';
import { isRepositoryControlCall } from './model-repository.interface.js';

/** Where clients put the admin token: the `x-admin-token` metadata key. */
const TOKEN_KEY = 'x-admin-token';

/**
 * A global guard for OIP's repository control (`RepositoryModelLoad` and
 * `RepositoryModelUnload`, turned on with `OnnxModule.repository(dir, { control: true })`):
 * those calls need the admin token in the `x-admin-token` metadata; every
 * other call passes through untouched, for the app's other guards to decide.
 *
 * - The token is read at each call from the function given to `withToken`,
 *   so a rotated secret applies at once. When it is unset or empty, every
 *   control call is refused (`PERMISSION_DENIED`), and the server warns once.
 * - No `x-admin-token` (or an empty one): `UNAUTHENTICATED`. A wrong token,
 *   or more than one: `PERMISSION_DENIED`.
 * - The comparison takes the same time whatever the token sent: both sides
 *   are hashed with SHA-256 and the digests compared with
 *   `crypto.timingSafeEqual`, so neither the content nor the length of the
 *   secret leaks through response times.
 *
 * The token travels as plain metadata: serve with TLS wherever the network
 * between clients and the server is not trusted.
 *
 * @example
 * ```ts
 * // Standalone microservice, or a hybrid app's microservice:
 * microservice.useGlobalGuards(RepositoryControlGuard.withToken(() => process.env.ADMIN_TOKEN));
 * // Or as a provider (a hybrid app needs connectMicroservice(..., { inheritAppConfig: true }) for it to apply):
 * providers: [{ provide: APP_GUARD, useValue: RepositoryControlGuard.withToken(() => process.env.ADMIN_TOKEN) }]
 * // A client: metadata.set('x-admin-token', token)
 * ```
 */
export class RepositoryControlGuard implements CanActivate {
  /** The metadata key clients send the admin token in. */
  static readonly tokenMetadataKey = TOKEN_KEY;

  private readonly logger = new Logger('BlazeRpc');
  private warnedUnset = false;

  // Made with `withToken`: a class Nest would construct itself (useClass) could not be given its secret.
  private constructor(private readonly secret: () => string | null | undefined) {}

  /**
   * A guard that asks repository control calls for the token `secret()`
   * returns (read at each call, e.g. `() => process.env.ADMIN_TOKEN` or a
   * config service's value). Unset or empty: every control call is refused.
   */
  static withToken(secret: () => string | null | undefined): RepositoryControlGuard {
    return new RepositoryControlGuard(secret);
  }

  /**
   * Lets every call but repository control through; those only with the token.
   * @throws UnauthorizedException (UNAUTHENTICATED) when no token was sent
   * @throws ForbiddenException (PERMISSION_DENIED) when it is wrong, or the secret is unset
   */
  canActivate(context: ExecutionContext): boolean {
    if (!isRepositoryControlCall(context)) return true;
    const secret = this.currentSecret();
    if (secret === undefined) {
      this.warnUnset();
      throw new ForbiddenException('Repository control is refused: the server has no admin token set');
    }
    const sent = context.switchToRpc().getContext<BlazeContext>().metadata.get(TOKEN_KEY);
    if (sent.length === 0 || sent[0] === '') {
      throw new UnauthorizedException(
        `Repository control needs the admin token: send it in the '${TOKEN_KEY}' metadata`,
      );
    }
    // Several values are refused rather than one picked: which one a proxy keeps is not for the guard to guess.
    if (sent.length !== 1 || !sameSecret(sent[0]!, secret)) {
      throw new ForbiddenException(
        `Repository control is refused: the '${TOKEN_KEY}' metadata does not hold the admin token`,
      );
    }
    return true;
  }

  /**
   * @internal Warns now, once, when the secret is unset: the server calls it
   * at startup for the guards it runs with, so a missing secret shows up
   * before the first refused call.
   */
  reportUnsetSecret(): void {
    if (this.currentSecret() === undefined) this.warnUnset();
  }

  /** The secret, or `undefined` when it is unset or empty (nothing may match it then). */
  private currentSecret(): string | undefined {
    const secret = this.secret();
    return typeof secret === 'string' && secret.length > 0 ? secret : undefined;
  }

  private warnUnset(): void {
    if (this.warnedUnset) return;
    this.warnedUnset = true;
    this.logger.warn(
      'RepositoryControlGuard refuses every repository load and unload: its admin token is unset or empty. ' +
        'Set the secret its withToken() function reads (e.g. the ADMIN_TOKEN environment variable).',
    );
  }
}

/** Whether `sent` is `secret`, in time that depends on neither (equal-length SHA-256 digests). */
function sameSecret(sent: string | Buffer, secret: string): boolean {
  return timingSafeEqual(digest(sent), digest(secret));
}

function digest(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}
