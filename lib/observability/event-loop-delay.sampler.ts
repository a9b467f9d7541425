import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { Gauge } from 'prom-client';

/** Reported quantiles: label value -> percentile (1 is the maximum). */
const QUANTILES: readonly (readonly [string, number])[] = [
  ['0.5', 50],
  ['0.9', 90],
  ['0.99', 99],
  ['1', 100],
];

const RESOLUTION_MS = 5;

/** One histogram per process, like prom-client's registry: every app in the process reports the same loop. */
const histogram: RecordableHistogram = createHistogram();
let users = 0;
let timer: NodeJS.Timeout | undefined;
let last = 0;

/**
 * How late each tick of a 5 ms timer runs (beyond its 5 ms), in nanoseconds.
 *
 * NOTE: not `monitorEventLoopDelay`: its `reset()` also forgets when it last
 * ticked, so a stall that starts right after a scrape is never recorded.
 */
function start(): void {
  last = performance.now();
  timer = setInterval(() => {
    const now = performance.now();
    histogram.record(Math.max(1, Math.round((now - last - RESOLUTION_MS) * 1e6)));
    last = now;
  }, RESOLUTION_MS);
  timer.unref();
}

/**
 * @internal Samples how late the event loop runs timers, and reports the
 * delays seen since the last scrape as `blazerpc_event_loop_delay_seconds`.
 * Anything that blocks the loop (a synchronous model run, a long GC) shows up
 * here, and it is what health checks and every other call wait behind.
 *
 * NOTE: the gauge lives in prom-client's global registry and outlives an app
 * (a second app in the process gets the same gauge), so the histogram is
 * shared too, and sampled while any app with metrics runs.
 */
export class EventLoopDelaySampler implements OnModuleInit, OnModuleDestroy {
  onModuleInit(): void {
    if (users++ === 0) start();
  }

  onModuleDestroy(): void {
    if (--users === 0) clearInterval(timer);
  }

  /** Writes the quantiles of the delays since the previous report into `gauge`, then starts over. */
  static report(gauge: Gauge<'quantile'>): void {
    const sampled = histogram.count > 0;
    for (const [label, percentile] of QUANTILES) {
      gauge.set({ quantile: label }, sampled ? histogram.percentile(percentile) / 1e9 : 0);
    }
    histogram.reset();
  }
}
