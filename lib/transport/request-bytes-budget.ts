import { constants, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { status as GrpcStatus } from '@grpc/grpc-js';

/** Bytes of gRPC's message prefix: a flag byte, then the message length (big-endian uint32). */
const PREFIX_BYTES = 5;

/**
 * @internal A server-wide bound on the request bytes a server holds at once
 * for unary calls: grpc-js receives each request message whole before the
 * server sees it, so concurrent large requests (up to `maxConcurrentStreams`
 * of up to `maxReceiveMessageLength` on every connection) would otherwise
 * hold memory no handler can refuse in time.
 *
 * Each request stream is watched at the HTTP/2 layer: its message length is
 * read from the gRPC prefix in the first bytes, before the body arrives. A
 * message that would take the total past `limit` is refused there with
 * RESOURCE_EXHAUSTED, so its body is never received; an admitted one counts
 * until its stream closes (the answer is sent). Only a stream's first
 * message counts: streaming calls are bounded by their own read-ahead.
 */
export class RequestBytesBudget {
  /** Bytes of admitted requests whose streams are still open. */
  private held = 0;

  constructor(private readonly limit: number) {}

  /** Watches every request stream of `server`. */
  attach(server: Http2Server): void {
    server.on('stream', (stream) => this.watch(stream));
  }

  /** Bytes held now (for tests and metrics). */
  get bytesHeld(): number {
    return this.held;
  }

  private watch(stream: ServerHttp2Stream): void {
    let prefix: Buffer | undefined;
    const onData = (chunk: Buffer) => {
      // The prefix may arrive split over chunks; it is 5 bytes, so this runs at most a few times.
      prefix = prefix ? Buffer.concat([prefix, chunk]) : chunk;
      if (prefix.length < PREFIX_BYTES) return;
      stream.off('data', onData);
      this.admit(stream, prefix.readUInt32BE(1));
    };
    stream.on('data', onData);
  }

  private admit(stream: ServerHttp2Stream, bytes: number): void {
    if (this.held + bytes > this.limit && this.held > 0) return this.refuse(stream, bytes);
    this.held += bytes;
    stream.once('close', () => (this.held -= bytes));
  }

  /** Answers RESOURCE_EXHAUSTED at once and stops the client's sending (RST_STREAM NO_ERROR after the trailers, as gRPC servers do). */
  private refuse(stream: ServerHttp2Stream, bytes: number): void {
    if (stream.destroyed || stream.closed) return;
    const mib = (value: number) => (value / 1024 / 1024).toFixed(1);
    const details =
      `Server is busy receiving ${mib(this.held)} MiB of requests; this one (${mib(bytes)} MiB) would pass ` +
      `${mib(this.limit)} MiB (limits.maxRequestBytesInFlight): retry later`;
    try {
      if (!stream.headersSent) {
        stream.respond(
          {
            [constants.HTTP2_HEADER_STATUS]: 200,
            [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
            'grpc-status': String(GrpcStatus.RESOURCE_EXHAUSTED),
            'grpc-message': encodeURI(details),
          },
          { endStream: true },
        );
      }
    } finally {
      stream.close(constants.NGHTTP2_NO_ERROR);
    }
  }
}
