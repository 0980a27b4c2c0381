import type { Registry } from 'prom-client';
import { promClient } from '../internal/lazyModules.js';
import { scrapeData, shareSlices, type CommandRow, type Emit, type LabelSet, type LimiterRow, type PoolRow, type ScrapeData } from './scrapeData.js';

/** @internal what a family writes: its rows (command keys or pools) and the series of one row. */
export type FamilySource =
  | { readonly of: 'command'; readonly rows: (data: ScrapeData) => readonly CommandRow[]; readonly series: (row: CommandRow, emit: Emit) => void }
  | { readonly of: 'pool'; readonly series: (row: PoolRow, emit: Emit) => void }
  | { readonly of: 'limiter'; readonly series: (row: LimiterRow, emit: Emit) => void }
  | { readonly of: 'process'; readonly series: (emit: Emit) => void };

/** Series per value handed to prom-client on the text path (see {@link Family.getForPromString}). */
const LINES_PER_VALUE = 512;

/** prom-client's number format (`getValueAsString`), so our lines and its own read the same. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** A series' line up to its value: the metric name and the labels, as prom-client writes them. */
function seriesText(name: string, base: LabelSet, extra: LabelSet | null): string {
  return extra !== null ? `${name}{${base.text}${extra.text}}` : base.text === '' ? name : `${name}{${base.text}}`;
}

interface Value {
  value: number;
  labels?: Readonly<Record<string, string>>;
  metricName?: string;
}

/**
 * @internal one metric family, registered on a prom-client `Registry` in place of a `Gauge`/`Counter`: its values are
 * read from {@link scrapeData} when the registry asks, and nothing is kept between scrapes (no label map that
 * grows with every key ever seen, nothing left after `registry.clear()`).
 *
 * The text exposition (`registry.metrics()`) calls {@link Family.getForPromString}, which writes each series' line
 * with label text built once per key; prom-client writes a value as `${metricName} ${value}`, so each value it is
 * handed carries up to {@link LINES_PER_VALUE} finished lines, the last one's number as its value. The output is
 * byte for byte what prom-client writes for the same series, built in event-loop slices. Everything else
 * (`getMetricsAsJSON()`, cluster aggregation, a registry with default labels or OpenMetrics output) gets
 * {@link Family.get}: one value per series with its labels as an object, as prom-client's own metrics give.
 */
export class Family {
  constructor(
    /** Written by prom-client for OpenMetrics counters (it strips `_total`). */
    public name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'summary',
    private readonly registry: Registry,
    private readonly source: FamilySource,
    /** How a `node:cluster` primary merges this metric over workers (prom-client's `aggregator`). */
    readonly aggregator: 'sum' | 'max' | 'min' | 'average' = 'sum',
  ) {}

  /** One value per series, labels as objects. */
  async get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    const data = await scrapeData();
    const values: Value[] = [];
    await this.each(data, (base, extra, value) => {
      values.push({ value, labels: extra === null ? base.labels : { ...base.labels, ...extra.labels } });
    });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /**
   * For breakwater's `node:cluster` primary (see src/fleet/clusterMetrics.ts): one value per series, as
   * {@link Family.get} gives, but each series' text up to its value (`name{labels}`, the labels as prom-client writes
   * them) in `metricName` and no `labels`. The primary writes a series as `metricName{labels} value` and tells series
   * apart by metric name and labels, as prom-client's merge does: for these values that is the same line and the same
   * series as for {@link Family.get}'s, but the primary finds a series by that one string instead of building it from
   * a labels object (and each series travels as one string instead of an object). Only for a registry without
   * default labels (prom-client adds those to `labels`). prom-client's own `AggregatorRegistry` reads
   * {@link Family.get}'s values (it needs a labels object).
   */
  async getForCluster(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    const data = await scrapeData();
    const name = this.name;
    const values: Value[] = [];
    await this.each(data, (base, extra, value) => {
      values.push({ value, metricName: seriesText(name, base, extra) });
    });
    return { name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /**
   * {@link Family.getForCluster}'s values, the same series in the same order, but made only as they are iterated:
   * the scrape's rows are read (in slices, shared with the other families) when this resolves, and each row's series
   * when the iteration reaches it. A `node:cluster` worker makes each IPC piece of its answer this way just before
   * sending it (src/fleet/clusterMetrics.ts), so the ~500,000 series of 10,000 keys never live all at once.
   */
  async seriesForCluster(): Promise<{ meta: { name: string; help: string; type: string; values: Value[]; aggregator: string }; series: () => Iterable<Value> }> {
    const data = await scrapeData();
    const name = this.name;
    const source = this.source;
    const meta = { name, help: this.help, type: this.type, values: [], aggregator: this.aggregator };
    const out: Value[] = [];
    const emit: Emit = (base, extra, value) => void out.push({ value, metricName: seriesText(name, base, extra) });
    // One row's series at a time, in the order each() visits them.
    const visit: (row: unknown) => void =
      source.of === 'process'
        ? () => source.series(emit)
        : source.of === 'pool'
          ? (row) => source.series(row as PoolRow, emit)
          : source.of === 'limiter'
            ? (row) => source.series(row as LimiterRow, emit)
            : (row) => source.series(row as CommandRow, emit);
    const rows: readonly unknown[] =
      source.of === 'process' ? [null] : source.of === 'pool' ? data.pools : source.of === 'limiter' ? data.limiters : source.rows(data);
    return {
      meta,
      *series() {
        for (const row of rows) {
          out.length = 0;
          visit(row);
          yield* out;
        }
      },
    };
  }

  /** The text exposition: finished lines, many per value (see the class comment). */
  async getForPromString(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    if (!plainText(this.registry)) return this.get();
    const data = await scrapeData();
    const name = this.name;
    const values: Value[] = [];
    // Lines are gathered in an array and joined once per value: the value's text is then one flat string (not a
    // rope of thousands of pieces), so prom-client's own join of the family is a plain copy.
    const parts: string[] = [];
    let last = 0;
    await this.each(data, (base, extra, value) => {
      if (parts.length !== 0) parts.push(` ${valueText(last)}\n`);
      parts.push(seriesText(name, base, extra));
      last = value;
      if (parts.length === 2 * LINES_PER_VALUE - 1) {
        values.push({ metricName: parts.join(''), value: last });
        parts.length = 0;
      }
    });
    if (parts.length !== 0) values.push({ metricName: parts.join(''), value: last });
    return { name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** prom-client's `registry.resetMetrics()`: nothing is held, so nothing to reset. */
  reset(): void {}

  private each(data: ScrapeData, emit: Emit): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error: unknown): void => (error === undefined ? resolve() : reject(error));
      const source = this.source;
      if (source.of === 'process') {
        try {
          source.series(emit);
        } catch (error) {
          return done(error);
        }
        return done(undefined);
      }
      // One budget for every family of the scrape (see shareSlices): prom-client starts them all in one turn.
      if (source.of === 'pool') shareSlices(data.pools, (row) => source.series(row, emit), done);
      else if (source.of === 'limiter') shareSlices(data.limiters, (row) => source.series(row, emit), done);
      else shareSlices(source.rows(data), (row) => source.series(row, emit), done);
    });
  }
}

/** True when prom-client will write `metricName value` untouched: no default labels, Prometheus text format. */
function plainText(registry: Registry): boolean {
  return registry.contentType === promClient().Registry.PROMETHEUS_CONTENT_TYPE && noDefaultLabels(registry);
}

/** @internal true when the registry adds no default labels to its metrics' values. */
export function noDefaultLabels(registry: Registry): boolean {
  const defaults = (registry as unknown as { _defaultLabels?: Record<string, unknown> })._defaultLabels;
  return defaults !== undefined && Object.keys(defaults).length === 0;
}

export type { LabelSet };
