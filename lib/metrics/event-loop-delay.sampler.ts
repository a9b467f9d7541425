import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Gauge } from 'prom-client';

/** Reported quantiles: label value -> percentile (1 is the maximum). */
const QUANTILES: readonly (readonly [string, number])[] = [
  ['0.5', 50],
  ['0.9', 90],
  ['0.99', 99],
  ['1', 100],
];

/**
 * @internal Samples how late the event loop runs timers, and reports the
 * delays seen since the last scrape as `blazerpc_event_loop_delay_seconds`.
 * Anything that blocks the loop (a synchronous model run, a long GC) shows up
 * here, and it is what health checks and every other call wait behind.
 */
export class EventLoopDelaySampler implements OnModuleInit, OnModuleDestroy {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });

  onModuleInit(): void {
    this.histogram.enable();
  }

  onModuleDestroy(): void {
    this.histogram.disable();
  }

  /** Writes the quantiles of the delays since the previous report into `gauge`, then starts over. */
  report(gauge: Gauge<'quantile'>): void {
    const sampled = this.histogram.count > 0;
    for (const [label, percentile] of QUANTILES) {
      gauge.set({ quantile: label }, sampled ? this.histogram.percentile(percentile) / 1e9 : 0);
    }
    this.histogram.reset();
  }
}
