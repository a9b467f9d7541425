import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { BlazeClientOptions } from './blaze-client-options.interface.js';

const pem = (value: Buffer | string | undefined) =>
  value === undefined ? null : typeof value === 'string' ? Buffer.from(value) : value;

/** @internal Channel credentials from the client options: explicit, TLS (optionally mTLS), or plaintext. */
export function channelCredentials(options: BlazeClientOptions): ChannelCredentials {
  if (options.credentials) return options.credentials;
  if (!options.tls) return grpcCredentials.createInsecure();
  const tls = options.tls === true ? {} : options.tls;
  return grpcCredentials.createSsl(pem(tls.rootCerts), pem(tls.privateKey), pem(tls.certChain));
}
