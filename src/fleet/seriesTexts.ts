/**
 * @internal the texts of one metric's series as the cluster primary folds them (see src/fleet/mergeMetrics.ts), and
 * each series' number by its text, without a string object per series: the texts of consecutive new series are
 * joined into one string (a chunk) and a series is found by a hash of its text in typed arrays. At 10,000 keys per
 * worker a scrape holds about 500,000 series until every worker has answered; a string and a Map entry each were
 * objects that every young-generation collection in between copied (10–40 ms pauses), and a Map that grew past a
 * few hundred thousand entries rehashed them all in one step.
 */
export class SeriesTexts {
  /** Series so far. */
  count = 0;
  /** Sealed chunks: the texts of consecutive series, joined. */
  private readonly chunks: string[] = [];
  /** Per series: its chunk, and where its text starts and ends in it. */
  private chunkOf = new Int32Array(INITIAL);
  private startOf = new Int32Array(INITIAL);
  private endOf = new Int32Array(INITIAL);
  /** Texts of the series from `pendingFrom` on, not joined into a chunk yet. */
  private pending: string[] = [];
  private pendingFrom = 0;
  private pendingChars = 0;
  /** Open addressing by hash: each slot's hash and entry (`series * 2 + kind + 1`; 0: empty). */
  private slotHash = new Int32Array(2 * INITIAL);
  private slotEntry = new Int32Array(2 * INITIAL);
  private entries = 0;
  /** Texts that name a series whose own text differs (its labels were sent in another order), by kind: rare. */
  private aliases: [Map<string, number>, Map<string, number>] | null = null;

  /** A new series with this text; its number. */
  add(text: string): number {
    const i = this.count++;
    if (i === this.chunkOf.length) {
      this.chunkOf = grow(this.chunkOf);
      this.startOf = grow(this.startOf);
      this.endOf = grow(this.endOf);
    }
    this.chunkOf[i] = this.chunks.length;
    this.startOf[i] = this.pendingChars;
    this.pendingChars += text.length;
    this.endOf[i] = this.pendingChars;
    this.pending.push(text);
    if (this.pending.length >= CHUNK_SERIES) this.seal();
    return i;
  }

  /** Series `i`'s text. */
  text(i: number): string {
    if (i >= this.pendingFrom) return this.pending[i - this.pendingFrom]!;
    return this.chunks[this.chunkOf[i]!]!.slice(this.startOf[i]!, this.endOf[i]!);
  }

  /** The series that `text` of `kind` was noted for ({@link SeriesTexts.note}), or -1. */
  find(text: string, kind: 0 | 1): number {
    const h = hashOf(text, kind);
    const mask = this.slotHash.length - 1;
    for (let at = spread(h) & mask; ; at = (at + 1) & mask) {
      const entry = this.slotEntry[at]!;
      if (entry === 0) break;
      if (this.slotHash[at] !== h || ((entry - 1) & 1) !== kind) continue;
      const i = (entry - 1) >>> 1;
      if (this.is(i, text)) return i;
    }
    return this.aliases === null ? -1 : (this.aliases[kind].get(text) ?? -1);
  }

  /** `text` of `kind` names series `i` from now on. */
  note(text: string, kind: 0 | 1, i: number): void {
    if (!this.is(i, text)) {
      (this.aliases ??= [new Map(), new Map()])[kind].set(text, i);
      return;
    }
    if (2 * (this.entries + 1) > this.slotHash.length) this.rehash();
    this.insert(hashOf(text, kind), i * 2 + kind + 1);
    this.entries++;
  }

  /** Joins the pending texts into a chunk (the fold calls it after each piece of a metric). */
  seal(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(this.pending.length === 1 ? this.pending[0]! : this.pending.join(''));
    this.pending = [];
    this.pendingFrom = this.count;
    this.pendingChars = 0;
  }

  /** Whether series `i`'s text is `text` (without making its string). */
  is(i: number, text: string): boolean {
    if (i >= this.pendingFrom) return this.pending[i - this.pendingFrom] === text;
    const start = this.startOf[i]!;
    return this.endOf[i]! - start === text.length && this.chunks[this.chunkOf[i]!]!.startsWith(text, start);
  }

  private insert(h: number, entry: number): void {
    const mask = this.slotHash.length - 1;
    let at = spread(h) & mask;
    while (this.slotEntry[at] !== 0) at = (at + 1) & mask;
    this.slotHash[at] = h;
    this.slotEntry[at] = entry;
  }

  private rehash(): void {
    const hashes = this.slotHash;
    const entries = this.slotEntry;
    this.slotHash = new Int32Array(hashes.length * 2);
    this.slotEntry = new Int32Array(entries.length * 2);
    for (let at = 0; at < entries.length; at++) if (entries[at] !== 0) this.insert(hashes[at]!, entries[at]!);
  }
}

const INITIAL = 64;
/** Series per chunk at most (a chunk of ~1,000 lines of ~80 characters is one ~80 KB string). */
const CHUNK_SERIES = 1024;

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** FNV-1a over the UTF-16 code units, seeded by kind. */
function hashOf(text: string, kind: 0 | 1): number {
  let h = kind === 0 ? 0x811c9dc5 | 0 : 0x2f3a1c4b;
  for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return h;
}

/** Mixes the high bits into the low ones (the table uses the low bits). */
function spread(h: number): number {
  return h ^ (h >>> 16);
}
