import { fromJSON, type PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** How decoded messages look to handlers: field names as declared, 64-bit integers as strings (then BigInt). */
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, arrays: true };

/**
 * Loads .proto text into a grpc-js package definition. The text is parsed
 * with protobufjs and handed over as a JSON descriptor, because
 * proto-loader pins its own protobufjs and cannot take our `Root`.
 */
export function loadPackageDefinition(protoText: string): PackageDefinition {
  const { root } = protobuf.parse(protoText, { keepCase: true });
  return fromJSON(root.toJSON(), LOADER_OPTIONS);
}
