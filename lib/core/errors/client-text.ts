/** Longest piece of client input quoted in a message. */
const MAX_QUOTED_CHARS = 128;
/** Dimensions of a client's shape listed in a message before the rest is summarised. */
const MAX_LISTED_DIMS = 8;
/** Longest `grpc-message` sent: a stock client refuses trailers much over 8 KiB. */
export const MAX_STATUS_DETAILS_BYTES = 1024;

/**
 * @internal Client input as it may appear in an error message: at most 128
 * characters, then how much was left out. A 3 MB dtype must not come back
 * as a 3 MB `grpc-message`.
 */
export function quoteClientText(text: string): string {
  if (text.length <= MAX_QUOTED_CHARS) return text;
  return `${text.slice(0, MAX_QUOTED_CHARS)}... (${text.length - MAX_QUOTED_CHARS} more characters)`;
}

/** @internal A shape sent by a client, summarised when long: `[1, 2, 3, ... (1000 dimensions)]`. */
export function describeClientShape(shape: readonly (string | number)[]): string {
  if (shape.length <= MAX_LISTED_DIMS) return `[${shape.map((dim) => quoteClientText(String(dim))).join(', ')}]`;
  const head = shape.slice(0, MAX_LISTED_DIMS).map((dim) => quoteClientText(String(dim)));
  return `[${head.join(', ')}, ... (${shape.length} dimensions)]`;
}

/** @internal Status details cut to `MAX_STATUS_DETAILS_BYTES` of UTF-8, on a character boundary. */
export function boundStatusDetails(details: string): string {
  if (Buffer.byteLength(details) <= MAX_STATUS_DETAILS_BYTES) return details;
  const suffix = '... (truncated)';
  let cut = details.slice(0, MAX_STATUS_DETAILS_BYTES - suffix.length);
  while (Buffer.byteLength(cut) > MAX_STATUS_DETAILS_BYTES - suffix.length) cut = cut.slice(0, -1);
  return cut + suffix;
}
