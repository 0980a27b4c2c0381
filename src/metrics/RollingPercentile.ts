import * as hdr from 'hdr-histogram-js';

/** The percentiles Hystrix reports, as the stream's keys. */
export const PERCENTILE_KEYS = ['0', '25', '50', '75', '90', '95', '99', '99.5', '100'] as const;

/** A latency summary: integer-ms mean and percentiles (Hystrix reports whole milliseconds). */
export interface LatencySnapshot {
  /** Mean latency in ms. */
  readonly mean: number;
  /** Latency in ms at each of {@link PERCENTILE_KEYS}: `'0'`, `'25'`, `'50'`, … `'99.5'`, `'100'`. */
  readonly percentiles: Readonly<Record<(typeof PERCENTILE_KEYS)[number], number>>;
}

/** Highest latency a histogram tracks (1 hour); longer ones are recorded as 1 hour. */
const HIGHEST_MS = 3_600_000;
/**
 * Whole-millisecond latencies below this are counted in a small array and folded into the histogram as
 * (value, count) pairs: recording one is an array increment on the hot path, where a packed HDR histogram's
 * `recordValue` costs hundreds of nanoseconds. Larger ones are buffered and recorded one by one.
 */
const SMALL_MS = 256;
/** Larger latencies buffered before they are folded into the histogram. */
const LARGE_BUFFER = 64;
/** Folds before a small count could overflow its 32-bit slot. */
const MAX_PENDING = 0x7fffffff;

function newHistogram(bitBucketSize: 32 | 'packed'): hdr.Histogram {
  // Two significant digits (≤ 1 % relative error). Per bucket: 'packed' storage, a few hundred bytes to ~2 KB
  // for a typical latency spread; the window: a 32-bit array (9 KB) whose percentiles read in ~0.2 ms, where
  // adding six packed buckets per read cost 2.5-9 ms per key (measured; see docs/metrics-and-stream.md).
  return hdr.build({
    bitBucketSize,
    numberOfSignificantValueDigits: 2,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MS,
    autoResize: false,
    useWebAssembly: false,
  });
}

/**
 * Latency percentiles over a rolling window of buckets. Each bucket is a small packed HDR histogram; a running
 * window histogram holds their sum, so a snapshot reads one histogram, and an expired bucket is subtracted from
 * it once. `record` only counts the rounded value (or buffers a large one); values are folded into the bucket
 * and the window when the buffer fills, the bucket changes, or a snapshot is read. Snapshots are cached until
 * something changes.
 */
export class RollingPercentile {
  private readonly bucketMs: number;
  private readonly histograms: (hdr.Histogram | null)[];
  private readonly bucketIds: Float64Array;
  private window: hdr.Histogram | null = null;
  /** Counts of latencies 0 … SMALL_MS - 1 (rounded ms) not yet folded into the histograms. */
  private readonly small = new Uint32Array(SMALL_MS);
  /** Latencies ≥ SMALL_MS (rounded, clamped) not yet folded into the histograms. */
  private readonly large = new Float64Array(LARGE_BUFFER);
  private largeCount = 0;
  /** Values counted in `small` since the last fold. */
  private pending = 0;
  private bufferBucket = -Infinity;
  private cached: LatencySnapshot = EMPTY;
  private dirty = false;

  constructor(windowMs: number, private readonly buckets: number) {
    this.bucketMs = windowMs / buckets;
    this.histograms = new Array<hdr.Histogram | null>(buckets).fill(null);
    this.bucketIds = new Float64Array(buckets).fill(-Infinity);
  }

  /** Records one latency (ms) at time `now`. */
  record(latencyMs: number, now: number): void {
    const abs = Math.floor(now / this.bucketMs);
    if (abs !== this.bufferBucket) {
      this.flush();
      this.bufferBucket = abs;
    }
    const v = latencyMs < 0 ? 0 : latencyMs > HIGHEST_MS ? HIGHEST_MS : Math.round(latencyMs);
    if (v < SMALL_MS) {
      this.small[v]!++;
      if (++this.pending === MAX_PENDING) this.flush();
    } else {
      if (this.largeCount === LARGE_BUFFER) this.flush();
      this.large[this.largeCount++] = v;
    }
  }

  /** Mean and percentiles over the window ending at `now`; zeros when nothing was recorded. */
  snapshot(now: number): LatencySnapshot {
    this.flush();
    this.expire(Math.floor(now / this.bucketMs) - this.buckets + 1);
    if (!this.dirty) return this.cached;
    this.dirty = false;
    const w = this.window;
    if (w === null || w.totalCount === 0) return (this.cached = EMPTY);
    return (this.cached = readAll(w as unknown as HistogramInternals));
  }

  /** Approximate bytes held by this object's histograms and buffers. */
  get footprintBytes(): number {
    let bytes = this.small.byteLength + this.large.byteLength + this.bucketIds.byteLength;
    if (this.window !== null) bytes += this.window.estimatedFootprintInBytes;
    for (const h of this.histograms) if (h) bytes += h.estimatedFootprintInBytes;
    return bytes;
  }

  /**
   * Subtracts from the window, once, every bucket outside [oldest, oldest + buckets): those that expired, and
   * those from the "future" after the clock went back.
   */
  private expire(oldest: number): void {
    const newest = oldest + this.buckets - 1;
    for (let slot = 0; slot < this.buckets; slot++) {
      const id = this.bucketIds[slot]!;
      if (id === -Infinity || (id >= oldest && id <= newest)) continue;
      const h = this.histograms[slot]!;
      if (h.totalCount !== 0) {
        this.window!.subtract(h);
        h.reset();
        this.dirty = true;
      }
      this.bucketIds[slot] = -Infinity;
    }
  }

  private flush(): void {
    if (this.pending === 0 && this.largeCount === 0) return;
    const abs = this.bufferBucket;
    const slot = ((abs % this.buckets) + this.buckets) % this.buckets;
    if (this.bucketIds[slot] !== abs) {
      // The slot holds another bucket (expired, or from the future after a clock step back): take every such
      // bucket out of the window before reusing the slot.
      this.expire(abs - this.buckets + 1);
      this.bucketIds[slot] = abs;
    }
    const h = (this.histograms[slot] ??= newHistogram('packed'));
    const w = (this.window ??= newHistogram(32));
    if (this.pending !== 0) {
      const small = this.small;
      for (let v = 0; v < SMALL_MS; v++) {
        const count = small[v]!;
        if (count !== 0) {
          h.recordValueWithCount(v, count);
          w.recordValueWithCount(v, count);
          small[v] = 0;
        }
      }
      this.pending = 0;
    }
    for (let i = 0; i < this.largeCount; i++) {
      h.recordValue(this.large[i]!);
      w.recordValue(this.large[i]!);
    }
    this.largeCount = 0;
    this.dirty = true;
  }
}

/** The index-level methods every hdr-histogram-js JS histogram has (JsHistogram). */
interface HistogramInternals {
  readonly countsArrayLength: number;
  readonly totalCount: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  lowestEquivalentValue(value: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

const TARGETS = PERCENTILE_KEYS.map(Number);

/** The unit in the last place of a positive double (hdr-histogram-js rounds percentile counts with it). */
function ulp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const exponent = Math.floor(Math.log2(x));
  return 2 ** (exponent - 52);
}

/**
 * Mean and every Hystrix percentile in ONE pass over the counts, with exactly hdr-histogram-js's rules
 * (`getValueAtPercentile`, `mean`); calling those nine times walks the array nine times (~0.4 ms per read).
 */
function readAll(h: HistogramInternals): LatencySnapshot {
  const total = h.totalCount;
  const wanted = TARGETS.map((p) => {
    const fp = (p / 100) * total;
    return Math.max(Math.ceil(fp - ulp(fp)), 1);
  });
  const values = new Array<number>(TARGETS.length);
  let next = 0;
  let seen = 0;
  let sum = 0;
  const length = h.countsArrayLength;
  for (let i = 0; i < length; i++) {
    const count = h.getCountAtIndex(i);
    if (count === 0) continue;
    seen += count;
    const value = h.valueFromIndex(i);
    sum += h.medianEquivalentValue(value) * count;
    while (next < wanted.length && seen >= wanted[next]!) {
      values[next] = TARGETS[next] === 0 ? h.lowestEquivalentValue(value) : h.highestEquivalentValue(value);
      next++;
    }
  }
  const percentiles = {} as Record<(typeof PERCENTILE_KEYS)[number], number>;
  PERCENTILE_KEYS.forEach((key, n) => (percentiles[key] = Math.round(values[n] ?? 0)));
  return { mean: Math.round(sum / total), percentiles };
}

const EMPTY: LatencySnapshot = Object.freeze({
  mean: 0,
  percentiles: Object.freeze({ '0': 0, '25': 0, '50': 0, '75': 0, '90': 0, '95': 0, '99': 0, '99.5': 0, '100': 0 }),
});
