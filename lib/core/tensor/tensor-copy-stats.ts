/**
 * @internal Bytes the tensor codec viewed in place or copied, while
 * `counting` is on. Only the bench turns it on, to report copies per request;
 * a server leaves it off and each site costs one false branch.
 */
export const tensorCopyStats = {
  counting: false,
  /** Request tensor bytes received and kept in place (no copy at decode). */
  decodedInPlaceBytes: 0,
  /** Request tensor bytes copied when their typed data was read and they were not aligned for their dtype. */
  decodedCopiedBytes: 0,
  /** Request tensor bytes copied into one buffer per batch (batch merge) or per run (the hand-over to a worker). */
  stagedBytes: 0,
  /** Response tensor bytes handed to the serializer, which copies them once into the message. */
  encodedBytes: 0,
};
