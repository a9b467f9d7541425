import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcClientError } from '../blaze-rpc-client.error.js';

/**
 * @internal Polls `probe` until it reports ready (resolves `undefined`) or
 * `timeoutMs` passes; a probe that throws (server unreachable, still
 * starting) counts as not ready yet. The timeout error names the last reason
 * a probe gave, not the cut-short probe that ran into the overall deadline.
 */
export async function pollUntilReady(
  probe: (timeoutMs: number) => Promise<string | undefined>,
  { timeoutMs = 30_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  for (let remaining = timeoutMs; remaining > 0; remaining = until - Date.now()) {
    try {
      const notReady = await probe(Math.min(intervalMs * 5, remaining));
      if (notReady === undefined) return;
      last = notReady;
    } catch (error) {
      if (Date.now() < until) last = BlazeRpcClientError.from(error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, until - Date.now()))));
  }
  throw new BlazeRpcClientError(GrpcStatus.DEADLINE_EXCEEDED, `Not ready after ${timeoutMs} ms (last: ${last})`);
}
