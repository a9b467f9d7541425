import { Metadata, status as GrpcStatus, type CallOptions as GrpcCallOptions } from '@grpc/grpc-js';
import { BlazeRpcClientError } from '../blaze-rpc-client.error.js';
import type { OipCallOptions } from './oip-client-options.interface.js';

/** @internal Metadata from a plain record or a grpc-js `Metadata` (cloned, so callers' objects are never changed). */
export function toMetadata(values: Record<string, string> | Metadata | undefined): Metadata {
  if (values instanceof Metadata) return values.clone();
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(values ?? {})) metadata.set(key, value);
  return metadata;
}

/** @internal The client's default metadata with a call's own added. */
export function callMetadata(defaults: Metadata, options: Pick<OipCallOptions, 'metadata'>): Metadata {
  const metadata = defaults.clone();
  if (options.metadata) metadata.merge(toMetadata(options.metadata));
  return metadata;
}

/** @internal The call's deadline: its own, else `timeoutMs` from now, else the client's default timeout. */
export function grpcCallOptions(
  options: Pick<OipCallOptions, 'timeoutMs' | 'deadline'>,
  defaultTimeoutMs: number | undefined,
): GrpcCallOptions {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const deadline = options.deadline ?? (timeoutMs === undefined ? undefined : new Date(Date.now() + timeoutMs));
  return deadline ? { deadline } : {};
}

/** @internal A signal that already fired cancels before anything is sent, with the status a cancelled call has. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BlazeRpcClientError(GrpcStatus.CANCELLED, 'Cancelled before the call started');
}
