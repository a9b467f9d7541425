import type protobuf from 'protobufjs';
import { ValidationError } from '../errors/validation.error.js';
import { LOADER_OPTIONS } from '../schema/package-definition.js';
import { checkWireFormat, rulesFor, WireFormatError } from './wire-format.validator.js';

/** Decodes one request message to the plain object handlers' parameters are read from. */
export type RequestDecoder = (bytes: Uint8Array) => Record<string, unknown>;

/**
 * @internal A strict decoder for one request type: the bytes are checked
 * against the wire format first (see `checkWireFormat`), then decoded with
 * protobufjs into the same shape grpc-js's proto-loader gives (field names as
 * declared, 64-bit integers as strings, bytes as Buffers). A singular message
 * field sent more than once is merged, as proto3 requires, not replaced.
 *
 * @throws ValidationError `Malformed XRequest message: ...` for any bad byte sequence
 */
export function createRequestDecoder(root: protobuf.Root, typeName: string): RequestDecoder {
  const type = root.lookupType(typeName);
  const rules = rulesFor(type);
  return (bytes) => {
    try {
      const repeated = checkWireFormat(bytes, rules, type);
      const message = type.decode(bytes) as unknown as Record<string, unknown>;
      for (const { field, nested, payloads } of repeated) message[field] = nested.decode(Buffer.concat(payloads));
      return type.toObject(message as unknown as protobuf.Message, LOADER_OPTIONS) as Record<string, unknown>;
    } catch (error) {
      const reason = error instanceof WireFormatError ? error.message : (error as Error).message;
      throw new ValidationError(`Malformed ${type.name} message: ${reason}`);
    }
  };
}
