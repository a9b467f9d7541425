import type { Counter, Gauge, Histogram } from 'prom-client';

/** Label values of one series, keyed in the metric's label-name order (as prom-client's `labels()` builds them). */
export type LabelSet = Record<string, string>;

/** What a series keeps between scrapes: written into its prom-client metric when that is read, or dropped when it is reset. */
interface Pending {
  flush(): void;
  drop(): void;
}

/** The prom-client metric methods hooked to publish pending values first. */
interface Hookable {
  collect?: (this: unknown) => unknown;
  reset(): void;
}

/** Every metric hooked so far, with the series recorded to it (from any app in the process: prom-client's registry is global). */
const pendingOf = new WeakMap<object, Set<Pending>>();

/**
 * Makes `metric` publish its pending series whenever it is read (`get()`:
 * a scrape, `register.metrics()`, or a user reading an injected metric), and
 * drop them when it is reset, so it always shows what was recorded.
 */
function hook(metric: Hookable): Set<Pending> {
  const hooked = pendingOf.get(metric);
  if (hooked) return hooked;
  const series = new Set<Pending>();
  pendingOf.set(metric, series);
  const collect = metric.collect;
  const reset = metric.reset;
  metric.collect = function (this: unknown) {
    for (const one of series) one.flush();
    return collect?.call(this);
  };
  metric.reset = function (this: Hookable) {
    for (const one of series) one.drop();
    reset.call(this);
  };
  return series;
}

/**
 * @internal Series of prom-client metrics recorded into plain number fields on
 * the hot path and added to the metrics when they are read, not per call:
 * prom-client hashes the label set on every `inc()` and `observe()`. What a
 * scrape shows is exactly what recording each value would have shown.
 */
export class ScrapeTimeTallies {
  private readonly series: Array<{ pending: Set<Pending>; one: Pending }> = [];

  counter(metric: Counter<string>, labels: LabelSet): CounterTally {
    return new CounterTally(metric, labels, this);
  }

  gauge(metric: Gauge<string>, labels: LabelSet): GaugeTally {
    return new GaugeTally(metric, labels, this);
  }

  histogram(metric: Histogram<string>, labels: LabelSet): HistogramTally {
    return new HistogramTally(metric, labels, this);
  }

  /** Publishes everything pending and stops tracking (the app is closing; the metrics stay in the registry). */
  close(): void {
    for (const { pending, one } of this.series) {
      one.flush();
      pending.delete(one);
    }
    this.series.length = 0;
  }

  /**
   * @internal A series' first value: from now on it is published when its metric is read. (Listed in the
   * order series are first recorded, so they are made in prom-client in the order recording each value makes them.)
   */
  enlist(metric: object, one: Pending): void {
    const pending = hook(metric as Hookable);
    pending.add(one);
    this.series.push({ pending, one });
  }
}

/** One series of one metric, enlisted with its owner (to be published when the metric is read) when first recorded. */
abstract class Series<M extends object> implements Pending {
  private owner?: ScrapeTimeTallies;

  constructor(
    protected readonly metric: M,
    protected readonly labels: LabelSet,
    owner: ScrapeTimeTallies,
  ) {
    this.owner = owner;
  }

  abstract flush(): void;
  abstract drop(): void;

  protected enlist(): void {
    this.owner!.enlist(this.metric, this);
    this.owner = undefined;
  }

  protected get enlisted(): boolean {
    return this.owner === undefined;
  }
}

/** One counter series: increments summed until the next read. */
export class CounterTally extends Series<Counter<string>> {
  private pending = 0;
  private touched = false;

  inc(by = 1): void {
    // Anything prom-client would refuse goes to it at once, so it throws as it always did.
    if (!(by >= 0 && by !== Infinity)) return this.metric.inc(this.labels, by);
    if (!this.enlisted) this.enlist();
    this.pending += by;
    this.touched = true;
  }

  flush(): void {
    if (!this.touched) return;
    const by = this.pending;
    this.pending = 0;
    this.touched = false;
    this.metric.inc(this.labels, by);
  }

  drop(): void {
    this.pending = 0;
    this.touched = false;
  }
}

/** One gauge series: the last value set, written at the next read. */
export class GaugeTally extends Series<Gauge<string>> {
  private value = 0;
  private touched = false;

  set(value: number): void {
    if (!Number.isFinite(value)) return this.metric.set(this.labels, value);
    if (!this.enlisted) this.enlist();
    this.value = value;
    this.touched = true;
  }

  flush(): void {
    if (!this.touched) return;
    this.touched = false;
    this.metric.set(this.labels, this.value);
  }

  drop(): void {
    this.touched = false;
  }
}

/** prom-client 15's histogram internals: per label set, its count, sum and the count of each bucket (keyed by upper bound). */
interface HistogramEntry {
  labels: LabelSet;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

interface HistogramInternals {
  hashMap: Record<string, HistogramEntry>;
  upperBounds: readonly number[];
  enableExemplars: boolean;
  zero(labels: LabelSet): void;
}

/**
 * One histogram series: bucket counts, count and sum kept here and added to
 * the histogram's own series when it is read. (prom-client has no call to add
 * counts in bulk, so this writes its series as its `observe()` does; on a
 * prom-client whose histograms look different it observes each value at once.)
 */
export class HistogramTally extends Series<Histogram<string>> {
  private readonly bounds: readonly number[];
  private readonly buckets: number[];
  private count = 0;
  /** The series' sum as prom-client would have it, adding each value in turn to what was last written. */
  private sum = 0;
  private written = 0;
  private key?: string;
  private current?: HistogramEntry;
  private readonly direct?: ReturnType<Histogram<string>['labels']>;

  constructor(metric: Histogram<string>, labels: LabelSet, owner: ScrapeTimeTallies) {
    super(metric, labels, owner);
    const internals = metric as unknown as Partial<HistogramInternals>;
    const usable =
      typeof internals.hashMap === 'object' &&
      Array.isArray(internals.upperBounds) &&
      !internals.enableExemplars &&
      typeof internals.zero === 'function';
    this.bounds = usable ? internals.upperBounds! : [];
    this.buckets = this.bounds.map(() => 0);
    if (!usable) this.direct = metric.labels(labels);
  }

  observe(value: number): void {
    if (this.direct || !Number.isFinite(value)) return (this.direct ?? this.metric.labels(this.labels)).observe(value);
    if (!this.enlisted) this.enlist();
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.buckets[i]!++;
        break;
      }
    }
    this.count++;
    this.sum += value;
  }

  flush(): void {
    if (this.count === 0) return;
    const { entry, same } = this.entry();
    const { buckets, bounds } = this;
    for (let i = 0; i < buckets.length; i++) {
      if (buckets[i] === 0) continue;
      entry.bucketValues[bounds[i]!]! += buckets[i]!;
      buckets[i] = 0;
    }
    entry.count += this.count;
    // Untouched since the last flush (the usual case): the very sum observing each value would have made.
    entry.sum = same && entry.sum === this.written ? this.sum : entry.sum + (this.sum - this.written);
    this.written = this.sum = entry.sum;
    this.count = 0;
  }

  drop(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.sum = this.written;
  }

  /** The histogram's own series for these labels (made as `observe()` makes it when there is none), and whether it is the one last flushed to. */
  private entry(): { entry: HistogramEntry; same: boolean } {
    const histogram = this.metric as unknown as HistogramInternals;
    if (this.current && histogram.hashMap[this.key!] === this.current) return { entry: this.current, same: true };
    let key = findSeries(histogram.hashMap, this.labels);
    if (key === undefined) {
      histogram.zero(this.labels);
      key = findSeries(histogram.hashMap, this.labels)!;
    }
    this.key = key;
    this.current = histogram.hashMap[key]!;
    return { entry: this.current, same: false };
  }
}

function findSeries(series: Record<string, HistogramEntry>, labels: LabelSet): string | undefined {
  for (const key in series) if (sameLabels(series[key]!.labels, labels)) return key;
  return undefined;
}

function sameLabels(a: LabelSet, b: LabelSet): boolean {
  const names = Object.keys(b);
  return Object.keys(a).length === names.length && names.every((name) => String(a[name]) === b[name]);
}
