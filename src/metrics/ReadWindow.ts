import type { MetricsConfig } from '../config/options.js';

/**
 * The window over which readers measure the rolling counts of a key without a rolling window
 * (`metrics.rollingWindow: false`): Hystrix's default 10 s.
 */
export const READ_WINDOW_MS = 10_000;
/** The resolution of that window: at most one capture per 1 s (the default bucket width). */
export const READ_BUCKET_MS = 1_000;
/**
 * Captures kept: spaced at least {@link READ_BUCKET_MS} apart, the oldest of 12 is at least 11 s older than the
 * newest, so a capture at or before `now - READ_WINDOW_MS` is always kept once the ring is full.
 */
const SLOTS = READ_WINDOW_MS / READ_BUCKET_MS + 2;

/** The rolling window (ms) of `config`: its own, or {@link READ_WINDOW_MS} when it has none. */
export function rollingWindowOf(config: MetricsConfig): number {
  return config.rollingWindow === false ? READ_WINDOW_MS : config.rollingWindow;
}

/** The bucket width (ms) of `config`'s rolling window, or {@link READ_BUCKET_MS} when it has none. */
export function rollingBucketMsOf(config: MetricsConfig): number {
  return config.rollingWindow === false ? READ_BUCKET_MS : config.rollingWindow / config.rollingBuckets;
}

/** The buckets of `config`'s rolling window (what a time-bucketed counter of the same span uses). */
export function rollingBucketsOf(config: MetricsConfig): number {
  return config.rollingWindow === false ? READ_WINDOW_MS / READ_BUCKET_MS : config.rollingBuckets;
}

/**
 * The read side of a key without a rolling window: rolling counts measured between reads, like a Prometheus
 * `rate()`. The first read, and then a read when no capture was taken in the last {@link READ_BUCKET_MS}, captures
 * the cumulative counts (and the highest concurrency since the previous capture); the rolling count at `now` is the
 * cumulative count now minus the newest capture at or before `now - READ_WINDOW_MS` (the oldest capture while every
 * capture is younger). While something reads the key at least every R ms, captures are 1 s to 1 s + R apart, so the
 * count covers the last 10 s to 11 s + R (the dashboard stream reads every 500 ms: 10–11.5 s, where Hystrix's
 * bucketed window covers 9–10 s). Made on the first read, so a key nobody reads costs only its cumulative counts. A
 * read is O(counters + {@link SLOTS}): nothing here grows with time or traffic.
 */
export class ReadWindow {
  /** Capture times, by slot. */
  private readonly times = new Float64Array(SLOTS);
  /** Per slot, `width` cumulative counts. */
  private readonly counts: Float64Array;
  /** Per slot, the highest concurrency between the previous capture and this one. */
  private readonly maxima = new Float64Array(SLOTS);
  /** The newest capture's slot, and how many slots hold one. */
  private newest = -1;
  private size = 0;

  /**
   * @param width - counters per capture.
   * @param from - a baseline to start with: zero counts at `from.at` (the key's creation, when the first read is
   *   within a window of it, so the first window counts everything the key did), or null (count from the first read).
   */
  constructor(
    private readonly width: number,
    from: { readonly at: number; readonly counts: Float64Array } | null,
  ) {
    this.counts = new Float64Array(SLOTS * width);
    if (from !== null) this.push(from.at, from.counts, 0);
  }

  /** Captures `counts` (cumulative) and `max` (the highest concurrency since the previous capture) at `now`. */
  capture(now: number, counts: Float64Array, max: number): void {
    this.push(now, counts, max);
  }

  /** Whether a read at `now` takes a capture (none in the last bucket width; a clock that went back takes none). */
  due(now: number): boolean {
    return this.size === 0 || now - this.times[this.newest]! >= READ_BUCKET_MS;
  }

  /**
   * The slot the window ending at `now` counts from: the newest capture at or before `now - READ_WINDOW_MS`, or the
   * oldest capture while all are younger. -1 while there is no capture.
   */
  baseline(now: number): number {
    const from = now - READ_WINDOW_MS;
    let slot = this.newest;
    let oldest = -1;
    for (let n = 0; n < this.size; n++) {
      if (this.times[slot]! <= from) return slot;
      oldest = slot;
      slot = slot === 0 ? SLOTS - 1 : slot - 1;
    }
    return oldest;
  }

  /** Counter `index` of the capture in `slot` (0 for slot -1). */
  countAt(slot: number, index: number): number {
    return slot < 0 ? 0 : this.counts[slot * this.width + index]!;
  }

  /** The highest concurrency recorded by the captures after `slot` (from the newest back to it). */
  maxAfter(slot: number): number {
    let m = 0;
    let s = this.newest;
    for (let n = 0; n < this.size && s !== slot; n++) {
      if (this.maxima[s]! > m) m = this.maxima[s]!;
      s = s === 0 ? SLOTS - 1 : s - 1;
    }
    return m;
  }

  /** Bytes this ring holds (three typed arrays). */
  get footprintBytes(): number {
    return (SLOTS * (this.width + 2)) * 8;
  }

  private push(at: number, counts: Float64Array, max: number): void {
    const slot = (this.newest = this.newest + 1 === SLOTS ? 0 : this.newest + 1);
    if (this.size < SLOTS) this.size++;
    this.times[slot] = at;
    this.maxima[slot] = max;
    const base = slot * this.width;
    for (let i = 0; i < this.width; i++) this.counts[base + i] = counts[i]!;
  }
}
