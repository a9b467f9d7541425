import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { BlazeContext } from '../../lib/index.js';
import { sampleConfig } from '../sample.config.js';

/**
 * Lets a call through when its `authorization` metadata is `Bearer <token>`
 * with the sample's token. Missing -> UNAUTHENTICATED; wrong -> PERMISSION_DENIED.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const authorization = context.switchToRpc().getContext<BlazeContext>().header('authorization');
    if (!authorization) {
      throw new UnauthorizedException("Missing 'authorization' metadata; send 'authorization: Bearer <token>'");
    }
    return authorization === `Bearer ${sampleConfig.apiToken()}`;
  }
}
