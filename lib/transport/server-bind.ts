import type { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
import { ConfigurationError } from '../core/errors/configuration.error.js';

/** @internal Binds `server` to `host`:`port`; resolves to the port bound (the real one for port 0). */
export function bindServer(
  server: GrpcServer,
  host: string,
  port: number,
  credentials: ServerCredentials,
): Promise<number> {
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, bound) => {
      if (!error) return resolve(bound);
      reject(
        new ConfigurationError(
          `BlazeRpcServer cannot listen on ${address} (BlazeRpcModule options 'host'/'port', or 'url'): ${error.message}. ` +
            'Is another server on that port? Pick a free port, or port: 0 for any.',
          { cause: error },
        ),
      );
    });
  });
}
