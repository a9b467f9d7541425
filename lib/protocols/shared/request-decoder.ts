import type protobuf from 'protobufjs';
import { BlazeRpcError } from '../../core/errors/blaze-rpc.error.js';
import { ValidationError } from '../../core/errors/validation.error.js';
import { LOADER_OPTIONS } from '../../core/schema/package-definition.js';
import { checkWireFormat, rulesFor, WireFormatError, type FieldCap } from './wire-format.validator.js';

/**
 * Decodes one request message to the plain object handlers' parameters are
 * read from. `beforeDecode`, when given, sees the bytes once they passed the
 * wire check and before any of them is decoded: the place for checks that
 * need a well-formed message but must not pay for decoding it.
 */
export type RequestDecoder = (bytes: Uint8Array, beforeDecode?: (bytes: Uint8Array) => void) => Record<string, unknown>;

/**
 * @internal A strict decoder for one request type: the bytes are checked
 * against the wire format first (see `checkWireFormat`), counting `caps` as
 * it goes, then decoded with protobufjs into the same shape grpc-js's
 * proto-loader gives (field names as declared, 64-bit integers as strings,
 * bytes as Buffers). A singular message field sent more than once is merged,
 * as proto3 requires, not replaced.
 *
 * @throws ValidationError `Malformed XRequest message: ...` for any bad byte sequence
 * @throws what a cap refuses with, for a request over it; what `beforeDecode` throws
 */
export function createRequestDecoder(
  root: protobuf.Root,
  typeName: string,
  caps: readonly FieldCap[] = [],
): RequestDecoder {
  const type = root.lookupType(typeName);
  const rules = rulesFor(type, caps);
  return (bytes, beforeDecode) => {
    try {
      const repeated = checkWireFormat(bytes, rules, type);
      beforeDecode?.(bytes);
      const message = type.decode(bytes) as unknown as Record<string, unknown>;
      for (const { field, nested, payloads } of repeated) message[field] = nested.decode(Buffer.concat(payloads));
      return type.toObject(message as unknown as protobuf.Message, LOADER_OPTIONS) as Record<string, unknown>;
    } catch (error) {
      // Refusals already worded for the client (caps, checks before decoding) go out as they are.
      if (error instanceof BlazeRpcError && !(error instanceof WireFormatError)) throw error;
      throw new ValidationError(`Malformed ${type.name} message: ${(error as Error).message}`);
    }
  };
}
