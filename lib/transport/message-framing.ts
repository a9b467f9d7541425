import type { ModelCall } from '../protocols/shared/call-route.js';

/** Bytes of gRPC's message prefix: a flag byte, then the message length (big-endian uint32). */
const PREFIX_BYTES = 5;
/** The one defined flag bit: the message is compressed with the call's `grpc-encoding`. */
const COMPRESSED = 1;

/** What of a grpc-js server call this reads: the encoding its client declared, on the innermost intercepting call. */
interface InterceptingCall {
  incomingEncoding?: unknown;
  nextCall?: InterceptingCall;
}

/**
 * @internal Why a request message's gRPC framing is invalid, or `undefined`
 * when it is valid (or cannot be read). The gRPC over HTTP/2 protocol allows
 * the compressed flag only when the call declares a `grpc-encoding`, and no
 * other flag bit; grpc-js accepts both as uncompressed, gRPC core answers
 * INTERNAL, and so does this server.
 *
 * NOTE: on a call that declares no encoding, grpc-js hands the server each
 * message as a view into the framed bytes it read, so the prefix sits just
 * before it. On a call that declares one, a compressed message arrives in a
 * buffer of its own, so nothing is checked there (reserved bits included).
 */
export function framingFault(message: Buffer, call: ModelCall): string | undefined {
  const at = message.byteOffset - PREFIX_BYTES;
  if (at < 0) return undefined;
  const prefix = new DataView(message.buffer, at, PREFIX_BYTES);
  const flags = prefix.getUint8(0);
  // Only a call without an encoding always hands over views into frames; with one, a decompressed message has its own buffer.
  if (flags === 0 || declaredEncoding(call) !== 'identity' || prefix.getUint32(1) !== message.length) return undefined;
  return flags === COMPRESSED
    ? 'Message is flagged compressed, but the call declared no grpc-encoding'
    : `Message has reserved flag bits set (0x${flags.toString(16).padStart(2, '0')})`;
}

/** The `grpc-encoding` grpc-js read from the call's headers (`identity` when none); `undefined` if this grpc-js keeps it elsewhere. */
function declaredEncoding(call: ModelCall): string | undefined {
  let inner = (call as unknown as { call?: InterceptingCall }).call;
  // Server interceptors wrap the call grpc-js made; the encoding lives on that innermost one.
  for (let depth = 0; inner && depth < 16; depth++) {
    if (typeof inner.incomingEncoding === 'string') return inner.incomingEncoding;
    inner = inner.nextCall;
  }
  return undefined;
}
