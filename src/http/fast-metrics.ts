// Prometheus metrics for the per-request path. prom-client's Histogram and Counter check and hash
// the labels object on every call (~0.4-0.9 µs each, three calls per request); here a label set's
// series is looked up once (the caller keeps it) and an observation is a bucket scan and two
// additions. They register in a prom-client Registry like any metric and export the same series
// (a counter's value; a histogram's `_bucket` with `le`, `_sum`, `_count`), so /metrics, the
// cluster's AggregatorRegistry and scrapers see no difference.

import type { Metric, Registry } from 'prom-client';

/** One label set's counts. */
export interface HistogramSeries {
  observe(value: number): void;
}

class Series implements HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

type Exported = { labels: Record<string, string | number>; value: number; metricName?: string };
type MetricData = { name: string; help: string; type: string; aggregator: string; values: Exported[] };

/** Series by label values, created on first use; the shared part of both metric kinds. */
abstract class Labelled<L extends string, S> {
  readonly aggregator = 'sum';
  protected readonly series = new Map<string, { labels: Record<string, string>; s: S }>();
  private unlabelled: S | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    registers: readonly Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as unknown as Metric);
  }

  protected abstract make(): S;

  protected seriesOf(labels: Record<L, string>): S {
    if (this.labelNames.length === 0) return (this.unlabelled ??= this.seriesFor([]));
    const values = this.labelNames.map((n) => labels[n]);
    if (values.some((v) => typeof v !== 'string')) throw new Error(`${this.name}: labels ${this.labelNames.join(', ')} are required`);
    return this.seriesFor(values);
  }

  private seriesFor(values: string[]): S {
    const key = values.join('\u0000');
    let e = this.series.get(key);
    if (e === undefined) {
      e = { labels: Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]])), s: this.make() };
      this.series.set(key, e);
    }
    return e.s;
  }

  protected abstract zero(s: S): void;

  /** Zeroes every series in place: callers keep the series they were handed, so none may be dropped. */
  reset(): void {
    for (const e of this.series.values()) this.zero(e.s);
  }
}

/** A counter whose label sets are bound once (`labels()`), then counted with `inc()` on the child. */
export class FastCounter<L extends string = never> extends Labelled<L, { n: number }> {
  readonly type = 'counter';

  constructor(opts: { name: string; help: string; labelNames?: readonly L[]; registers: readonly Registry[] }) {
    super(opts.name, opts.help, opts.labelNames ?? [], opts.registers);
  }

  protected make(): { n: number } {
    return { n: 0 };
  }

  protected zero(s: { n: number }): void {
    s.n = 0;
  }

  labels(labels: Record<L, string>): { inc(by?: number): void } {
    const c = this.seriesOf(labels);
    return {
      inc: (by = 1) => {
        c.n += by;
      },
    };
  }

  async get(): Promise<MetricData> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...this.series.values()].map((e) => ({ labels: { ...e.labels }, value: e.s.n })),
    };
  }
}

export class FastHistogram<L extends string = never> extends Labelled<L, Series> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(opts: { name: string; help: string; labelNames?: readonly L[]; buckets: readonly number[]; registers: readonly Registry[] }) {
    super(opts.name, opts.help, opts.labelNames ?? [], opts.registers);
    this.bounds = [...opts.buckets].sort((a, b) => a - b);
  }

  protected make(): Series {
    return new Series(this.bounds);
  }

  protected zero(s: Series): void {
    s.counts.fill(0);
    s.sum = 0;
    s.count = 0;
  }

  /** The series of one label set; keep it (a route's child) rather than asking per observation. */
  labels(labels: Record<L, string>): HistogramSeries {
    return this.seriesOf(labels);
  }

  /** For a histogram without labels. */
  observe(value: number): void {
    this.seriesOf({} as Record<L, string>).observe(value);
  }

  /** The metric as prom-client's registry reads it (the same series as its own Histogram's). */
  async get(): Promise<MetricData> {
    const values: Exported[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, s } of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i];
        values.push({ labels: { le: this.bounds[i], ...labels }, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', ...labels }, value: s.count, metricName: bucket });
      values.push({ labels: { ...labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
