import * as hdr from 'hdr-histogram-js';

/** The percentiles Hystrix reports, as the stream's keys. */
export const PERCENTILE_KEYS = ['0', '25', '50', '75', '90', '95', '99', '99.5', '100'] as const;

/** A latency summary: integer-ms mean and percentiles (Hystrix reports whole milliseconds). */
export interface LatencySnapshot {
  readonly mean: number;
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

function newHistogram(): hdr.Histogram {
  // 'packed' storage with Hystrix's 3 significant digits: about 1 KB for a typical latency spread, where a
  // 32-bit array would be ~54 KB per histogram (measured; see docs/metrics.md).
  return hdr.build({
    bitBucketSize: 'packed',
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MS,
    autoResize: false,
    useWebAssembly: false,
  });
}

let scratch: hdr.Histogram | undefined;

/**
 * Latency percentiles over a rolling window of buckets, each an HDR histogram. `record` only counts the rounded
 * value (or buffers a large one); values are folded into the current bucket's histogram when the buffer fills,
 * the bucket changes, or a snapshot is read. The histograms end up exactly as if every value had been recorded
 * one by one.
 */
export class RollingPercentile {
  private readonly bucketMs: number;
  private readonly histograms: (hdr.Histogram | null)[];
  private readonly bucketIds: Float64Array;
  /** Counts of latencies 0 … SMALL_MS - 1 (rounded ms) not yet folded into the histogram. */
  private readonly small = new Uint32Array(SMALL_MS);
  /** Latencies ≥ SMALL_MS (rounded, clamped) not yet folded into the histogram. */
  private readonly large = new Float64Array(LARGE_BUFFER);
  private largeCount = 0;
  /** Values counted in `small` since the last fold. */
  private pending = 0;
  private bufferBucket = -Infinity;

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
    const oldest = Math.floor(now / this.bucketMs) - this.buckets + 1;
    const agg = (scratch ??= newHistogram());
    agg.reset();
    for (let i = 0; i < this.buckets; i++) {
      const h = this.histograms[i];
      if (h !== null && h !== undefined && this.bucketIds[i]! >= oldest) agg.add(h);
    }
    if (agg.totalCount === 0) return EMPTY;
    const percentiles = {} as Record<(typeof PERCENTILE_KEYS)[number], number>;
    for (const key of PERCENTILE_KEYS) percentiles[key] = Math.round(agg.getValueAtPercentile(Number(key)));
    return { mean: Math.round(agg.mean), percentiles };
  }

  /** Approximate bytes held by this object's histograms and buffer. */
  get footprintBytes(): number {
    let bytes = this.small.byteLength + this.large.byteLength + this.bucketIds.byteLength;
    for (const h of this.histograms) if (h) bytes += h.estimatedFootprintInBytes;
    return bytes;
  }

  private flush(): void {
    if (this.pending === 0 && this.largeCount === 0) return;
    const abs = this.bufferBucket;
    const slot = ((abs % this.buckets) + this.buckets) % this.buckets;
    let h = this.histograms[slot] ?? null;
    if (h === null) {
      h = newHistogram();
      this.histograms[slot] = h;
    }
    if (this.bucketIds[slot] !== abs) {
      h.reset();
      this.bucketIds[slot] = abs;
    }
    if (this.pending !== 0) {
      const small = this.small;
      for (let v = 0; v < SMALL_MS; v++) {
        const count = small[v]!;
        if (count !== 0) {
          h.recordValueWithCount(v, count);
          small[v] = 0;
        }
      }
      this.pending = 0;
    }
    for (let i = 0; i < this.largeCount; i++) h.recordValue(this.large[i]!);
    this.largeCount = 0;
  }
}

const EMPTY: LatencySnapshot = Object.freeze({
  mean: 0,
  percentiles: Object.freeze({ '0': 0, '25': 0, '50': 0, '75': 0, '90': 0, '95': 0, '99': 0, '99.5': 0, '100': 0 }),
});
