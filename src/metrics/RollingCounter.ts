/**
 * A ring of time buckets, each holding `width` counters plus a per-bucket maximum (for rolling max concurrency).
 * Time is passed in; nothing here reads a clock. Bucket `i` covers `[start, start + bucketMs)`; a read sums the
 * buckets of the last `window` ms including the one filling now.
 */
export class RollingCounter {
  readonly bucketMs: number;
  readonly buckets: number;
  private readonly counts: Float64Array;
  private readonly maxes: Float64Array;
  /** Absolute bucket number (floor(now / bucketMs)) of the newest bucket. */
  private head = -Infinity;
  /** The ring slot of `head` (most calls land in the newest bucket: no modulo for them). */
  private headSlot = 0;

  constructor(
    readonly width: number,
    windowMs: number,
    buckets: number,
  ) {
    this.bucketMs = windowMs / buckets;
    this.buckets = buckets;
    this.counts = new Float64Array(width * buckets);
    this.maxes = new Float64Array(buckets);
  }

  /** Adds `n` to counter `index` at time `now`. */
  add(index: number, now: number, n = 1): void {
    const slot = this.rotate(now);
    this.counts[slot * this.width + index]! += n;
  }

  /**
   * The offset of the first counter of the bucket holding `now`, after moving the ring forward: lets a caller add
   * to several counters of one moment with one rotation (`counts[offset + index] += n` via {@link RollingCounter.bump}).
   */
  offsetAt(now: number): number {
    return this.rotate(now) * this.width;
  }

  /** Adds `n` to the counter at `offset + index` (an offset from {@link RollingCounter.offsetAt}). */
  bump(offset: number, index: number, n: number): void {
    this.counts[offset + index]! += n;
  }

  /** Raises the current bucket's maximum to `value` if it is higher. */
  max(value: number, now: number): void {
    const slot = this.rotate(now);
    if (value > this.maxes[slot]!) this.maxes[slot] = value;
  }

  /** Sum of counter `index` over the window ending at `now`. */
  sum(index: number, now: number): number {
    this.rotate(now);
    let total = 0;
    for (let b = 0; b < this.buckets; b++) total += this.counts[b * this.width + index]!;
    return total;
  }

  /** Sums of every counter over the window ending at `now`, into `out` (length `width`). */
  sums(now: number, out: Float64Array = new Float64Array(this.width)): Float64Array {
    this.rotate(now);
    out.fill(0);
    for (let b = 0; b < this.buckets; b++) {
      const base = b * this.width;
      for (let i = 0; i < this.width; i++) out[i]! += this.counts[base + i]!;
    }
    return out;
  }

  /** The highest per-bucket maximum over the window ending at `now`. */
  windowMax(now: number): number {
    this.rotate(now);
    let m = 0;
    for (let b = 0; b < this.buckets; b++) if (this.maxes[b]! > m) m = this.maxes[b]!;
    return m;
  }

  /** Zeroes counter `index` in every bucket (the others are kept). */
  resetCounter(index: number): void {
    for (let b = 0; b < this.buckets; b++) this.counts[b * this.width + index] = 0;
  }

  /** Forgets everything. */
  reset(): void {
    this.counts.fill(0);
    this.maxes.fill(0);
  }

  /** Moves the ring forward to `now`, zeroing the buckets that were skipped; returns the slot of `now`. */
  private rotate(now: number): number {
    const abs = Math.floor(now / this.bucketMs);
    const head = this.head;
    if (abs === head) return this.headSlot;
    if (abs > head) {
      const steps = head === -Infinity ? this.buckets : Math.min(abs - head, this.buckets);
      for (let s = 1; s <= steps; s++) this.clearSlot(mod(head === -Infinity ? abs - this.buckets + s : head + s, this.buckets));
    } else if (head - abs >= this.buckets) {
      // The clock went backwards by more than a window: start over rather than write into the future.
      this.reset();
    } else {
      // A small step back (clock adjustment): count it in the bucket it belongs to.
      return mod(abs, this.buckets);
    }
    this.head = abs;
    return (this.headSlot = mod(abs, this.buckets));
  }

  private clearSlot(slot: number): void {
    const base = slot * this.width;
    for (let i = 0; i < this.width; i++) this.counts[base + i] = 0;
    this.maxes[slot] = 0;
  }
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
