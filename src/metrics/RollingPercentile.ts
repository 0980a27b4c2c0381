/** The percentiles Hystrix reports, as the stream's keys. */
export const PERCENTILE_KEYS = ['0', '25', '50', '75', '90', '95', '99', '99.5', '100'] as const;

/** A latency summary: integer-ms mean and percentiles (Hystrix reports whole milliseconds). */
export interface LatencySnapshot {
  /** Mean latency in ms. */
  readonly mean: number;
  /** Latency in ms at each of {@link PERCENTILE_KEYS}: `'0'`, `'25'`, `'50'`, … `'99.5'`, `'100'`. */
  readonly percentiles: Readonly<Record<(typeof PERCENTILE_KEYS)[number], number>>;
}

/** Highest latency tracked (1 hour); longer ones are recorded as 1 hour. */
const HIGHEST_MS = 3_600_000;

/*
 * The bins are those of an HDR histogram with two significant digits (≤ 1 % relative error), lowest value 1 and
 * highest 1 hour — what hdr-histogram-js builds for those settings — so every percentile and mean is exactly what
 * recording the values into such a histogram gives: whole milliseconds below 256 ms, then 128 bins per doubling.
 * What changes is the storage: a dense HDR histogram holds 2,048 counters (8 KB at 32 bits) whatever was recorded,
 * and the window kept one of those per latency kind per key. Here each time bucket holds only the bins that
 * received a value, so a key costs bytes in proportion to the distinct latencies it saw.
 */
const SUB_BUCKET_MAGNITUDE = 7; // log2 of the half sub-bucket count (128) for two significant digits
/** Bins up to HIGHEST_MS. */
const BIN_COUNT = binOf(HIGHEST_MS) + 1;
/** A bin and its count packed in one double: bin × 2^32 + count, so a sorted array of them is sorted by bin. */
const TWO32 = 4_294_967_296;

/** The HDR bin of a whole, clamped latency. */
function binOf(v: number): number {
  const bucket = 24 - Math.clz32(v | 255); // 0 below 256, then one per doubling
  return bucket === 0 ? v : (bucket << SUB_BUCKET_MAGNITUDE) + (v >>> bucket);
}

/** The lowest latency of a bin, and (through `rangeOf`) the span of latencies it stands for. */
function lowestOf(bin: number): number {
  const bucket = (bin >> SUB_BUCKET_MAGNITUDE) - 1;
  return bucket <= 0 ? bin : ((bin & 127) + 128) << bucket;
}

function rangeOf(lowest: number): number {
  return 1 << (24 - Math.clz32(lowest | 255));
}

/** "No bucket": a small integer below any bucket number a clock gives, so fields stay small integers (unboxed). */
const NO_BUCKET = -0x3fffffff;

/** No entries yet (shared until the first value). */
const NONE: number[] = [];

/** Shared by every histogram: the window's counts per bin while one snapshot is computed (zeroed after). */
const merged = new Float64Array(BIN_COUNT);

/**
 * Latency percentiles over a rolling window of time buckets. All buckets share ONE exactly sized array of packed
 * (bin, count) pairs, bucket after bucket, each bucket's run sorted by bin and holding only the bins that received
 * a value — a key costs 8 bytes per distinct latency per bucket, plus one array. Recording is a binary search and
 * an increment (a copy of the array only for a bin its bucket had not seen). A snapshot merges the buckets in the
 * window into one shared scratch array and reads every percentile in one pass; it is cached until a value is
 * recorded or a bucket leaves the window, and buckets that left the window are dropped then.
 */
export class RollingPercentile {
  private readonly bucketMs: number;
  /**
   * Per slot `s`: `meta[s]` the absolute bucket number it holds (NO_BUCKET: none), `meta[buckets + s]` its number
   * of entries (one small array for both).
   */
  private readonly meta: number[];
  /** Every slot's entries, slot 0 first. */
  private entries: number[] = NONE;
  /** Absolute bucket number (floor(now / bucketMs)) and slot of the latest record. */
  private head = NO_BUCKET;
  private headSlot = 0;
  private cached: LatencySnapshot = EMPTY;
  /** The window start the cached snapshot was read for, and whether a value was recorded since. */
  private cachedOldest = NO_BUCKET;
  private dirty = false;
  /**
   * The latest record's bin: the span of raw latencies that land in it (what rounds and clamps to one of its whole
   * ms; empty when the entries moved since), the time span of its bucket and where its entry is. A run of records in
   * the same bin and bucket (most of them: latencies repeat to the millisecond) is one increment of `pending`, with
   * no rounding, no division and no search, in a method small enough to be inlined; `pending` joins the entry
   * before anything reads or moves the entries.
   */
  private lastLow = Infinity;
  private lastHigh = -Infinity;
  private lastFrom = 0;
  private lastTo = 0;
  private lastAt = 0;
  private pending = 0;

  constructor(windowMs: number, private readonly buckets: number) {
    this.bucketMs = windowMs / buckets;
    this.meta = new Array<number>(2 * buckets).fill(0).fill(NO_BUCKET, 0, buckets);
  }

  /** Records one latency (ms) at time `now`. */
  record(latencyMs: number, now: number): void {
    if (latencyMs >= this.lastLow && latencyMs < this.lastHigh && now >= this.lastFrom && now < this.lastTo) this.pending++;
    else this.recordNew(latencyMs, now);
  }

  /** Adds the shortcut's pending count to its entry. */
  private flush(): void {
    if (this.pending === 0) return;
    this.entries[this.lastAt]! += this.pending;
    this.pending = 0;
    this.dirty = true;
  }

  /** {@link RollingPercentile.record} in another bin or bucket than the latest record. */
  private recordNew(latencyMs: number, now: number): void {
    this.flush();
    this.dirty = true;
    const v = latencyMs < 0 ? 0 : latencyMs > HIGHEST_MS ? HIGHEST_MS : Math.round(latencyMs);
    const abs = Math.floor(now / this.bucketMs);
    const bin = binOf(v);
    const key = bin * TWO32;
    let slot = this.headSlot;
    if (abs !== this.head) {
      slot = ((abs % this.buckets) + this.buckets) % this.buckets;
      // the slot holds an expired bucket (or one from the "future" after the clock went back): reuse it
      if (this.meta[slot] !== abs) this.clear(slot, abs);
      this.head = abs;
      this.headSlot = slot;
    }
    const meta = this.meta;
    const b = this.buckets;
    let start = 0;
    for (let s = 0; s < slot; s++) start += meta[b + s]!;
    const entries = this.entries;
    const end = start + meta[b + slot]!;
    let lo = start;
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    // the raw latencies that round (Math.round: [w - 0.5, w + 0.5) for a whole w) and clamp into this bin
    const lowest = lowestOf(bin);
    const highest = lowest + rangeOf(lowest) - 1;
    this.lastLow = lowest === 0 ? -Infinity : lowest - 0.5;
    this.lastHigh = highest >= HIGHEST_MS ? Infinity : highest + 0.5;
    this.lastFrom = abs * this.bucketMs;
    this.lastTo = (abs + 1) * this.bucketMs;
    this.lastAt = lo;
    if (lo < end && entries[lo]! < key + TWO32) {
      entries[lo]! += 1;
      return;
    }
    const n = entries.length;
    const out = new Array<number>(n + 1);
    for (let k = 0; k < lo; k++) out[k] = entries[k]!;
    out[lo] = key + 1;
    for (let k = lo; k < n; k++) out[k + 1] = entries[k]!;
    this.entries = out;
    meta[b + slot]!++;
  }

  /** Mean and percentiles over the window ending at `now`; zeros when nothing was recorded. */
  snapshot(now: number): LatencySnapshot {
    const oldest = Math.floor(now / this.bucketMs) - this.buckets + 1;
    this.flush();
    if (!this.dirty && oldest === this.cachedOldest) return this.cached;
    this.dirty = false;
    this.cachedOldest = oldest;
    startMerge();
    this.mergeWindow(now);
    const next = endMerge();
    if (!sameSnapshot(next, this.cached)) this.cached = next;
    return this.cached;
  }

  /**
   * @internal adds the counts of the window ending at `now` to the shared merge (see {@link mergedSnapshot}); buckets
   * that left the window for good are dropped now rather than when their slot is reused.
   */
  mergeWindow(now: number): void {
    this.flush();
    const newest = Math.floor(now / this.bucketMs);
    const oldest = newest - this.buckets + 1;
    const meta = this.meta;
    const b = this.buckets;
    for (let s = 0; s < b; s++) if (meta[s]! < oldest && meta[s] !== NO_BUCKET) this.clear(s, NO_BUCKET);
    const entries = this.entries;
    let total = 0;
    let low = mergeLow;
    let high = mergeHigh;
    let start = 0;
    for (let s = 0; s < b; s++) {
      const end = start + meta[b + s]!;
      if (meta[s]! <= newest) {
        // (a bucket from the "future", after a clock step back, is left out)
        for (let k = start; k < end; k++) {
          const packed = entries[k]!;
          const bin = Math.floor(packed / TWO32);
          const count = packed - bin * TWO32;
          merged[bin]! += count;
          total += count;
          if (bin < low) low = bin;
          if (bin > high) high = bin;
        }
      }
      start = end;
    }
    mergeTotal += total;
    mergeLow = low;
    mergeHigh = high;
  }

  /** Approximate bytes held: the fixed parts, and 8 bytes per entry. */
  get footprintBytes(): number {
    return 160 + 16 * this.buckets + 8 * this.entries.length;
  }

  /** Empties `slot` (its entries leave the shared array) and gives it to bucket `id`. */
  private clear(slot: number, id: number): void {
    this.flush();
    this.lastLow = Infinity; // the entries move: no shortcut until the next record finds its entry
    this.lastHigh = -Infinity;
    const meta = this.meta;
    const b = this.buckets;
    meta[slot] = id;
    const len = meta[b + slot]!;
    if (len === 0) return;
    let start = 0;
    for (let s = 0; s < slot; s++) start += meta[b + s]!;
    const old = this.entries;
    const n = old.length - len;
    const out = n === 0 ? NONE : new Array<number>(n);
    for (let k = 0; k < start; k++) out[k] = old[k]!;
    for (let k = start; k < n; k++) out[k] = old[k + len]!;
    this.entries = out;
    meta[b + slot] = 0;
  }
}

/** The merge in progress (see {@link RollingPercentile.mergeWindow}): values added, lowest and highest bin. */
let mergeTotal = 0;
let mergeLow = BIN_COUNT;
let mergeHigh = -1;

function startMerge(): void {
  mergeTotal = 0;
  mergeLow = BIN_COUNT;
  mergeHigh = -1;
}

function endMerge(): LatencySnapshot {
  return mergeTotal === 0 ? EMPTY : readMerged(mergeLow, mergeHigh, mergeTotal);
}

/**
 * @internal mean and percentiles over the windows ending at `now` of two histograms with the same window and
 * buckets, together: exactly what one histogram holding the values of both gives (their bins are added bucket by
 * bucket). Not cached: `previous` is returned when the numbers did not change (readers compare identities).
 */
export function mergedSnapshot(a: RollingPercentile, b: RollingPercentile, now: number, previous: LatencySnapshot): LatencySnapshot {
  startMerge();
  a.mergeWindow(now);
  b.mergeWindow(now);
  const next = endMerge();
  return sameSnapshot(next, previous) ? previous : next;
}

const TARGETS = PERCENTILE_KEYS.map(Number);

/** The unit in the last place of a positive double (hdr-histogram-js rounds percentile counts with it). */
function ulp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const exponent = Math.floor(Math.log2(x));
  return 2 ** (exponent - 52);
}

/**
 * Mean and every Hystrix percentile in ONE pass over the merged bins `low`…`high` (zeroing them for the next
 * read), with exactly hdr-histogram-js's rules (`getValueAtPercentile`: the highest equivalent value of the bin
 * where the count is reached, the lowest for the 0th; `mean`: each bin at its median equivalent value).
 */
function readMerged(low: number, high: number, total: number): LatencySnapshot {
  const wanted = TARGETS.map((p) => {
    const fp = (p / 100) * total;
    return Math.max(Math.ceil(fp - ulp(fp)), 1);
  });
  const values = new Array<number>(TARGETS.length);
  let next = 0;
  let seen = 0;
  let sum = 0;
  for (let bin = low; bin <= high; bin++) {
    const count = merged[bin]!;
    if (count === 0) continue;
    merged[bin] = 0;
    seen += count;
    const lowest = lowestOf(bin);
    const range = rangeOf(lowest);
    sum += (lowest + (range >> 1)) * count;
    while (next < wanted.length && seen >= wanted[next]!) {
      values[next] = TARGETS[next] === 0 ? lowest : lowest + range - 1;
      next++;
    }
  }
  const percentiles = {} as Record<(typeof PERCENTILE_KEYS)[number], number>;
  PERCENTILE_KEYS.forEach((key, n) => (percentiles[key] = Math.round(values[n] ?? 0)));
  return { mean: Math.round(sum / total), percentiles };
}

function sameSnapshot(a: LatencySnapshot, b: LatencySnapshot): boolean {
  if (a.mean !== b.mean) return false;
  for (const key of PERCENTILE_KEYS) if (a.percentiles[key] !== b.percentiles[key]) return false;
  return true;
}

const EMPTY: LatencySnapshot = Object.freeze({
  mean: 0,
  percentiles: Object.freeze({ '0': 0, '25': 0, '50': 0, '75': 0, '90': 0, '95': 0, '99': 0, '99.5': 0, '100': 0 }),
});
