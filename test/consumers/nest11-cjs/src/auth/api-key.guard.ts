import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Metadata, status } from '@grpc/grpc-js';

/** A guard written as Nest's gRPC docs teach: it reads the call's metadata from the RPC context. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const metadata = context.switchToRpc().getContext<Metadata>();
    const [key] = metadata.get('x-api-key');
    if (key === (process.env.API_KEY ?? 'secret')) return true;
    throw new RpcException({
      code: status.PERMISSION_DENIED,
      message: 'Missing or wrong x-api-key',
    });
  }
}
