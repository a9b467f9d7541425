import { loadPackageDefinition as toGrpcObject, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadPackageDefinition } from '../core/schema/package-definition.js';

/** @internal A grpc-js client class for `service` defined in `protoText`. */
export function loadGrpcClientConstructor(protoText: string, service: string): ServiceClientConstructor {
  const loaded = toGrpcObject(loadPackageDefinition(protoText));
  return service
    .split('.')
    .reduce((node, part) => node[part] as GrpcObject, loaded) as unknown as ServiceClientConstructor;
}
