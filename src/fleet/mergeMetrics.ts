import { performance } from 'node:perf_hooks';
import { SLICE_BUDGET_MS } from '../stream/sampleSlices.js';
import { SeriesTexts } from './seriesTexts.js';

/** @internal one series of a worker's metric, as prom-client's `getMetricsAsJSON()` gives it (after IPC). */
export interface SeriesJson {
  readonly value: unknown;
  readonly labels?: Readonly<Record<string, unknown>>;
  readonly metricName?: string;
}

/** @internal one metric of a worker, as prom-client's `getMetricsAsJSON()` gives it (after IPC). */
export interface MetricJson {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator?: string;
  readonly values?: readonly SeriesJson[];
}

/** @internal where the merged text goes: `write` returns false when the reader is behind (wait for `drained`). */
export interface TextSink {
  write(text: string): boolean;
  drained(): Promise<void>;
}

/** @internal how the merge is sliced; tests lower the budget to see it yield. */
export const mergeSlicing: { budgetMs?: number; maxPerSlice?: number } = {};

/** Characters gathered before they are handed to the sink (each write encodes its text at once). */
const FLUSH_CHARS = 256 * 1024;

type Combine = (values: readonly unknown[]) => unknown;

/* The reductions of prom-client's `metricAggregators.js`, with the same arithmetic in the same order (a value of a
   worker is whatever its JSON held, `null` for a NaN, and is combined as prom-client combines it). */
const add = (values: readonly unknown[]): number => {
  let sum = 0;
  for (const v of values) sum = sum + (v as number);
  return sum;
};
const COMBINE: Readonly<Record<string, Combine | null>> = {
  sum: add,
  first: (values) => values[0],
  average: (values) => add(values) / values.length,
  min: (values) => {
    let min = Infinity;
    for (const v of values) min = Math.min(min, v as number);
    return min;
  },
  max: (values) => {
    let max = -Infinity;
    for (const v of values) max = Math.max(max, v as number);
    return max;
  },
  omit: null,
};

/** prom-client's `getValueAsString`. */
function valueText(value: unknown): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return (value as number) < 0 ? '-Inf' : '+Inf';
  return `${value as number}`;
}

/** prom-client's escaping of a metric name and of help text. */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** prom-client's label value escaping: only strings are escaped. */
function labelValue(value: unknown): string {
  if (typeof value !== 'string') return `${value as string}`;
  return NEEDS_ESCAPE.test(value) ? escapeText(value).replace(/"/g, '\\"') : value;
}
const NEEDS_ESCAPE = /[\\\n"]/;

/*
 * A series' text and key are built with `join` so that each is one flat string: a string made by `+` is a tree of
 * its parts, many more objects for the garbage collector to copy (the fold keeps the keys of labelled series).
 */

/** prom-client's series key: `metricName` and `hashObject(labels)` (keys sorted when more than one). */
function seriesKey(series: SeriesJson): string {
  const labels = series.labels ?? {};
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  const parts = [`${series.metricName}_`];
  for (const k of keys) if (labels[k] !== undefined) parts.push(`${k}:${labels[k] as string},`);
  return parts.join('');
}

/** A series' line up to its value: metric name (the family's escaped `name` when it has none) and labels. */
function seriesText(name: string, series: SeriesJson): string {
  const labels = series.labels ?? {};
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}="${labelValue(v)}"`);
  const metric = series.metricName || name;
  return parts.length === 0 ? metric : [metric, '{', parts.join(','), '}'].join('');
}

/**
 * Whether a series' text says which series it is (prom-client's key): not when its metric name is empty (the text
 * then shows the family's name, as for none) or a label is `undefined` (the key skips it, the text does not).
 * Neither comes through IPC's JSON.
 */
function textIsKey(series: SeriesJson): boolean {
  if (series.metricName === '') return false;
  const labels = series.labels;
  if (labels !== undefined) for (const k in labels) if (labels[k] === undefined) return false;
  return true;
}

/** A series whose worker sent no `value` (kept apart from "this worker has no such series"). */
const NO_VALUE = Symbol('no value');

/** One worker's `help`, `type` and `aggregator` of a metric (prom-client takes them from the first worker). */
interface FamilyMeta {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: string | undefined;
}

/**
 * One metric of every worker. Series are numbered in order of first arrival; what depends on the order the workers
 * finished in (prom-client's order: which worker's help, labels and values come first) is kept per worker slot.
 */
interface Family {
  /** `meta[slot]`: the slot's own, once it sent this metric. */
  readonly meta: (FamilyMeta | undefined)[];
  /** Series number by prom-client's series key (metric name and labels), for series sent with labels. */
  readonly index: Map<string, number>;
  /**
   * Each series' text up to its value, as the worker that sent it first wrote it, and the series number by the text a
   * worker wrote it with, of kind 0 (no metric name of its own, or a finished line) or 1 (see {@link textIsKey}):
   * workers of one application write a series alike, so the second one finds it without making its key.
   */
  readonly texts: SeriesTexts;
  /** `other[slot]`: series whose text differs in that slot (labels in another order), by series number. */
  readonly other: (Map<number, string> | undefined)[];
  /** `order[slot]`: the series numbers in the order that slot sent them. */
  readonly order: number[][];
  /** `values[slot][series]`: that slot's value (`undefined` where it has none, {@link NO_VALUE} for a missing value). */
  readonly values: unknown[][];
  /** A series a slot sent twice: its later values, by `${slot}:${series}` (prom-client combines them all). */
  readonly repeats: Map<string, unknown[]>;
}

/**
 * @internal the workers' metrics folded in as their pieces arrive, so that the primary never holds every worker's
 * parsed answer (about a million objects at 10,000 keys, whose garbage collection blocked the event loop): per
 * series, its text (in a {@link SeriesTexts}: no string object per series) and each worker's value. {@link writeFoldedMetrics} then writes what prom-client's
 * `AggregatorRegistry` writes for the same answers in a given order of the workers.
 */
export class MetricsFold {
  private readonly families = new Map<string, Family>();
  /** `byWorker[slot]`: the metrics in the order that slot sent them. */
  private readonly byWorker: Family[][];

  constructor(readonly workers: number) {
    this.byWorker = Array.from({ length: workers }, () => []);
  }

  /** Folds in one piece of worker `slot`'s answer (its metrics in order, a metric possibly cut across pieces). */
  add(slot: number, metrics: readonly MetricJson[]): void {
    for (const metric of metrics) {
      let family = this.families.get(metric.name);
      if (family === undefined) {
        family = { meta: [], index: new Map(), texts: new SeriesTexts(), other: [], order: [], values: [], repeats: new Map() };
        this.families.set(metric.name, family);
      }
      if (family.meta[slot] === undefined) {
        family.meta[slot] = { name: metric.name, help: metric.help, type: metric.type, aggregator: metric.aggregator };
        family.order[slot] = [];
        family.values[slot] = [];
        this.byWorker[slot]!.push(family);
      }
      const name = escapeText(metric.name);
      const order = family.order[slot]!;
      const values = family.values[slot]!;
      for (const series of metric.values ?? []) {
        // Without labels (as breakwater's workers send their own series: the whole line in `metricName`, see
        // metricsForPrimary) the text is the series' identity: prom-client's key is then `${metricName}_`, which no
        // labelled series has, so such a series needs no key and no entry in `index`. It is looked up among the
        // texts of series without a metric name of their own, which is what the same series is when sent with a
        // labels object (by a worker of an earlier version): the two are one series, not two lines.
        const plain = series.labels === undefined && series.metricName !== '';
        const text = plain ? (series.metricName ?? name) : seriesText(name, series);
        const kind = plain || textIsKey(series) ? (plain || series.metricName === undefined ? 0 : 1) : -1;
        let i = kind === -1 ? -1 : family.texts.find(text, kind);
        if (i === -1) {
          const key = plain ? undefined : seriesKey(series);
          i = key === undefined ? -1 : (family.index.get(key) ?? -1);
          if (i === -1) {
            i = family.texts.add(text);
            if (key !== undefined) family.index.set(key, i);
          }
          if (kind !== -1) family.texts.note(text, kind, i);
        }
        if (values[i] !== undefined) {
          // sent twice by this worker: the slot's first text of the series stands (prom-client writes the first one's)
          const id = `${slot}:${i}`;
          const later = family.repeats.get(id);
          if (later === undefined) family.repeats.set(id, [series.value]);
          else later.push(series.value);
          continue;
        }
        if (!family.texts.is(i, text)) (family.other[slot] ??= new Map()).set(i, text);
        values[i] = series.value === undefined ? NO_VALUE : series.value;
        order.push(i);
      }
      family.texts.seal(); // this piece's new texts: one string
    }
  }

  /** The metrics in prom-client's order for workers that finished in `order` (slots), each with its reduction. */
  inOrder(order: readonly number[]): { family: Family; meta: FamilyMeta; combine: Combine | null }[] {
    const out: { family: Family; meta: FamilyMeta; combine: Combine | null }[] = [];
    const listed = new Set<Family>();
    for (const slot of order) {
      for (const family of this.byWorker[slot]!) {
        if (listed.has(family)) continue;
        listed.add(family);
        const meta = family.meta[slot]!;
        const combine = meta.aggregator !== undefined && Object.hasOwn(COMBINE, meta.aggregator) ? COMBINE[meta.aggregator]! : undefined;
        if (combine === undefined) throw new Error(`'${String(meta.aggregator)}' is not a defined aggregator.`);
        out.push({ family, meta, combine });
      }
    }
    return out;
  }
}

/**
 * @internal merges the workers' metrics (`responses`: each worker's `getMetricsAsJSON()` metrics, in the order the
 * workers finished answering) into the text prom-client's `AggregatorRegistry.clusterMetrics()` gives for them: see
 * {@link writeFoldedMetrics}.
 */
export function writeMergedMetrics(responses: readonly (readonly MetricJson[])[], sink: TextSink, done: (error?: unknown) => void): void {
  const fold = new MetricsFold(responses.length);
  responses.forEach((metrics, slot) => fold.add(slot, metrics));
  writeFoldedMetrics(
    fold,
    responses.map((_, slot) => slot),
    sink,
    done,
  );
}

/**
 * @internal writes the folded metrics of workers that finished answering in `order` (slots of `fold`) as the text
 * prom-client's `AggregatorRegistry.clusterMetrics()` gives for the same answers in that order, byte for byte:
 * metrics in order of first appearance, each series (metric name and labels) reduced by the metric's `aggregator`
 * (`sum`, `first`, `min`, `max`, `average`; `omit` leaves it out). The work is done in slices of
 * {@link SLICE_BUDGET_MS} (yielding to the event loop in between, and waiting while the sink is behind) and the
 * text is handed to `sink` as it is made, never as one string. An unknown aggregator fails before any text is
 * written (prom-client throws there too). `done` gets the error, if any.
 */
export function writeFoldedMetrics(fold: MetricsFold, order: readonly number[], sink: TextSink, done: (error?: unknown) => void): void {
  let families: ReturnType<MetricsFold['inOrder']>;
  try {
    families = fold.inOrder(order);
  } catch (error) {
    done(error);
    return;
  }
  run(families, order, sink).then(() => done(), done);
}

async function run(families: ReturnType<MetricsFold['inOrder']>, order: readonly number[], sink: TextSink): Promise<void> {
  const budgetMs = mergeSlicing.budgetMs ?? SLICE_BUDGET_MS;
  const maxPerSlice = mergeSlicing.maxPerSlice ?? Infinity;
  let parts: string[] = [];
  let chars = 0;
  let start = performance.now();
  let count = 0;
  let ok = true;
  const flush = (): void => {
    if (parts.length === 0) return;
    ok = sink.write(parts.join('')) && ok;
    parts = [];
    chars = 0;
  };
  const push = (text: string): void => {
    parts.push(text);
    chars += text.length;
    if (chars >= FLUSH_CHARS) flush();
  };
  /** True when this slice has had its time (or its count): the caller then awaits {@link pause}. */
  const due = (): boolean => ++count >= maxPerSlice || (count % 16 === 0 && performance.now() - start >= budgetMs);
  const pause = async (): Promise<void> => {
    flush();
    // `drain` may come in the same turn (a write the socket took at once ends in a nextTick): a later turn still
    // follows, so that one turn never runs slice after slice while the reader keeps up.
    if (!ok) await sink.drained();
    await new Promise<void>((resolve) => setImmediate(resolve));
    ok = true;
    start = performance.now();
    count = 0;
  };
  let written = 0;
  for (const { family, meta, combine } of families) {
    if (combine === null) continue;
    const name = escapeText(meta.name);
    push(`${written++ === 0 ? '' : '\n\n'}# HELP ${name} ${escapeText(meta.help)}\n# TYPE ${name} ${meta.type}`);
    // Series in the order the workers finished, each at its first appearance; values in that order too.
    const seen = new Uint8Array(family.texts.count);
    for (const slot of order) {
      for (const i of family.order[slot] ?? []) {
        if (seen[i] === 1) continue;
        seen[i] = 1;
        const values: unknown[] = [];
        let text: string | undefined;
        for (const s of order) {
          const own = family.values[s]?.[i];
          if (own === undefined) continue;
          if (text === undefined) text = family.other[s]?.get(i) ?? family.texts.text(i);
          values.push(own === NO_VALUE ? undefined : own);
          const later = family.repeats.size === 0 ? undefined : family.repeats.get(`${s}:${i}`);
          if (later !== undefined) for (const v of later) values.push(v);
        }
        push(`\n${text!} ${valueText(combine(values))}`);
        if (due()) await pause();
      }
    }
  }
  push('\n');
  flush();
}
