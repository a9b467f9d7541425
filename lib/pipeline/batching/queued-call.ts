/** What a queued request needs to know of its call: when to leave the queue. */
export interface QueuedCall {
  readonly signal: AbortSignal;
  readonly deadline?: Date;
  /** The call's OpenTelemetry span, when traced: the batch execution links to it. */
  readonly traceSpan?: unknown;
}
