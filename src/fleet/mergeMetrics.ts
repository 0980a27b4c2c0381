import { performance } from 'node:perf_hooks';
import { SLICE_BUDGET_MS } from '../stream/sampleSlices.js';

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

type Combine = (values: readonly SeriesJson[]) => unknown;

/* The reductions of prom-client's `metricAggregators.js`, with the same arithmetic in the same order (a value of a
   worker is whatever its JSON held, `null` for a NaN, and is combined as prom-client combines it). */
const add = (values: readonly SeriesJson[]): number => {
  let sum = 0;
  for (const v of values) sum = sum + (v.value as number);
  return sum;
};
const COMBINE: Readonly<Record<string, Combine | null>> = {
  sum: add,
  first: (values) => values[0]!.value,
  average: (values) => add(values) / values.length,
  min: (values) => {
    let min = Infinity;
    for (const v of values) min = Math.min(min, v.value as number);
    return min;
  },
  max: (values) => {
    let max = -Infinity;
    for (const v of values) max = Math.max(max, v.value as number);
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
  return typeof value === 'string' ? escapeText(value).replace(/"/g, '\\"') : `${value as string}`;
}

/** prom-client's `hashObject` (keys sorted when more than one): what tells two workers' series apart. */
function labelKey(labels: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let key = '';
  for (const k of keys) if (labels[k] !== undefined) key += `${k}:${labels[k] as string},`;
  return key;
}

function seriesLine(name: string, first: SeriesJson, value: unknown): string {
  const labels = first.labels ?? {};
  let text = '';
  for (const [k, v] of Object.entries(labels)) text += `${text === '' ? '' : ','}${k}="${labelValue(v)}"`;
  return `${first.metricName || name}${text === '' ? '' : `{${text}}`} ${valueText(value)}`;
}

/** Metrics of every worker gathered by name, in the order of first appearance, each with its reduction. */
function byName(responses: readonly (readonly MetricJson[])[]): { metrics: MetricJson[]; combine: Combine | null }[] {
  const groups = new Map<string, MetricJson[]>();
  for (const metrics of responses) {
    for (const metric of metrics) {
      const group = groups.get(metric.name);
      if (group === undefined) groups.set(metric.name, [metric]);
      else group.push(metric);
    }
  }
  const out: { metrics: MetricJson[]; combine: Combine | null }[] = [];
  for (const metrics of groups.values()) {
    const name = metrics[0]!.aggregator;
    const combine = name !== undefined && Object.hasOwn(COMBINE, name) ? COMBINE[name]! : undefined;
    if (combine === undefined) throw new Error(`'${String(name)}' is not a defined aggregator.`);
    out.push({ metrics, combine });
  }
  return out;
}

/**
 * @internal merges the workers' metrics (`responses`: each worker's `getMetricsAsJSON()` metrics, in the order the
 * workers finished answering) into the text prom-client's `AggregatorRegistry.clusterMetrics()` gives for them, byte
 * for byte: metrics in order of first appearance, each series (metric name and labels) reduced by the metric's
 * `aggregator` (`sum`, `first`, `min`, `max`, `average`; `omit` leaves it out). The work is done in slices of
 * {@link SLICE_BUDGET_MS} (yielding to the event loop in between, and waiting while the sink is behind) and the
 * text is handed to `sink` as it is made, never as one string. An unknown aggregator fails before any text is
 * written (prom-client throws there too). `done` gets the error, if any.
 */
export function writeMergedMetrics(responses: readonly (readonly MetricJson[])[], sink: TextSink, done: (error?: unknown) => void): void {
  let groups: ReturnType<typeof byName>;
  try {
    groups = byName(responses);
  } catch (error) {
    done(error);
    return;
  }
  run(groups, sink).then(() => done(), done);
}

async function run(groups: ReturnType<typeof byName>, sink: TextSink): Promise<void> {
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
    if (ok) await new Promise<void>((resolve) => setImmediate(resolve));
    else await sink.drained();
    ok = true;
    start = performance.now();
    count = 0;
  };
  let written = 0;
  for (const { metrics, combine } of groups) {
    if (combine === null) continue;
    const name = escapeText(metrics[0]!.name);
    push(`${written++ === 0 ? '' : '\n\n'}# HELP ${name} ${escapeText(metrics[0]!.help)}\n# TYPE ${name} ${metrics[0]!.type}`);
    // Series gathered by metric name and labels, each worker's in the order it answered.
    const series = new Map<string, SeriesJson[]>();
    for (const metric of metrics) {
      for (const value of metric.values ?? []) {
        const key = `${value.metricName}_${labelKey(value.labels ?? {})}`;
        const same = series.get(key);
        if (same === undefined) series.set(key, [value]);
        else same.push(value);
        if (due()) await pause();
      }
    }
    for (const values of series.values()) {
      push(`\n${seriesLine(name, values[0]!, combine(values))}`);
      if (due()) await pause();
    }
  }
  push('\n');
  flush();
}
