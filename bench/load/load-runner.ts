import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadPlan, PhaseMessage, RoundResult } from './unary-load.js';

/**
 * Runs a load plan in a separate process and resolves to its per-round results.
 * With `plan.notifyPhases`, `onPhase` runs (and is awaited) just before each
 * measured round starts and just after it ends, while the load process waits:
 * the place to snapshot the server's counters for exactly that window.
 */
export function runLoad(plan: LoadPlan, onPhase?: (message: PhaseMessage) => unknown): Promise<RoundResult[]> {
  const child = fork(fileURLToPath(new URL('./unary-load.js', import.meta.url)));
  return new Promise((resolve, reject) => {
    child.on('message', (message: { results?: RoundResult[]; error?: string } | PhaseMessage) => {
      if ('phase' in message) {
        Promise.resolve()
          .then(() => onPhase?.(message))
          .then(
            () => child.send({ ack: true }),
            (error: unknown) => {
              child.kill();
              reject(error);
            },
          );
      } else if (message.results) {
        resolve(message.results);
      } else {
        reject(new Error(message.error));
      }
    });
    child.once('exit', (code) => code !== 0 && reject(new Error(`load process exited with ${code}`)));
    child.send(plan);
  });
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
