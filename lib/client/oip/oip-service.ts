import type { MethodDefinition } from '@grpc/proto-loader';
import { OIP_PROTO, OIP_SERVICE } from '../../protocols/shared/oip.proto.js';
import { loadPackageDefinition } from '../../core/schema/package-definition.js';

/** The rpcs of `inference.GRPCInferenceService`. */
export type OipRpc =
  | 'ServerLive'
  | 'ServerReady'
  | 'ModelReady'
  | 'ServerMetadata'
  | 'ModelMetadata'
  | 'ModelInfer'
  | 'ModelStreamInfer'
  | 'ModelConfig'
  | 'ModelStatistics'
  | 'RepositoryIndex';

let methods: Record<OipRpc, MethodDefinition<object, object>> | undefined;

/**
 * @internal Path and (de)serializers of an OIP rpc. The proto is parsed once
 * per process, on first use, and shared by every client.
 */
export function oipMethod(rpc: OipRpc): MethodDefinition<object, object> {
  methods ??= loadPackageDefinition(OIP_PROTO)[OIP_SERVICE] as unknown as Record<
    OipRpc,
    MethodDefinition<object, object>
  >;
  return methods[rpc];
}
