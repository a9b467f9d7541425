/**
 * @internal Bytes the tensor codec viewed in place or copied, since the
 * process started. Read by the bench to report copies per request.
 */
export const tensorCopyStats = {
  /** Request tensor bytes received and kept in place (no copy at decode). */
  decodedInPlaceBytes: 0,
  /** Request tensor bytes copied when their typed data was read and they were not aligned for their dtype. */
  decodedCopiedBytes: 0,
  /** Request tensor bytes copied into one buffer per batch (batch merge) or per run (the hand-over to a worker). */
  stagedBytes: 0,
  /** Response tensor bytes handed to the serializer, which copies them once into the message. */
  encodedBytes: 0,
};
