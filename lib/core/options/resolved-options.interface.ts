import type { ChannelOptions, ServerCredentials } from '@grpc/grpc-js';
import type { BatchingOptions } from './batching-options.interface.js';
import type { RequestLimits } from './request-limits.interface.js';

/** @internal Module options after validation, with every default filled in. */
export interface ResolvedBlazeRpcOptions {
  readonly host: string;
  readonly port: number;
  readonly protoPackage: string;
  readonly protoFile: string | false;
  readonly health: boolean;
  readonly reflection: boolean;
  readonly protocols: { readonly blazerpc: boolean; readonly oip: boolean };
  readonly gracePeriodMs: number;
  readonly logCalls: boolean;
  readonly flowControlWindow: number;
  readonly channelOptions: ChannelOptions;
  readonly credentials: ServerCredentials;
  /** True when serving over TLS. */
  readonly tls: boolean;
  readonly batching: Required<BatchingOptions>;
  readonly limits: Readonly<Required<RequestLimits>>;
}
