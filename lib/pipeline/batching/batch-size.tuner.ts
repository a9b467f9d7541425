/** Samples a batch size gets before it is compared with the size in use. */
const PROBE_SAMPLES = 4;
/** Samples at the size in use between two probes of a neighbouring size. */
const SAMPLES_BETWEEN_PROBES = 24;
/** A size must cost this much less per row to be chosen over the one in use (noise margin). */
const MIN_GAIN = 0.05;
/** Weight of a new sample in a size's running cost. */
const SMOOTHING = 0.25;

interface SizeCost {
  /** Seconds per row, smoothed. */
  perRow: number;
  samples: number;
}

/**
 * Learns which batch size runs a model fastest per row, and caps batches
 * there. Models differ: a dense network runs 32 rows for little more than
 * the price of one, while a CNN on a CPU can get slower per row beyond a few
 * (its activations outgrow the caches). `maxBatchSize` stays the upper bound.
 *
 * What it measures is throughput under load: for each cap, the time between
 * consecutive ends of executions, per row, counted only while the model is
 * saturated (the next batch was already dispatched when the previous one
 * ended). That holds whatever the runtime does inside, with one instance or
 * several, pipelined or not. It hill-climbs over powers of two: every so
 * often it tries the next size up or down for a few batches, and moves there
 * when that costs clearly less per row. Below saturation it learns nothing,
 * and nothing needs learning.
 */
export class BatchSizeTuner {
  private readonly sizes: readonly number[];
  private readonly costs = new Map<number, SizeCost>();
  private current: number;
  private probing?: number;
  private sinceProbe = 0;
  private nextProbeUp = false;

  constructor(maxBatchSize: number) {
    const sizes: number[] = [];
    for (let size = 1; size < maxBatchSize; size *= 2) sizes.push(size);
    sizes.push(maxBatchSize);
    this.sizes = sizes;
    this.current = maxBatchSize;
  }

  /** The most rows the next batch may take. */
  get cap(): number {
    return this.probing ?? this.current;
  }

  /** The size in use (not counting a probe), for metrics and tests. */
  get size(): number {
    return this.current;
  }

  /**
   * An execution dispatched under `cap` served `rows` rows and ended `seconds`
   * after the previous execution ended, with the model saturated throughout.
   */
  record(cap: number, rows: number, seconds: number): void {
    if (rows === 0) return;
    const perRow = seconds / rows;
    const cost = this.costs.get(cap) ?? { perRow, samples: 0 };
    cost.perRow = cost.samples === 0 ? perRow : cost.perRow + SMOOTHING * (perRow - cost.perRow);
    cost.samples++;
    this.costs.set(cap, cost);
    if (this.probing === undefined) {
      if (cap === this.current && ++this.sinceProbe >= SAMPLES_BETWEEN_PROBES) this.startProbe();
    } else if (cap === this.probing && cost.samples % PROBE_SAMPLES === 0) {
      this.finishProbe();
    }
  }

  private startProbe(): void {
    this.sinceProbe = 0;
    if (this.sizes.length === 1) return;
    const index = this.sizes.indexOf(this.current);
    const down = this.sizes[index - 1];
    const up = this.sizes[index + 1];
    this.nextProbeUp = !this.nextProbeUp;
    this.probing = this.nextProbeUp ? (up ?? down) : (down ?? up);
  }

  private finishProbe(): void {
    const probe = this.probing!;
    this.probing = undefined;
    const probed = this.costs.get(probe)!.perRow;
    const current = this.costs.get(this.current)?.perRow ?? Infinity;
    if (probed < current * (1 - MIN_GAIN)) this.current = probe;
  }
}
