/**
 * @internal Bytes the tensor codec viewed in place or copied, since the
 * process started. Read by the bench to report copies per request.
 */
export const tensorCopyStats = {
  /** Request tensor bytes used in place (aligned: no copy). */
  decodedInPlaceBytes: 0,
  /** Request tensor bytes copied because they were not aligned for their dtype. */
  decodedCopiedBytes: 0,
  /** Response tensor bytes handed to the serializer, which copies them once into the message. */
  encodedBytes: 0,
};
