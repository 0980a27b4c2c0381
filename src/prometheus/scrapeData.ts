import { allPools } from '../bulkhead/registry.js';
import type { Pool, PoolSnapshot } from '../bulkhead/Pool.js';
import { allRuntimes, type CommandRuntime } from '../command/CommandRuntime.js';
import { getClock } from '../config/store.js';
import type { CommandMetricsSnapshot } from '../metrics/CommandMetrics.js';
import { storeLimiters } from '../limiter/registry.js';
import type { StoreBucket } from '../limiter/StoreBucket.js';
import { EVENT_TYPES } from '../metrics/eventType.js';
import { performance } from 'node:perf_hooks';
import { SLICE_BUDGET_MS, sliceEach, type Done } from '../stream/sampleSlices.js';
import { QUANTILES } from './metricNames.js';

/** @internal labels of a series, as exposition text (`a="x",b="y"`, escaped, made once) and as an object. */
export interface LabelSet {
  readonly text: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** @internal one command key, read once per scrape. */
export interface CommandRow {
  readonly key: string;
  readonly group: string;
  readonly labels: LabelSet;
  readonly snapshot: CommandMetricsSnapshot;
  readonly open: boolean;
  readonly percentiles: boolean;
  /** `isolation: 'adaptive'`: the current limit, else -1. */
  readonly limit: number;
}

/** @internal one pool, read once per scrape. */
export interface PoolRow {
  readonly labels: LabelSet;
  readonly snapshot: PoolSnapshot;
}

/** @internal one store-backed limiter (see `redisStore`), read once per scrape. */
export interface LimiterRow {
  readonly labels: LabelSet;
  readonly storeAvailable: boolean;
  readonly unavailableCount: number;
  readonly fallbackDecisions: number;
}

/** @internal everything one scrape reads. */
export interface ScrapeData {
  readonly commands: readonly CommandRow[];
  readonly pools: readonly PoolRow[];
  readonly limiters: readonly LimiterRow[];
}

/** @internal no labels (a process-wide series). */
export const NO_LABELS: LabelSet = Object.freeze({ text: '', labels: Object.freeze({}) });

/** @internal writes one series: the row's labels, the series' own extra labels (or none), the value. */
export type Emit = (base: LabelSet, extra: LabelSet | null, value: number) => void;

/** A Prometheus label value, escaped as the text format wants (backslash, double quote, newline). */
function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelSet(labels: Record<string, string>, leadingComma = false): LabelSet {
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(',');
  return { text: leadingComma ? `,${text}` : text, labels: Object.freeze(labels) };
}

/** Label strings are built once per key (and again only if its group changes), kept as long as the key lives. */
const commandLabels = new WeakMap<CommandRuntime, { group: string; set: LabelSet }>();
const poolLabels = new WeakMap<Pool, LabelSet>();
const limiterLabels = new WeakMap<StoreBucket, LabelSet>();

function labelsOf(rt: CommandRuntime, key: string, group: string): LabelSet {
  const cached = commandLabels.get(rt);
  if (cached !== undefined && cached.group === group) return cached.set;
  const set = labelSet({ command: key, group });
  commandLabels.set(rt, { group, set });
  return set;
}

let pending: Promise<ScrapeData> | null = null;

/**
 * @internal how a scrape is sliced. Tests set `maxPerSlice` to see slicing on a machine fast enough to read every
 * key within one slice's time budget.
 */
export const scrapeSlicing: { maxPerSlice?: number; budgetMs?: number } = {};

/** One family's rows waiting for {@link shareSlices}. */
interface Job {
  readonly items: readonly unknown[];
  readonly visit: (item: unknown) => void;
  readonly done: Done<void>;
  next: number;
}
const jobs: Job[] = [];
/** A drive is scheduled or running: new jobs only queue. */
let driving = false;
/** Start (real ms) of the slice still open in this event-loop turn, or -1 once the turn has passed. */
let sliceStart = -1;
/** Rows visited in that slice. */
let sliceCount = 0;
const endTurn = (): void => {
  sliceStart = -1;
};

/**
 * @internal calls `visit` on every item, in event-loop slices shared by every caller: prom-client's
 * `registry.metrics()` asks all metric families at once, so their rows are visited one family after the other
 * under one time budget per turn ({@link SLICE_BUDGET_MS}, or `scrapeSlicing.budgetMs`). Per-family slices would
 * each take a full budget in the same turn, one after the other. Work that fits in the turn's remaining budget
 * completes synchronously, so a small scrape still takes one turn.
 */
export function shareSlices<T>(items: readonly T[], visit: (item: T) => void, done: Done<void>): void {
  jobs.push({ items, visit: visit as (item: unknown) => void, done, next: 0 });
  if (!driving) drive();
}

function drive(): void {
  driving = true;
  const budgetMs = scrapeSlicing.budgetMs ?? SLICE_BUDGET_MS;
  const maxPerSlice = scrapeSlicing.maxPerSlice ?? Infinity;
  if (sliceStart < 0) {
    sliceStart = performance.now();
    sliceCount = 0;
    // The slice stays open for callers later in this same turn (prom-client's other families, in microtasks).
    setImmediate(endTurn);
  }
  while (jobs.length > 0) {
    const job = jobs[0]!;
    let failed: unknown;
    let threw = false;
    try {
      while (job.next < job.items.length) {
        if (sliceCount !== 0 && (sliceCount >= maxPerSlice || (sliceCount % 4 === 0 && performance.now() - sliceStart >= budgetMs))) {
          // Out of budget: the rest on a later turn, after I/O and timers had their turn.
          sliceStart = -1;
          setImmediate(drive);
          return;
        }
        job.visit(job.items[job.next++]);
        sliceCount++;
      }
    } catch (error) {
      threw = true;
      failed = error;
    }
    jobs.shift();
    job.done(threw ? failed : undefined);
  }
  driving = false;
}

/**
 * @internal every command key and pool, each read once, in event-loop slices. prom-client asks every metric of a
 * registry in one turn, so every family (and every registration) of one scrape shares this one read; the next
 * scrape reads again.
 */
export function scrapeData(): Promise<ScrapeData> {
  if (pending !== null) return pending;
  const read = new Promise<ScrapeData>((resolve, reject) => {
    const now = getClock().now();
    const commands: CommandRow[] = [];
    sliceEach(
      allRuntimes(),
      (rt) => {
        // Percentiles re-read at most once per percentile bucket per key (see CommandMetrics.latencySnapshots).
        const snapshot = rt.metrics.snapshot(now, false);
        commands.push({
          key: snapshot.commandKey,
          group: snapshot.group,
          labels: labelsOf(rt, snapshot.commandKey, snapshot.group),
          snapshot,
          open: snapshot.circuit !== 'CLOSED',
          percentiles: rt.config.metrics.percentileEnabled,
          limit: rt.adaptive?.limit ?? -1,
        });
      },
      (error) => {
        if (error !== undefined) return reject(error);
        const pools: PoolRow[] = [];
        const limiters: LimiterRow[] = [];
        try {
          for (const pool of allPools()) {
            let labels = poolLabels.get(pool);
            if (labels === undefined) poolLabels.set(pool, (labels = labelSet({ pool: pool.key })));
            pools.push({ labels, snapshot: pool.snapshot(now) });
          }
          for (const l of storeLimiters()) {
            let labels = limiterLabels.get(l);
            if (labels === undefined) limiterLabels.set(l, (labels = labelSet({ limiter: l.name })));
            limiters.push({ labels, storeAvailable: l.storeAvailable, unavailableCount: l.unavailableCount, fallbackDecisions: l.fallbackDecisions });
          }
        } catch (e) {
          return reject(e);
        }
        resolve({ commands, pools, limiters });
      },
      scrapeSlicing,
    );
  });
  pending = read;
  const clear = (): void => {
    if (pending === read) pending = null;
  };
  read.then(clear, clear);
  return read;
}

/** @internal a filter of command keys. */
export type CommandFilter = (commandKey: string, group: string) => boolean;

const EVENT_LABELS = EVENT_TYPES.map((type) => labelSet({ event: type.toLowerCase() }, true));
const STATE_LABELS = (
  [
    ['CLOSED', 'closed'],
    ['OPEN', 'open'],
    ['HALF_OPEN', 'half_open'],
  ] as const
).map(([state, label]) => [state, labelSet({ state: label }, true)] as const);
const KINDS = ['execute', 'total'] as const;
const QUANTILE_LABELS = KINDS.map((kind) => QUANTILES.map(([key, quantile]) => [key, labelSet({ kind, quantile }, true)] as const));
const KIND_LABELS = KINDS.map((kind) => labelSet({ kind }, true));

/** @internal `command_events_total`: one series per event type. */
export function eventSeries(row: CommandRow, emit: Emit): void {
  const cumulative = row.snapshot.cumulative;
  for (let i = 0; i < EVENT_TYPES.length; i++) emit(row.labels, EVENT_LABELS[i]!, cumulative[EVENT_TYPES[i]!]);
}

/** @internal `circuit_state`: 1 for the current state, 0 for the others. */
export function stateSeries(row: CommandRow, emit: Emit): void {
  for (const [state, labels] of STATE_LABELS) emit(row.labels, labels, row.snapshot.circuit === state ? 1 : 0);
}

/** @internal `command_latency_seconds`: each quantile of both kinds, in seconds. */
export function latencySeries(row: CommandRow, emit: Emit): void {
  const latencies = [row.snapshot.latencyExecute, row.snapshot.latencyTotal];
  for (let k = 0; k < KINDS.length; k++) {
    const percentiles = latencies[k]!.percentiles;
    for (const [key, labels] of QUANTILE_LABELS[k]!) emit(row.labels, labels, percentiles[key] / 1000);
  }
}

/** @internal `command_latency_mean_seconds`: both kinds, in seconds. */
export function latencyMeanSeries(row: CommandRow, emit: Emit): void {
  emit(row.labels, KIND_LABELS[0]!, row.snapshot.latencyExecute.mean / 1000);
  emit(row.labels, KIND_LABELS[1]!, row.snapshot.latencyTotal.mean / 1000);
}
