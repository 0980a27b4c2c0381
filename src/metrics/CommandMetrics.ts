import type { MetricsConfig } from '../config/options.js';
import { getClock } from '../config/store.js';
import type { CircuitState } from '../circuit/breakerState.js';
import { EV, EVENT_COUNT, EVENT_TYPES, type EventType } from './eventType.js';
import { EMPTY_HEALTH, healthSnapshot, type HealthSnapshot } from './HealthCounts.js';
import { RollingCounter } from './RollingCounter.js';
import { RollingPercentile, type LatencySnapshot } from './RollingPercentile.js';

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
  /** Counts in the rolling window (`metrics.rollingWindow`). */
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

/**
 * Rolling and cumulative counters, health counts, concurrency and latency histograms of one command key. Every
 * method takes `now`; only the executor reads the clock.
 */
export class CommandMetrics {
  /** The rolling counts; also the totals since the key was created ({@link RollingCounter.total}). */
  private readonly rolling: RollingCounter;
  private readonly latencyExecute: RollingPercentile | null;
  private readonly latencyTotal: RollingPercentile | null;
  private lastHealth: HealthSnapshot = EMPTY_HEALTH;
  /** Read side: the percentile "bucket" (shifted by this key's phase) the cached latency snapshots were read in. */
  private latencyReadAt = -Infinity;
  private latencyPhase = -1;
  private latencyPair: readonly [LatencySnapshot, LatencySnapshot] = NO_LATENCY;
  /** Executions currently running `run`. */
  current = 0;

  constructor(
    readonly commandKey: string,
    public group: string,
    readonly config: MetricsConfig,
    private readonly circuitState: () => CircuitState,
  ) {
    this.rolling = new RollingCounter(EVENT_COUNT + 2, config.rollingWindow, config.rollingBuckets);
    this.latencyExecute = config.percentileEnabled ? new RollingPercentile(config.percentileWindow, config.percentileBuckets) : null;
    this.latencyTotal = config.percentileEnabled ? new RollingPercentile(config.percentileWindow, config.percentileBuckets) : null;
  }

  /**
   * Records one event (dense index from `EV`): one counter of the newest bucket, which also makes its rolling,
   * cumulative and (for a health event) health counts.
   */
  mark(event: number, now: number, n = 1): void {
    this.rolling.add(event, now, n);
  }

  /** Records the start of a `run`: concurrency + 1, feeding the rolling maximum. */
  startRun(now: number): void {
    this.rolling.max(++this.current, now);
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
    this.rolling.max(this.current--, now);
  }

  /** Whether latencies are recorded (the latency histograms exist: `percentileEnabled` when the key was created). */
  get recordsLatency(): boolean {
    return this.latencyTotal !== null;
  }

  /** Records `run`'s latency. */
  recordExecute(latencyMs: number, now: number): void {
    if (this.latencyExecute !== null) this.latencyExecute.record(latencyMs, now);
  }

  /** Records the whole execution's latency. */
  recordTotal(latencyMs: number, now: number): void {
    if (this.latencyTotal !== null) this.latencyTotal.record(latencyMs, now);
  }

  /** Computes a fresh health snapshot (the breaker decides when). */
  takeHealthSnapshot(now: number): HealthSnapshot {
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

  /** The latest health snapshot taken. */
  get healthCounts(): HealthSnapshot {
    return this.lastHealth;
  }

  /** Forgets the health window (a half-open trial succeeded). The dashboard's rolling counters are kept. */
  resetHealth(): void {
    this.rolling.setToSum(BASE_TOTAL, HEALTH_BITS);
    this.rolling.setToSum(BASE_ERRORS, ERROR_BITS);
    this.lastHealth = EMPTY_HEALTH;
  }

  /** Rolling count of one event type. */
  rollingCount(event: EventType, now: number): number {
    return this.rolling.sum(EV[event], now);
  }

  /** Cumulative count of one event type. */
  cumulativeCount(event: EventType): number {
    return this.rolling.total(EV[event]);
  }

  /** Highest concurrency in the rolling window. */
  rollingMaxConcurrency(now: number): number {
    return this.rolling.windowMax(now);
  }

  /** Approximate bytes this key's metrics hold. */
  get footprintBytes(): number {
    // rolling: EVENT_COUNT + 2 health baselines + the max, 32 bits each per bucket; the 64-bit totals of what left it
    const counters = (EVENT_COUNT + 3) * this.config.rollingBuckets * 4 + EVENT_COUNT * 8;
    return counters + (this.latencyExecute?.footprintBytes ?? 0) + (this.latencyTotal?.footprintBytes ?? 0);
  }

  /**
   * @internal the latency snapshots of `run` and of the whole execution. With `fresh` false (the stream and
   * Prometheus) the percentiles are re-read at most once per percentile bucket length, at a moment shifted by a
   * per-key phase so that many keys do not all recompute in the same sample; in between, the last read is
   * returned (Hystrix, too, refreshes its percentile snapshot once per bucket). A read costs nothing unless
   * latencies were recorded or a bucket expired since the previous one.
   */
  latencySnapshots(now: number, fresh: boolean): readonly [LatencySnapshot, LatencySnapshot] {
    if (this.latencyExecute === null || this.latencyTotal === null) return NO_LATENCY;
    if (!fresh) {
      const bucketMs = this.config.percentileWindow / this.config.percentileBuckets;
      if (this.latencyPhase < 0) this.latencyPhase = phaseOf(this.commandKey, bucketMs);
      const at = Math.floor((now + this.latencyPhase) / bucketMs);
      if (at === this.latencyReadAt) return this.latencyPair;
      this.latencyReadAt = at;
    }
    const execute = this.latencyExecute.snapshot(now);
    const total = this.latencyTotal.snapshot(now);
    if (execute !== this.latencyPair[0] || total !== this.latencyPair[1]) this.latencyPair = [execute, total];
    return this.latencyPair;
  }

  /**
   * @internal read side: the number of events ever recorded. With {@link CommandMetrics.current} it tells a reader
   * whether anything happened since its last read, without building a snapshot.
   */
  eventTotal(): number {
    return this.rolling.totalOf(ALL_EVENTS);
  }

  /**
   * A plain snapshot (see {@link CommandMetricsSnapshot}). Its percentiles are up to date unless `freshPercentiles`
   * is false (see `latencySnapshots`).
   */
  snapshot(now: number = getClock().now(), freshPercentiles = true): CommandMetricsSnapshot {
    const [latencyExecute, latencyTotal] = this.latencySnapshots(now, freshPercentiles);
    const sums = this.rolling.sums(now, SCRATCH);
    const rolling = {} as Record<EventType, number>;
    const cumulative = {} as Record<EventType, number>;
    for (let i = 0; i < EVENT_COUNT; i++) {
      rolling[EVENT_TYPES[i]!] = sums[i]!;
      cumulative[EVENT_TYPES[i]!] = this.rolling.total(i);
    }
    return {
      commandKey: this.commandKey,
      group: this.group,
      circuit: this.circuitState(),
      rolling,
      cumulative,
      health: this.lastHealth,
      concurrency: { current: this.current, rollingMax: this.rolling.windowMax(now) },
      latencyExecute,
      latencyTotal,
    };
  }
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
