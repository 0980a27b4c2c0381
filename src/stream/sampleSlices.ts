import { performance } from 'node:perf_hooks';
import { allPools } from '../bulkhead/registry.js';
import { allRuntimes } from '../command/CommandRuntime.js';
import { getClock } from '../config/store.js';
import { commandFrame, commandObject } from './commandSampler.js';
import { PieceJoiner } from './samplePieces.js';
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
  let i = 0;
  sliceSteps(
    () => i < items.length,
    () => visit(items[i++]!),
    done,
    options,
  );
}

/**
 * @internal {@link sliceEach} over work that is not an array: `step` runs while `more()` says there is some left,
 * in slices of `budgetMs`, yielding to the event loop in between.
 */
export function sliceSteps(more: () => boolean, step: () => void, done: Done<void>, options: SliceOptions = {}): void {
  const budgetMs = options.budgetMs ?? SLICE_BUDGET_MS;
  const maxPerSlice = options.maxPerSlice ?? Infinity;
  const stats = options.stats;
  const slice = (): void => {
    const start = performance.now();
    let inSlice = 0;
    try {
      while (more()) {
        step();
        inSlice++;
        if (more() && (inSlice >= maxPerSlice || (inSlice % CHECK_EVERY === 0 && performance.now() - start >= budgetMs))) break;
      }
    } catch (error) {
      done(error);
      return;
    }
    if (stats !== undefined) {
      stats.slices++;
      stats.longestMs = Math.max(stats.longestMs, performance.now() - start);
    }
    if (more()) setImmediate(slice);
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
  new SampleReader().next(Infinity, (error, part) => (error === undefined ? done(undefined, part!.objects) : done(error)), options);
}

/** @internal one part of a sample read by {@link SampleReader}. */
export interface SamplePart {
  readonly objects: HystrixDashboardObject[];
  /** Whether this is the sample's last part. */
  readonly last: boolean;
}

/**
 * @internal one dashboard sample read a part at a time: the objects {@link buildSampleObjects} gives, in the same
 * order, at most `max` per {@link SampleReader.next}, each part built in slices. The keys are the ones there at the
 * start, and `now` and `currentTime` are read once, at the start; each key's figures are read when its part is made.
 * The cluster worker makes each part only once the primary has taken the one before, so a sample's objects are not
 * all alive at once (at 10,000 keys they were ~25 MB, copied by the young-generation garbage collection in pauses
 * of 20–40 ms while the pieces were being sent).
 */
export class SampleReader {
  private readonly runtimes = allRuntimes();
  private readonly now: number;
  private readonly wall: number;
  private cursor = 0;
  /** Pools' and collapsers' objects, made once the commands are done. */
  private tail: HystrixDashboardObject[] | null = null;
  private taken = 0;

  constructor() {
    const clock = getClock();
    this.now = clock.now();
    this.wall = clock.wallTime();
  }

  /** The next part, of at most `max` objects (the last part says so; an empty sample is one empty last part). */
  next(max: number, done: Done<SamplePart>, options?: SliceOptions): void {
    const objects: HystrixDashboardObject[] = [];
    sliceSteps(
      () => objects.length < max && this.cursor < this.runtimes.length,
      () => objects.push(commandObject(this.runtimes[this.cursor++]!, this.now, this.wall)),
      (error) => {
        if (error !== undefined) return done(error);
        if (this.cursor < this.runtimes.length) return done(undefined, { objects, last: false });
        try {
          this.tail ??= [
            ...allPools().map((pool) => toHystrixThreadPool(pool.snapshot(this.now), this.wall)),
            ...collapserSnapshots().map((c) => toHystrixCollapser(c, this.wall)),
          ];
        } catch (e) {
          return done(e);
        }
        while (objects.length < max && this.taken < this.tail.length) objects.push(this.tail[this.taken++]!);
        done(undefined, { objects, last: this.taken >= this.tail.length });
      },
      options,
    );
  }
}

/**
 * @internal the same sample as SSE frames (`data: {...}\n\n` each, in sample order), in slices, joined into pieces
 * of whole frames as they are made (see {@link PieceJoiner}); an unchanged key's frame is its cached text around the
 * new `currentTime`, not serialised again. Empty when there is nothing to send.
 */
export function buildSampleFrames(done: Done<string[]>, options?: SliceOptions): void {
  const clock = getClock();
  const now = clock.now();
  const wall = clock.wallTime();
  const joiner = new PieceJoiner();
  sliceEach(
    allRuntimes(),
    (rt) => joiner.push(commandFrame(rt, now, wall)),
    (error) => {
      if (error !== undefined) return done(error);
      try {
        for (const pool of allPools()) joiner.push(`data: ${JSON.stringify(toHystrixThreadPool(pool.snapshot(now), wall))}\n\n`);
        for (const c of collapserSnapshots()) joiner.push(`data: ${JSON.stringify(toHystrixCollapser(c, wall))}\n\n`);
      } catch (e) {
        return done(e);
      }
      done(undefined, joiner.pieces());
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
