/**
 * Time in tests, in one place. Prefer `until(condition)` to a fixed `sleep`: it waits exactly as
 * long as the machine needs, so a loaded CI runner makes a spec slower, not red. Keep `sleep` for
 * the few waits that are the point of a test (a client that stays silent for a while, a hold that
 * must outlast a deadline); use Jest's fake timers where timing is logic (a batcher's timeout).
 */

/** Resolves after `ms` milliseconds of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How long `until` waits, and what it says when the wait runs out. */
export interface UntilOptions {
  /** @default 10_000 */
  timeoutMs?: number;
  /** Between checks. @default 5 */
  intervalMs?: number;
  /** Named in the error when time runs out, e.g. 'every replica serving'. */
  what?: string;
}

/**
 * Resolves once `condition` holds (it may be async), checking every few
 * milliseconds; rejects naming `what` when it has not held within the timeout.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  options: UntilOptions | string = {},
): Promise<void> {
  const {
    timeoutMs = 10_000,
    intervalMs = 5,
    what = 'condition',
  } = typeof options === 'string' ? { what: options } : options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
