import { performance } from 'node:perf_hooks';
import { allPools } from '../bulkhead/registry.js';
import { allRuntimes } from '../command/CommandRuntime.js';
import { getClock } from '../config/store.js';
import { commandFrame, commandObject } from './commandSampler.js';
import { collapserSnapshots, toHystrixCollapser, toHystrixThreadPool, type HystrixDashboardObject } from './hystrixJson.js';

/**
 * @internal the longest one slice of a sample may run (ms) before the builder yields to the event loop. It is
 * measured in real time on purpose: what it bounds is how long the event loop is blocked, which a `FakeClock`
 * cannot stand for (the clock abstraction still supplies the sample's `now` and `currentTime`).
 */
export const SLICE_BUDGET_MS = 5;
/** Items visited between two looks at the time. */
const CHECK_EVERY = 4;

/** @internal how a sliced build went (for tests and the benchmark). */
export interface SliceStats {
  /** Event-loop turns the build took. */
  slices: number;
  /** The longest slice, ms of real time. */
  longestMs: number;
}

/** @internal options of the sliced builders. */
export interface SliceOptions {
  /** Real-time budget of one slice. @defaultValue {@link SLICE_BUDGET_MS} */
  readonly budgetMs?: number;
  /** Items per slice at most (tests use it to see slicing on a fast machine). */
  readonly maxPerSlice?: number;
  /** Filled in as the build goes. */
  readonly stats?: SliceStats;
}

/** Node-style completion: an error, or the result. */
export type Done<T> = (error: unknown, result?: T) => void;

/**
 * @internal calls `visit` on every item, in slices: the first slice runs at once, and whenever one has run for
 * `budgetMs` the rest continues on a later event-loop turn (`setImmediate`, so I/O and timers run in between). A
 * build that fits in one slice completes synchronously, before this function returns. `done` gets the error if
 * `visit` throws (the remaining items are skipped).
 */
export function sliceEach<T>(items: readonly T[], visit: (item: T) => void, done: Done<void>, options: SliceOptions = {}): void {
  const budgetMs = options.budgetMs ?? SLICE_BUDGET_MS;
  const maxPerSlice = options.maxPerSlice ?? Infinity;
  const stats = options.stats;
  let i = 0;
  const slice = (): void => {
    const start = performance.now();
    let inSlice = 0;
    try {
      while (i < items.length) {
        visit(items[i++]!);
        inSlice++;
        if (i < items.length && (inSlice >= maxPerSlice || (inSlice % CHECK_EVERY === 0 && performance.now() - start >= budgetMs))) break;
      }
    } catch (error) {
      done(error);
      return;
    }
    if (stats !== undefined) {
      stats.slices++;
      stats.longestMs = Math.max(stats.longestMs, performance.now() - start);
    }
    if (i < items.length) setImmediate(slice);
    else done(undefined);
  };
  slice();
}

/**
 * @internal one dashboard sample in slices of at most {@link SLICE_BUDGET_MS}: the objects `hystrixDashboardSample()`
 * returns, except that percentiles are re-read at most once per percentile bucket per key (as Hystrix refreshes
 * them) and an unchanged key's object is copied rather than rebuilt. `now` and `currentTime` are read once, at the
 * start, from the configured clock.
 */
export function buildSampleObjects(done: Done<HystrixDashboardObject[]>, options?: SliceOptions): void {
  const clock = getClock();
  const now = clock.now();
  const wall = clock.wallTime();
  const out: HystrixDashboardObject[] = [];
  sliceEach(
    allRuntimes(),
    (rt) => out.push(commandObject(rt, now, wall)),
    (error) => {
      if (error !== undefined) return done(error);
      try {
        for (const pool of allPools()) out.push(toHystrixThreadPool(pool.snapshot(now), wall));
        for (const c of collapserSnapshots()) out.push(toHystrixCollapser(c, wall));
      } catch (e) {
        return done(e);
      }
      done(undefined, out);
    },
    options,
  );
}

/**
 * @internal the same sample as SSE frames (`data: {...}\n\n` each, in sample order), in slices; an unchanged key's
 * frame is its cached text around the new `currentTime`, not serialised again. Empty when there is nothing to send.
 */
export function buildSampleFrames(done: Done<string[]>, options?: SliceOptions): void {
  const clock = getClock();
  const now = clock.now();
  const wall = clock.wallTime();
  const parts: string[] = [];
  sliceEach(
    allRuntimes(),
    (rt) => parts.push(commandFrame(rt, now, wall)),
    (error) => {
      if (error !== undefined) return done(error);
      try {
        for (const pool of allPools()) parts.push(`data: ${JSON.stringify(toHystrixThreadPool(pool.snapshot(now), wall))}\n\n`);
        for (const c of collapserSnapshots()) parts.push(`data: ${JSON.stringify(toHystrixCollapser(c, wall))}\n\n`);
      } catch (e) {
        return done(e);
      }
      done(undefined, parts);
    },
    options,
  );
}

/** @internal {@link buildSampleFrames} joined into one text (the benchmark and tests). */
export function buildSampleText(done: Done<string>, options?: SliceOptions): void {
  buildSampleFrames((error, frames) => (error === undefined ? done(undefined, frames!.join('')) : done(error)), options);
}

/** @internal {@link buildSampleObjects} as a Promise (the benchmark and tests). */
export function sampleObjectsInSlices(options?: SliceOptions): Promise<HystrixDashboardObject[]> {
  return new Promise((resolve, reject) => buildSampleObjects((e, r) => (e === undefined ? resolve(r!) : reject(e)), options));
}

/** @internal {@link buildSampleText} as a Promise (the benchmark and tests). */
export function sampleTextInSlices(options?: SliceOptions): Promise<string> {
  return new Promise((resolve, reject) => buildSampleText((e, r) => (e === undefined ? resolve(r!) : reject(e)), options));
}
