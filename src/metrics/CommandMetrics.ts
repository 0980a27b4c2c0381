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

// 0: no health effect; 1: counts toward requestCount; 2: also an error.
const HEALTH_KIND = new Uint8Array(EVENT_COUNT);
HEALTH_KIND[EV.SUCCESS] = 1;
HEALTH_KIND[EV.FAILURE] = 2;
HEALTH_KIND[EV.TIMEOUT] = 2;
HEALTH_KIND[EV.THREAD_POOL_REJECTED] = 2;
HEALTH_KIND[EV.SEMAPHORE_REJECTED] = 2;
/** The health window lives in the rolling counter as two extra counters, so an outcome rotates one ring. */
const HEALTH_TOTAL = EVENT_COUNT;
const HEALTH_ERRORS = EVENT_COUNT + 1;
/** The rolling sums of one snapshot, shared by every key (a snapshot is built synchronously). */
const SCRATCH = new Float64Array(EVENT_COUNT + 2);

/**
 * Rolling and cumulative counters, health counts, concurrency and latency histograms of one command key. Every
 * method takes `now`; only the executor reads the clock.
 */
export class CommandMetrics {
  private readonly rolling: RollingCounter;
  /** Totals since the key was created: a plain array (small integers, doubles past 2^31) costs less than a typed one. */
  private readonly cumulative: number[] = new Array<number>(EVENT_COUNT).fill(0);
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

  /** Records one event (dense index from `EV`). Health-relevant events also feed the health window. */
  mark(event: number, now: number, n = 1): void {
    const rolling = this.rolling;
    const at = rolling.offsetAt(now);
    rolling.bump(at, event, n);
    this.cumulative[event]! += n;
    const kind = HEALTH_KIND[event]!;
    if (kind !== 0) {
      rolling.bump(at, HEALTH_TOTAL, n);
      if (kind === 2) rolling.bump(at, HEALTH_ERRORS, n);
    }
  }

  /** Records the start of a `run`: concurrency + 1, feeding the rolling maximum. */
  startRun(now: number): void {
    this.rolling.max(++this.current, now);
  }

  /** Records the end of a `run`. */
  endRun(): void {
    this.current--;
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
    const total = this.rolling.sum(HEALTH_TOTAL, now);
    const errors = this.rolling.sum(HEALTH_ERRORS, now);
    this.lastHealth = total === 0 ? EMPTY_HEALTH : healthSnapshot(total, errors);
    return this.lastHealth;
  }

  /** The latest health snapshot taken. */
  get healthCounts(): HealthSnapshot {
    return this.lastHealth;
  }

  /** Forgets the health window (a half-open trial succeeded). The dashboard's rolling counters are kept. */
  resetHealth(): void {
    this.rolling.resetCounter(HEALTH_TOTAL);
    this.rolling.resetCounter(HEALTH_ERRORS);
    this.lastHealth = EMPTY_HEALTH;
  }

  /** Rolling count of one event type. */
  rollingCount(event: EventType, now: number): number {
    return this.rolling.sum(EV[event], now);
  }

  /** Cumulative count of one event type. */
  cumulativeCount(event: EventType): number {
    return this.cumulative[EV[event]]!;
  }

  /** Highest concurrency in the rolling window. */
  rollingMaxConcurrency(now: number): number {
    return this.rolling.windowMax(now);
  }

  /** Approximate bytes this key's metrics hold. */
  get footprintBytes(): number {
    // rolling: EVENT_COUNT + 2 health counters + the max, 32 bits each per bucket; the 64-bit cumulative counts
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
    let n = 0;
    for (let i = 0; i < EVENT_COUNT; i++) n += this.cumulative[i]!;
    return n;
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
      cumulative[EVENT_TYPES[i]!] = this.cumulative[i]!;
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
