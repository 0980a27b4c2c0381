import type { MetricsConfig } from '../config/options.js';
import { getClock } from '../config/store.js';
import type { CircuitState } from '../circuit/breakerState.js';
import { EV, EVENT_COUNT, EVENT_TYPES, type EventType } from './eventType.js';
import { EMPTY_HEALTH, healthSnapshot, type HealthSnapshot } from './HealthCounts.js';
import { READ_WINDOW_MS, ReadWindow } from './ReadWindow.js';
import { RollingCounter } from './RollingCounter.js';
import { mergedSnapshot, RollingPercentile, type LatencySnapshot } from './RollingPercentile.js';

/** @internal what a metrics snapshot reads the circuit's state from (the key's breaker). */
export interface CircuitStateSource {
  readonly state: CircuitState;
}

/** The circuit source of metrics not attached to a breaker. */
const ALWAYS_CLOSED: CircuitStateSource = Object.freeze({ state: 'CLOSED' });

/** Counts per event type, every type present (0 when none). */
export type EventCounts = Readonly<Record<EventType, number>>;

/**
 * A plain, JSON-serialisable view of one command key's metrics at one moment.
 */
export interface CommandMetricsSnapshot {
  /** The command key. */
  readonly commandKey: string;
  /** The command's group. */
  readonly group: string;
  /** The circuit's state now. */
  readonly circuit: CircuitState;
  /**
   * Counts in the rolling window (`metrics.rollingWindow`). With `rollingWindow: false`: counted between reads over
   * the last 10 s (see `metrics.rollingWindow`).
   */
  readonly rolling: EventCounts;
  /** Counts since the key was first used. */
  readonly cumulative: EventCounts;
  /** What the breaker last decided on. */
  readonly health: HealthSnapshot;
  /** Executions running now, and the highest concurrency in the rolling window. */
  readonly concurrency: { readonly current: number; readonly rollingMax: number };
  /** Latency of `run` alone (ms). */
  readonly latencyExecute: LatencySnapshot;
  /** Latency of the whole execution including fallback (ms). */
  readonly latencyTotal: LatencySnapshot;
}

/** Bits (by `EV` index) of the events counted in the health `requestCount`, and of those counted as errors. */
const HEALTH_BITS = (1 << EV.SUCCESS) | (1 << EV.FAILURE) | (1 << EV.TIMEOUT) | (1 << EV.THREAD_POOL_REJECTED) | (1 << EV.SEMAPHORE_REJECTED);
const ERROR_BITS = HEALTH_BITS & ~(1 << EV.SUCCESS);
/**
 * The health window is read from the event counters themselves, so recording an outcome is one write. Two more
 * counters of the ring hold, per bucket, what those events had counted when the health was last reset (a half-open
 * trial succeeded): the health of a bucket is its events minus that baseline.
 */
const BASE_TOTAL = EVENT_COUNT;
const ALL_EVENTS = (1 << EVENT_COUNT) - 1;
const BASE_ERRORS = EVENT_COUNT + 1;
/** The rolling sums of one snapshot, shared by every key (a snapshot is built synchronously). */
const SCRATCH = new Float64Array(EVENT_COUNT + 2);
/** Zero counts: the baseline of a key's creation (see ReadWindow). */
const ZEROS = new Float64Array(EVENT_COUNT);

/**
 * Rolling and cumulative counters, health counts, concurrency and latency histograms of one command key. Every
 * method takes `now`; only the executor reads the clock.
 *
 * With `metrics.rollingWindow: false` the key keeps no time-bucketed window: recording an event is one write to its
 * cumulative count and takes no time (a call may hand in a stand-in `now`), and readers measure rolling counts,
 * health and the rolling maximum concurrency between their reads (see `metrics.rollingWindow`).
 */
export class CommandMetrics {
  /**
   * The rolling counts; also the totals since the key was created ({@link RollingCounter.total}). Null without a
   * rolling window.
   */
  private rolling: RollingCounter | null;
  /** Without a rolling window: the count of each event since the key was created (null with a window). */
  private counts: Float64Array | null = null;
  /** With a rolling window made by a `configure()` after the key had none: the counts from before it. */
  private carried: Float64Array | null = null;
  /** Without a rolling window: what its readers and the key sweep keep (null with a window: no bytes for those). */
  private noWindow: NoWindow | null = null;
  /** Without a rolling window: the highest concurrency since the readers' last capture. */
  private runMax = 0;
  private cfg: MetricsConfig;
  /**
   * The latency histograms, each made on its first record (with `metrics.percentileEnabled` when the key was made:
   * `latencyOn`). A lean call's success records its latency once, into `latencyRun`: its `run` latency is its total
   * latency there. `latencyExecute` and `latencyTotal` hold what the full flow records separately. Until its first
   * record each holds an {@link Unmade} (a 40-byte stand-in that makes the histogram), so that the record methods
   * keep their one-test shape, small enough for V8 to inline for free. A read of either kind merges it
   * with `latencyRun`, which gives exactly what one histogram holding both would: so a key holds one copy of its
   * latencies rather than two.
   */
  private latencyRun: RollingPercentile | Unmade | null;
  private latencyExecute: RollingPercentile | Unmade | null;
  private latencyTotal: RollingPercentile | Unmade | null;
  private readonly latencyOn: boolean;
  private lastHealth: HealthSnapshot = EMPTY_HEALTH;
  /**
   * Read side: the percentile "bucket" (shifted by this key's phase) the cached latency snapshots were read in. A
   * small integer from the start (not -Infinity), so the field holds no boxed double.
   */
  private latencyReadAt = NOT_READ;
  private latencyPhase = -1;
  private latencyPair: readonly [LatencySnapshot, LatencySnapshot] = NO_LATENCY;
  /** Executions currently running `run`. */
  current = 0;
  /**
   * @internal where a snapshot reads the circuit's state: the key's breaker (set by the runtime once it made it, a
   * field rather than a closure per key); CLOSED until then.
   */
  circuit: CircuitStateSource = ALWAYS_CLOSED;

  constructor(
    readonly commandKey: string,
    public group: string,
    config: MetricsConfig,
  ) {
    this.cfg = config;
    if (config.rollingWindow === false) {
      this.rolling = null;
      this.counts = new Float64Array(EVENT_COUNT);
      this.noWindow = new NoWindow(getClock().now());
    } else this.rolling = new RollingCounter(EVENT_COUNT + 2, config.rollingWindow, config.rollingBuckets);
    this.latencyOn = config.percentileEnabled;
    this.latencyRun = config.percentileEnabled ? new Unmade(this, RUN) : null;
    this.latencyExecute = config.percentileEnabled ? new Unmade(this, EXECUTE) : null;
    this.latencyTotal = config.percentileEnabled ? new Unmade(this, TOTAL) : null;
  }

  /**
   * Records one event (dense index from `EV`): one counter of the newest bucket, which also makes its rolling,
   * cumulative and (for a health event) health counts.
   */
  mark(event: number, now: number): void {
    const counts = this.counts;
    if (counts === null) this.rolling!.add(event, now);
    else counts[event]!++; // no window: no time
  }

  /** {@link CommandMetrics.mark} of `n` events at once (a collapsed batch). */
  markMany(event: number, now: number, n: number): void {
    const counts = this.counts;
    if (counts === null) this.rolling!.addMany(event, now, n);
    else counts[event]! += n;
  }

  /** The metrics' settings (the window sizes of when the key's metrics were made, or of its last window switch). */
  get config(): MetricsConfig {
    return this.cfg;
  }

  /** Whether the key keeps no rolling window (`metrics.rollingWindow: false`): recording an event needs no time. */
  get windowless(): boolean {
    return this.counts !== null;
  }

  /**
   * @internal without a rolling window: whether events were recorded since the previous ask (the key sweep's
   * "touched" mark: a clockless call records no time of use). Always false with a window.
   */
  usedSinceLastAsked(): boolean {
    const noWindow = this.noWindow;
    if (noWindow === null) return false;
    const seen = this.sumOf(this.counts!, ALL_EVENTS);
    if (seen === noWindow.eventsAsked) return false;
    noWindow.eventsAsked = seen;
    return true;
  }

  /** Records the start of a `run`: concurrency + 1, feeding the rolling maximum. */
  startRun(now: number): void {
    this.feedMax(++this.current, now);
  }

  private feedMax(value: number, now: number): void {
    if (this.counts === null) this.rolling!.max(value, now);
    else if (value > this.runMax) this.runMax = value;
  }

  /** Records the end of a `run`. */
  endRun(): void {
    this.current--;
  }

  /**
   * Records the start of a `run` whose start time was not read: concurrency + 1, fed to the rolling maximum when it
   * ends ({@link CommandMetrics.endRunStamped}).
   */
  startRunUnstamped(): void {
    this.current++;
  }

  /**
   * Records the end of a `run` started with {@link CommandMetrics.startRunUnstamped}: the concurrency just before
   * this end, the highest since the previous end (only starts came in between), feeds the rolling maximum at `now`.
   */
  endRunStamped(now: number): void {
    this.feedMax(this.current--, now);
  }

  /** Whether latencies are recorded (`percentileEnabled` when the key was created). */
  get recordsLatency(): boolean {
    return this.latencyOn;
  }

  /** Records `run`'s latency. */
  recordExecute(latencyMs: number, now: number): void {
    if (this.latencyExecute !== null) this.latencyExecute.record(latencyMs, now);
  }

  /** Records the whole execution's latency. */
  recordTotal(latencyMs: number, now: number): void {
    if (this.latencyTotal !== null) this.latencyTotal.record(latencyMs, now);
  }

  /**
   * Records a latency that is both `run`'s and the whole execution's (a lean call's success): one record, read by
   * both kinds.
   */
  recordRun(latencyMs: number, now: number): void {
    if (this.latencyRun !== null) this.latencyRun.record(latencyMs, now);
  }

  /** A latency histogram with the key's percentile window (of when the key was made: `setWindow` keeps it). */
  private histogram(): RollingPercentile {
    return new RollingPercentile(this.cfg.percentileWindow, this.cfg.percentileBuckets);
  }

  /** @internal the first record of a full-flow kind (from its {@link Unmade}): makes that kind's histogram. */
  make(kind: LatencyKind): RollingPercentile {
    const h = this.histogram();
    if (kind === RUN) this.latencyRun = h;
    else if (kind === EXECUTE) this.latencyExecute = h;
    else this.latencyTotal = h;
    return h;
  }

  /** Computes a fresh health snapshot (the breaker decides when). */
  takeHealthSnapshot(now: number): HealthSnapshot {
    if (this.rolling === null) return this.readHealth(now, this.readBase(now));
    const sums = this.rolling.sums(now, SCRATCH);
    let total = -sums[BASE_TOTAL]!;
    let errors = -sums[BASE_ERRORS]!;
    for (let i = 0; i < EVENT_COUNT; i++) {
      if ((HEALTH_BITS & (1 << i)) !== 0) total += sums[i]!;
      if ((ERROR_BITS & (1 << i)) !== 0) errors += sums[i]!;
    }
    this.lastHealth = total === 0 ? EMPTY_HEALTH : healthSnapshot(total, errors);
    return this.lastHealth;
  }

  /**
   * The latest health snapshot taken. Without a rolling window there is none to take: the health is read now,
   * between reads as the rolling counts (the same object while it did not change).
   */
  get healthCounts(): HealthSnapshot {
    return this.rolling === null ? this.healthAt(getClock().now()) : this.lastHealth;
  }

  /**
   * @internal {@link CommandMetrics.healthCounts} for a reader that already read the clock (`now`): no second read
   * for a key without a rolling window.
   */
  healthAt(now: number): HealthSnapshot {
    return this.rolling === null ? this.readHealth(now, this.readBase(now)) : this.lastHealth;
  }

  /** Forgets the health window (a half-open trial succeeded). The dashboard's rolling counters are kept. */
  resetHealth(): void {
    const rolling = this.rolling;
    if (rolling === null) {
      // no window: the health counts from now on (the later of this and a reader's window start)
      const noWindow = this.noWindow!;
      noWindow.resetTotal = this.sumOf(this.counts!, HEALTH_BITS);
      noWindow.resetErrors = this.sumOf(this.counts!, ERROR_BITS);
    } else {
      rolling.setToSum(BASE_TOTAL, HEALTH_BITS);
      rolling.setToSum(BASE_ERRORS, ERROR_BITS);
    }
    this.lastHealth = EMPTY_HEALTH;
  }

  /** Rolling count of one event type. */
  rollingCount(event: EventType, now: number): number {
    const i = EV[event];
    if (this.rolling === null) return this.counts![i]! - this.noWindow!.reads!.countAt(this.readBase(now), i);
    return this.rolling.sum(i, now);
  }

  /** Cumulative count of one event type. */
  cumulativeCount(event: EventType): number {
    return this.total(EV[event]);
  }

  /** Everything ever recorded of event `i`. */
  private total(i: number): number {
    const counts = this.counts;
    if (counts !== null) return counts[i]!;
    const carried = this.carried;
    return this.rolling!.total(i) + (carried === null ? 0 : carried[i]!);
  }

  /** Highest concurrency in the rolling window. */
  rollingMaxConcurrency(now: number): number {
    if (this.rolling === null) return this.readMax(this.readBase(now));
    return this.rolling.windowMax(now);
  }

  /** Approximate bytes this key's metrics hold. */
  get footprintBytes(): number {
    const latency = (made(this.latencyRun)?.footprintBytes ?? 0) + (made(this.latencyExecute)?.footprintBytes ?? 0) + (made(this.latencyTotal)?.footprintBytes ?? 0);
    // no window: the cumulative counts, and the readers' captures once something read the key
    if (this.rolling === null) return EVENT_COUNT * 8 + (this.noWindow?.reads?.footprintBytes ?? 0) + latency;
    // rolling: EVENT_COUNT + 2 health baselines + the max, 32 bits each per bucket; the 64-bit totals of what left it
    return (EVENT_COUNT + 3) * this.rolling.buckets * 4 + EVENT_COUNT * 8 + latency;
  }

  /**
   * @internal a `configure()` turned the key's rolling window on or off (`metrics.rollingWindow`): the counts since
   * the key was created are kept; the rolling counts, health and maximum concurrency start at this switch (`now`).
   */
  setWindow(config: MetricsConfig, now: number): void {
    if ((config.rollingWindow === false) === this.windowless) return;
    this.cfg = Object.freeze({ ...this.cfg, rollingWindow: config.rollingWindow, rollingBuckets: config.rollingBuckets });
    this.lastHealth = EMPTY_HEALTH;
    if (config.rollingWindow === false) {
      const counts = new Float64Array(EVENT_COUNT);
      for (let i = 0; i < EVENT_COUNT; i++) counts[i] = this.total(i);
      this.counts = counts;
      this.rolling = null;
      this.carried = null;
      this.runMax = this.current;
      const noWindow = (this.noWindow = new NoWindow(now));
      noWindow.reads = new ReadWindow(EVENT_COUNT, { at: now, counts });
    } else {
      this.carried = this.counts;
      this.counts = null;
      this.noWindow = null;
      this.rolling = new RollingCounter(EVENT_COUNT + 2, config.rollingWindow, config.rollingBuckets);
    }
  }

  /**
   * No window: brings the readers' captures up to `now` (made on the first read; a capture when none was taken in
   * the last bucket width) and returns the slot the window ending at `now` counts from.
   */
  private readBase(now: number): number {
    const counts = this.counts!;
    const noWindow = this.noWindow!;
    let reads = noWindow.reads;
    const first = reads === null;
    if (reads === null) {
      // a key younger than a window counts from its creation; an older one from this first read
      const young = now - noWindow.createdAt <= READ_WINDOW_MS;
      reads = noWindow.reads = new ReadWindow(EVENT_COUNT, young ? { at: noWindow.createdAt, counts: ZEROS } : null);
    }
    if (first || reads.due(now)) {
      reads.capture(now, counts, this.runMax);
      this.runMax = this.current; // the runs still going on count in the next capture's interval
    }
    return reads.baseline(now);
  }

  /** No window: the health counts since the capture in `base` (or since the last reset, if later). */
  private readHealth(now: number, base: number): HealthSnapshot {
    const counts = this.counts!;
    const noWindow = this.noWindow!;
    const reads = noWindow.reads!;
    let fromTotal = 0;
    let fromErrors = 0;
    for (let i = 0; i < EVENT_COUNT; i++) {
      if ((HEALTH_BITS & (1 << i)) !== 0) fromTotal += reads.countAt(base, i);
      if ((ERROR_BITS & (1 << i)) !== 0) fromErrors += reads.countAt(base, i);
    }
    // cumulative counts only grow: the later baseline is the larger one
    const total = this.sumOf(counts, HEALTH_BITS) - Math.max(fromTotal, noWindow.resetTotal);
    const errors = this.sumOf(counts, ERROR_BITS) - Math.max(fromErrors, noWindow.resetErrors);
    const last = this.lastHealth;
    if (total === 0) this.lastHealth = EMPTY_HEALTH;
    else if (last.requestCount !== total || last.errorCount !== errors) this.lastHealth = healthSnapshot(total, errors);
    return this.lastHealth;
  }

  /** No window: the highest concurrency since the capture in `base`. */
  private readMax(base: number): number {
    return Math.max(this.runMax, this.current, this.noWindow!.reads!.maxAfter(base));
  }

  /** The counts of the events whose bits are set in `bits`, added up. */
  private sumOf(counts: Float64Array, bits: number): number {
    let total = 0;
    for (let i = 0; i < EVENT_COUNT; i++) if ((bits & (1 << i)) !== 0) total += counts[i]!;
    return total;
  }

  /**
   * @internal the latency snapshots of `run` and of the whole execution. With `fresh` false (the stream and
   * Prometheus) the percentiles are re-read at most once per percentile bucket length, at a moment shifted by a
   * per-key phase so that many keys do not all recompute in the same sample; in between, the last read is
   * returned (Hystrix, too, refreshes its percentile snapshot once per bucket). A read costs nothing unless
   * latencies were recorded or a bucket expired since the previous one.
   */
  latencySnapshots(now: number, fresh: boolean): readonly [LatencySnapshot, LatencySnapshot] {
    if (!this.latencyOn) return NO_LATENCY;
    if (!fresh) {
      const bucketMs = this.config.percentileWindow / this.config.percentileBuckets;
      if (this.latencyPhase < 0) this.latencyPhase = phaseOf(this.commandKey, bucketMs);
      const at = Math.floor((now + this.latencyPhase) / bucketMs);
      if (at === this.latencyReadAt) return this.latencyPair;
      this.latencyReadAt = at;
    }
    const [before, beforeTotal] = this.latencyPair;
    const execute = this.latencyOf(made(this.latencyExecute), now, before);
    const total = this.latencyOf(made(this.latencyTotal), now, beforeTotal);
    if (execute !== this.latencyPair[0] || total !== this.latencyPair[1]) this.latencyPair = [execute, total];
    return this.latencyPair;
  }

  /** One kind's latencies: its own histogram's merged with the lean calls' (`latencyRun`), or whichever exists. */
  private latencyOf(own: RollingPercentile | null, now: number, previous: LatencySnapshot): LatencySnapshot {
    const run = made(this.latencyRun);
    if (run === null) return own === null ? EMPTY_LATENCY : own.snapshot(now);
    return own === null ? run.snapshot(now) : mergedSnapshot(run, own, now, previous);
  }

  /**
   * @internal read side: the number of events ever recorded. With {@link CommandMetrics.current} it tells a reader
   * whether anything happened since its last read, without building a snapshot.
   */
  eventTotal(): number {
    const counts = this.counts ?? this.carried;
    const before = counts === null ? 0 : this.sumOf(counts, ALL_EVENTS);
    return this.rolling === null ? before : before + this.rolling.totalOf(ALL_EVENTS);
  }

  /**
   * A plain snapshot (see {@link CommandMetricsSnapshot}). Its percentiles are up to date unless `freshPercentiles`
   * is false (see `latencySnapshots`).
   */
  snapshot(now: number = getClock().now(), freshPercentiles = true): CommandMetricsSnapshot {
    const [latencyExecute, latencyTotal] = this.latencySnapshots(now, freshPercentiles);
    const rolling = {} as Record<EventType, number>;
    const cumulative = {} as Record<EventType, number>;
    let health = this.lastHealth;
    let rollingMax: number;
    if (this.rolling === null) {
      const base = this.readBase(now);
      const counts = this.counts!;
      const reads = this.noWindow!.reads!;
      for (let i = 0; i < EVENT_COUNT; i++) {
        rolling[EVENT_TYPES[i]!] = counts[i]! - reads.countAt(base, i);
        cumulative[EVENT_TYPES[i]!] = counts[i]!;
      }
      health = this.readHealth(now, base);
      rollingMax = this.readMax(base);
    } else {
      const sums = this.rolling.sums(now, SCRATCH);
      for (let i = 0; i < EVENT_COUNT; i++) {
        rolling[EVENT_TYPES[i]!] = sums[i]!;
        cumulative[EVENT_TYPES[i]!] = this.total(i);
      }
      rollingMax = this.rolling.windowMax(now);
    }
    return {
      commandKey: this.commandKey,
      group: this.group,
      circuit: this.circuit.state,
      rolling,
      cumulative,
      health,
      concurrency: { current: this.current, rollingMax },
      latencyExecute,
      latencyTotal,
    };
  }
}

/** The latency kinds an {@link Unmade} stands for: the lean calls' shared one, and the full flow's two. */
const RUN = 0;
const EXECUTE = 1;
const TOTAL = 2;
type LatencyKind = typeof RUN | typeof EXECUTE | typeof TOTAL;

/**
 * A latency histogram not made yet: its first record makes it (a lean-only key never makes the full flow's two). The
 * record methods call it as they call a histogram, so they keep one null test.
 */
class Unmade {
  constructor(
    private readonly metrics: CommandMetrics,
    private readonly kind: LatencyKind,
  ) {}

  record(latencyMs: number, now: number): void {
    this.metrics.make(this.kind).record(latencyMs, now);
  }
}

/** The histogram, or null while there is none (not made, or percentiles off). */
function made(h: RollingPercentile | Unmade | null): RollingPercentile | null {
  return h instanceof RollingPercentile ? h : null;
}

/** {@link CommandMetrics}' latency read bucket before its first read: a small integer below any bucket number. */
const NOT_READ = -0x3fffffff;

/**
 * What a key without a rolling window keeps besides its counts: made with the key (or when a `configure()` turns its
 * window off), so a key with a window holds none of it.
 */
class NoWindow {
  /** The readers' captures, made on the first read. */
  reads: ReadWindow | null = null;
  /** The health counts (cumulative) when the health was last reset. */
  resetTotal = 0;
  resetErrors = 0;
  /** The events counted at the last {@link CommandMetrics.usedSinceLastAsked}. */
  eventsAsked = 0;

  /** @param createdAt - when the key's metrics were made (a first read within a window counts from it). */
  constructor(readonly createdAt: number) {}
}

const EMPTY_LATENCY: LatencySnapshot = Object.freeze({
  mean: 0,
  percentiles: Object.freeze({ '0': 0, '25': 0, '50': 0, '75': 0, '90': 0, '95': 0, '99': 0, '99.5': 0, '100': 0 }),
});

const NO_LATENCY: readonly [LatencySnapshot, LatencySnapshot] = Object.freeze([EMPTY_LATENCY, EMPTY_LATENCY] as const);

/** A stable offset in [0, bucketMs) from the key's name (FNV-1a), spreading keys' percentile reads over a bucket. */
function phaseOf(key: string, bucketMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % Math.max(1, Math.floor(bucketMs));
}
