/**
 * A ring of time buckets, each holding up to `width` counters plus a per-bucket maximum (for rolling max
 * concurrency). Time is passed in; nothing here reads a clock. Bucket `i` covers `[start, start + bucketMs)`; a read
 * sums the buckets of the last `window` ms including the one filling now.
 *
 * Storage is sparse by counter: a counter gets its column (32 bits per bucket) the first time it is added to, so a
 * command key that only ever succeeds holds 2 of its 22 counters (SUCCESS and the health total), not all of them —
 * most of a key's bytes, with many keys. A bucket (a fraction of a window) never sees 4 billion events.
 */
export class RollingCounter {
  readonly bucketMs: number;
  readonly buckets: number;
  /** Bit `i` set: counter `i` has a column. */
  private mask = 0;
  /** Columns allocated (the population count of `mask`). */
  private columns = 0;
  /** `buckets` rows of `columns` counts, then the `buckets` maxima. */
  private data: Uint32Array;
  /** Absolute bucket number (floor(now / bucketMs)) of the newest bucket. */
  private head = -Infinity;
  /** The ring slot of `head` (most calls land in the newest bucket: no modulo for them). */
  private headSlot = 0;
  /** The time span of `head`'s bucket: a time inside it needs no division (empty until the first rotation). */
  private headFrom = 0;
  private headTo = 0;

  constructor(
    readonly width: number,
    windowMs: number,
    buckets: number,
  ) {
    if (width > 31) throw new RangeError(`RollingCounter: at most 31 counters, got ${width}`);
    this.bucketMs = windowMs / buckets;
    this.buckets = buckets;
    this.data = new Uint32Array(buckets);
  }

  /** Adds `n` to counter `index` at time `now`. */
  add(index: number, now: number, n = 1): void {
    this.bump(this.rotate(now), index, n);
  }

  /**
   * The bucket holding `now`, after moving the ring forward: lets a caller add to several counters of one moment
   * with one rotation (through {@link RollingCounter.bump}).
   */
  offsetAt(now: number): number {
    return this.rotate(now);
  }

  /** Adds `n` to counter `index` in the bucket `at` (from {@link RollingCounter.offsetAt}). */
  bump(at: number, index: number, n: number): void {
    const bit = 1 << index;
    if ((this.mask & bit) === 0) this.addColumn(index);
    this.data[at * this.columns + popcount(this.mask & (bit - 1))]! += n;
  }

  /** Raises the current bucket's maximum to `value` if it is higher. */
  max(value: number, now: number): void {
    const at = this.maxAt(this.rotate(now));
    if (value > this.data[at]!) this.data[at] = value;
  }

  /** Sum of counter `index` over the window ending at `now`. */
  sum(index: number, now: number): number {
    this.rotate(now);
    const bit = 1 << index;
    if ((this.mask & bit) === 0) return 0;
    const col = popcount(this.mask & (bit - 1));
    const stride = this.columns;
    let total = 0;
    for (let b = 0; b < this.buckets; b++) total += this.data[b * stride + col]!;
    return total;
  }

  /** Sums of every counter over the window ending at `now`, into `out` (length `width`). */
  sums(now: number, out: Float64Array = new Float64Array(this.width)): Float64Array {
    this.rotate(now);
    out.fill(0);
    const stride = this.columns;
    let col = 0;
    for (let index = 0; index < this.width; index++) {
      if ((this.mask & (1 << index)) === 0) continue;
      let total = 0;
      for (let b = 0; b < this.buckets; b++) total += this.data[b * stride + col]!;
      out[index] = total;
      col++;
    }
    return out;
  }

  /** The highest per-bucket maximum over the window ending at `now`. */
  windowMax(now: number): number {
    this.rotate(now);
    let m = 0;
    for (let b = 0; b < this.buckets; b++) {
      const v = this.data[this.maxAt(b)]!;
      if (v > m) m = v;
    }
    return m;
  }

  /** Zeroes counter `index` in every bucket (the others are kept). */
  resetCounter(index: number): void {
    const bit = 1 << index;
    if ((this.mask & bit) === 0) return;
    const col = popcount(this.mask & (bit - 1));
    for (let b = 0; b < this.buckets; b++) this.data[b * this.columns + col] = 0;
  }

  /** Forgets everything. */
  reset(): void {
    this.data.fill(0);
  }

  private maxAt(slot: number): number {
    return this.buckets * this.columns + slot;
  }

  /** Gives counter `index` a column (zero in every bucket), keeping the others' counts and the maxima. */
  private addColumn(index: number): void {
    const old = this.data;
    const oldColumns = this.columns;
    const mask = this.mask | (1 << index);
    const col = popcount(mask & ((1 << index) - 1));
    const columns = oldColumns + 1;
    const data = new Uint32Array(this.buckets * columns + this.buckets);
    for (let b = 0; b < this.buckets; b++) {
      for (let c = 0; c < oldColumns; c++) data[b * columns + (c < col ? c : c + 1)] = old[b * oldColumns + c]!;
      data[this.buckets * columns + b] = old[this.buckets * oldColumns + b]!;
    }
    this.data = data;
    this.mask = mask;
    this.columns = columns;
  }

  /** Moves the ring forward to `now`, zeroing the buckets that were skipped; returns the slot of `now`. */
  private rotate(now: number): number {
    return now >= this.headFrom && now < this.headTo ? this.headSlot : this.rotateTo(now);
  }

  private rotateTo(now: number): number {
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
    this.headFrom = abs * this.bucketMs;
    this.headTo = (abs + 1) * this.bucketMs;
    return (this.headSlot = mod(abs, this.buckets));
  }

  private clearSlot(slot: number): void {
    const base = slot * this.columns;
    for (let c = 0; c < this.columns; c++) this.data[base + c] = 0;
    this.data[this.maxAt(slot)] = 0;
  }
}

/** Set bits of a 32-bit integer. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
