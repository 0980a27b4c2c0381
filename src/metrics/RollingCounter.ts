/**
 * A ring of time buckets, each holding up to `width` counters plus a per-bucket maximum (for rolling max
 * concurrency). Time is passed in; nothing here reads a clock. Bucket `i` covers `[start, start + bucketMs)`; a read
 * sums the buckets of the last `window` ms including the one filling now.
 *
 * Storage is sparse by counter: a counter gets its column (32 bits per bucket) the first time it is added to, so a
 * command key that only ever succeeds holds 1 of its 23 counters (SUCCESS), not all of them — most of a key's
 * bytes, with many keys. A bucket (a fraction of a window) never sees 4 billion events. What leaves the ring is
 * added to per-counter totals, so a counter's total since creation costs nothing per update.
 */
export class RollingCounter {
  readonly bucketMs: number;
  readonly buckets: number;
  /** Bit `i` set: counter `i` has a column. */
  private mask = 0;
  /** Columns allocated (the population count of `mask`). */
  private columns = 0;
  /** The column of counter `i`, -1 while it has none (no bit counting per update); shared by every ring of this mask. */
  private colOf: Int8Array = columnsOf(0);
  /** `buckets` rows of `columns` counts, then the `buckets` maxima. */
  private data: Uint32Array;
  /** Absolute bucket number (floor(now / bucketMs)) of the newest bucket. */
  private head = -Infinity;
  /** The ring slot of `head` (most calls land in the newest bucket: no modulo for them). */
  private headSlot = 0;
  /** Where `head`'s row starts in `data`: an update in the newest bucket is one write. */
  private headRow = 0;
  /** The time span of `head`'s bucket: a time inside it needs no division (empty until the first rotation). */
  private headFrom = 0;
  private headTo = 0;
  /**
   * Per column, the counts that left the ring (a bucket reused, the ring reset or a counter zeroed): with what the ring
   * holds, the counter's total since it was created ({@link RollingCounter.total}), so that total costs nothing per
   * update.
   */
  private gone: number[] = NO_COLUMNS;

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

  /**
   * Adds one to counter `index` at time `now`. (One event per call, and no default parameter for a count: a default
   * costs bytecode, and what this and its callers cost in bytecode is what V8 weighs when it inlines them into the
   * call paths; {@link RollingCounter.addMany} adds more at once.)
   */
  add(index: number, now: number): void {
    const col = this.colOf[index]!;
    if (col >= 0 && now >= this.headFrom && now < this.headTo) this.data[this.headRow + col]!++;
    else this.addElsewhere(index, now, 1);
  }

  /** Adds `n` to counter `index` at time `now`. */
  addMany(index: number, now: number, n: number): void {
    if (n === 1) this.add(index, now);
    else this.addElsewhere(index, now, n);
  }

  /** {@link RollingCounter.add} outside the newest bucket, or to a counter without a column yet, or of several (rare: out of line, so that `add` stays small enough to be inlined into the call paths). */
  private addElsewhere(index: number, now: number, n: number): void {
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
    let col = this.colOf[index]!;
    if (col < 0) col = this.addColumn(index);
    this.data[at * this.columns + col]! += n;
  }

  /** Raises the current bucket's maximum to `value` if it is higher. */
  max(value: number, now: number): void {
    // the newest bucket without a call (as `add`): most runs start in it
    const at = (now >= this.headFrom && now < this.headTo ? this.headSlot : this.rotateTo(now)) + this.buckets * this.columns;
    if (value > this.data[at]!) this.data[at] = value;
  }

  /** Sum of counter `index` over the window ending at `now`. */
  sum(index: number, now: number): number {
    this.rotate(now);
    return this.ringSum(this.colOf[index]!);
  }

  /** Sums of every counter over the window ending at `now`, into `out` (length `width`). */
  sums(now: number, out: Float64Array = new Float64Array(this.width)): Float64Array {
    this.rotate(now);
    for (let index = 0; index < this.width; index++) out[index] = this.ringSum(this.colOf[index]!);
    return out;
  }

  /**
   * Everything ever added to counter `index` (what left the ring with it too). Moves nothing. Not meaningful for a
   * counter rewritten by {@link RollingCounter.setToSum}.
   */
  total(index: number): number {
    const col = this.colOf[index]!;
    return col < 0 ? 0 : this.gone[col]! + this.ringSum(col);
  }

  /** {@link RollingCounter.total} of the counters whose bits are set in `sources`, added up. Moves nothing. */
  totalOf(sources: number): number {
    const stride = this.columns;
    let total = 0;
    for (let i = 0; i < this.width; i++) {
      const col = this.colOf[i]!;
      if ((sources & (1 << i)) === 0 || col < 0) continue;
      total += this.gone[col]!;
      for (let b = 0; b < this.buckets; b++) total += this.data[b * stride + col]!;
    }
    return total;
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
    const col = this.colOf[index]!;
    if (col < 0) return;
    this.gone[col]! += this.ringSum(col);
    for (let b = 0; b < this.buckets; b++) this.data[b * this.columns + col] = 0;
  }

  /**
   * Sets counter `index`, in every bucket, to the sum of the counters whose bits are set in `sources` in that bucket
   * (a baseline: what those counters held at this moment).
   */
  setToSum(index: number, sources: number): void {
    let col = this.colOf[index]!;
    if (col < 0) col = this.addColumn(index);
    const stride = this.columns;
    for (let b = 0; b < this.buckets; b++) {
      let total = 0;
      for (let i = 0; i < this.width; i++) {
        const c = this.colOf[i]!;
        if ((sources & (1 << i)) !== 0 && c >= 0) total += this.data[b * stride + c]!;
      }
      this.data[b * stride + col] = total;
    }
  }

  /** Forgets the window (the totals keep what it held). */
  reset(): void {
    for (let b = 0; b < this.buckets; b++) this.clearSlot(b);
  }

  /** Sum of column `col` (-1: none) over every bucket of the ring. */
  private ringSum(col: number): number {
    if (col < 0) return 0;
    const stride = this.columns;
    let total = 0;
    for (let b = 0; b < this.buckets; b++) total += this.data[b * stride + col]!;
    return total;
  }

  private maxAt(slot: number): number {
    return this.buckets * this.columns + slot;
  }

  /** Gives counter `index` a column (zero in every bucket), keeping the others' counts and the maxima; returns it. */
  private addColumn(index: number): number {
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
    const gone = new Array<number>(columns);
    for (let c = 0; c < columns; c++) gone[c] = c < col ? this.gone[c]! : c === col ? 0 : this.gone[c - 1]!;
    this.gone = gone;
    this.mask = mask;
    this.columns = columns;
    this.colOf = columnsOf(mask);
    this.headRow = this.headSlot * columns;
    return col;
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
    const slot = (this.headSlot = mod(abs, this.buckets));
    this.headRow = slot * this.columns;
    return slot;
  }

  /** Empties a bucket, its counts going to the totals. */
  private clearSlot(slot: number): void {
    const base = slot * this.columns;
    const data = this.data;
    for (let c = 0; c < this.columns; c++) {
      this.gone[c]! += data[base + c]!;
      data[base + c] = 0;
    }
    data[this.maxAt(slot)] = 0;
  }
}

/** `gone` of a ring without columns (shared). */
const NO_COLUMNS: number[] = [];

/** Column tables by mask: a process sees few sets of counters in use, so rings share them (no bytes per key). */
const COLUMN_TABLES = new Map<number, Int8Array>();

/** The column of each counter for the counters in `mask` (-1 for the others), packed in counter order. */
function columnsOf(mask: number): Int8Array {
  let table = COLUMN_TABLES.get(mask);
  if (table === undefined) {
    table = new Int8Array(32).fill(-1);
    for (let i = 0; i < 31; i++) if ((mask & (1 << i)) !== 0) table[i] = popcount(mask & ((1 << i) - 1));
    // bounded: past that many sets (never seen in practice) a table is built per ring
    if (COLUMN_TABLES.size < 4096) COLUMN_TABLES.set(mask, table);
  }
  return table;
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
