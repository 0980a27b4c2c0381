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

/**
 * Rolling and cumulative counters, health counts, concurrency and latency histograms of one command key. Every
 * method takes `now`; only the executor reads the clock.
 */
export class CommandMetrics {
  private readonly rolling: RollingCounter;
  private readonly cumulative = new Float64Array(EVENT_COUNT);
  private readonly latencyExecute: RollingPercentile | null;
  private readonly latencyTotal: RollingPercentile | null;
  private readonly scratch = new Float64Array(EVENT_COUNT + 2);
  private lastHealth: HealthSnapshot = EMPTY_HEALTH;
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
    // rolling: EVENT_COUNT + 2 health counters + the max, per bucket; cumulative and the snapshot scratch
    const counters = (EVENT_COUNT + 3) * this.config.rollingBuckets * 8 + (EVENT_COUNT * 2 + 2) * 8;
    return counters + (this.latencyExecute?.footprintBytes ?? 0) + (this.latencyTotal?.footprintBytes ?? 0);
  }

  /** A plain snapshot (see {@link CommandMetricsSnapshot}). */
  snapshot(now: number = getClock().now()): CommandMetricsSnapshot {
    const sums = this.rolling.sums(now, this.scratch);
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
      latencyExecute: this.latencyExecute?.snapshot(now) ?? EMPTY_LATENCY,
      latencyTotal: this.latencyTotal?.snapshot(now) ?? EMPTY_LATENCY,
    };
  }
}

const EMPTY_LATENCY: LatencySnapshot = Object.freeze({
  mean: 0,
  percentiles: Object.freeze({ '0': 0, '25': 0, '50': 0, '75': 0, '90': 0, '95': 0, '99': 0, '99.5': 0, '100': 0 }),
});
