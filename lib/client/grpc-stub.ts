import { loadPackageDefinition as toGrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadPackageDefinition } from '../schema/package-definition.js';

/** @internal A grpc-js client class for `service` defined in `protoText`. */
export function loadGrpcClientConstructor(protoText: string, service: string): ServiceClientConstructor {
  const loaded = toGrpcObject(loadPackageDefinition(protoText));
  return service.split('.').reduce<any>((node, part) => node[part], loaded) as ServiceClientConstructor;
}
