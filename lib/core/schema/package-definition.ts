import { fromJSON, loadFileDescriptorSetFromBuffer, type PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** How decoded messages look to handlers: field names as declared, 64-bit integers as strings (then BigInt), a oneof naming its set member. */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
};

/**
 * Loads .proto text into a grpc-js package definition. The text is parsed
 * with protobufjs and handed over as a JSON descriptor, because
 * proto-loader pins its own protobufjs and cannot take our `Root`.
 */
export function loadPackageDefinition(protoText: string): PackageDefinition {
  return packageDefinitionOf(parseProto(protoText));
}

/** .proto text as a protobufjs root, field names as declared. */
export function parseProto(protoText: string): protobuf.Root {
  return protobuf.parse(protoText, { keepCase: true }).root;
}

/** A grpc-js package definition of an already parsed root. */
export function packageDefinitionOf(root: protobuf.Root): PackageDefinition {
  return fromJSON(root.toJSON(), LOADER_OPTIONS);
}

/** Loads encoded FileDescriptorProtos (as server reflection returns them) into a package definition. */
export function loadFileDescriptors(files: readonly Uint8Array[]): PackageDefinition {
  // FileDescriptorSet { repeated FileDescriptorProto file = 1; }: each file as tag 0x0a, length, bytes.
  const parts = files.flatMap((file) => [Buffer.from([0x0a]), varint(file.byteLength), Buffer.from(file)]);
  return loadFileDescriptorSetFromBuffer(Buffer.concat(parts), LOADER_OPTIONS);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}
