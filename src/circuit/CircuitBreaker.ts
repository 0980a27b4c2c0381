import type { CircuitBreakerConfig } from '../config/options.js';
import type { CommandMetrics } from '../metrics/CommandMetrics.js';
import type { HealthSnapshot } from '../metrics/HealthCounts.js';
import type { Clock, TimerHandle } from '../time/Clock.js';
import { admission, ADMIT_TRIAL, shouldTrip, type Admission, type CircuitState } from './breakerState.js';
import type { CircuitEvents, CircuitTransition } from './events.js';
import { monotonicFromEpoch, type CircuitBreakerSnapshot } from './CircuitBreakerSnapshot.js';

/** @internal how the breaker reports transitions. */
export type CircuitEmit = <K extends keyof CircuitEvents>(name: K, payload: CircuitTransition) => void;

/**
 * The circuit breaker of one command key (Hystrix 1.5 rules). It trips on health snapshots taken at most every
 * `healthSnapshotInterval` — on the next outcome once the interval has passed, or from one timer armed only while
 * un-evaluated outcomes are pending, so a tripped circuit shows as open even when no call arrives.
 *
 * Get one with `circuitBreakerFor(key)`.
 *
 * @example
 * ```ts
 * const breaker = circuitBreakerFor('GetUser');
 * breaker.forceOpen();     // every call short-circuits to its fallback
 * breaker.reset();         // back to CLOSED, health forgotten, force flags cleared
 * ```
 */
export class CircuitBreaker {
  private status: CircuitState = 'CLOSED';
  private openedAt = -1;
  private manualOpen = false;
  private manualClosed = false;
  private lastSnapshotAt = -Infinity;
  private timer: TimerHandle | null = null;
  /** @internal the latest config seen; the executor refreshes it when configuration changes. */
  config: CircuitBreakerConfig;
  /** @internal */
  healthInterval: number;
  private readonly onTimer = (): void => {
    this.timer = null;
    this.evaluate(this.clock().now());
  };

  /** @internal */
  constructor(
    /** The command key. */
    readonly commandKey: string,
    private readonly metrics: CommandMetrics,
    config: CircuitBreakerConfig,
    healthInterval: number,
    private readonly clock: () => Clock,
    private readonly emit: CircuitEmit,
  ) {
    this.config = config;
    this.healthInterval = healthInterval;
    if (config.initialState !== undefined) this.restore(config.initialState);
  }

  /**
   * The breaker's state as plain JSON (what `JSON.stringify(breaker)` writes): the state, when it opened as
   * wall-clock epoch ms (read through the configured Clock), and the latest health counts. Give it back as
   * `circuitBreaker: { initialState }` to start another process's breaker from it.
   *
   * @example
   * ```ts
   * await cache.set('breaker:GetUser', JSON.stringify(circuitBreakerFor('GetUser')));
   * ```
   * @see {@link CircuitBreakerSnapshot}
   */
  toJSON(): CircuitBreakerSnapshot {
    const clock = this.clock();
    const now = clock.now();
    const wallNow = clock.wallTime();
    const openedAt = this.status === 'CLOSED' ? null : Math.round(wallNow - (now - this.openedAt));
    return { commandKey: this.commandKey, state: this.status, openedAt, sleepWindow: this.config.sleepWindow, health: this.health, takenAt: wallNow };
  }

  /**
   * A restored OPEN circuit keeps what remains of its sleep window, counted from the snapshot's wall-clock
   * `openedAt`; a HALF_OPEN one restarts as OPEN from the same time (its trial ran in the other process), so the
   * next call after the window is the trial. Health counts are not replayed (see docs/circuit-breaker.md).
   */
  private restore(snapshot: CircuitBreakerSnapshot): void {
    if (snapshot.state === 'CLOSED' || snapshot.openedAt === null) return;
    const clock = this.clock();
    this.status = 'OPEN';
    this.openedAt = monotonicFromEpoch(snapshot.openedAt, clock.now(), clock.wallTime());
  }

  /**
   * The state as callers see it: `OPEN` while forced open, `CLOSED` while forced closed (or disabled), otherwise
   * the state machine's.
   */
  get state(): CircuitState {
    if (this.manualOpen || this.config.forceOpen) return 'OPEN';
    if (this.manualClosed || this.config.forceClosed || !this.config.enabled) return 'CLOSED';
    return this.status;
  }

  /** True while the state is OPEN or HALF_OPEN (what the stream's `isCircuitBreakerOpen` reports). */
  get isOpen(): boolean {
    return this.state !== 'CLOSED';
  }

  /** The health counts of the latest snapshot. */
  get health(): HealthSnapshot {
    return this.metrics.healthCounts;
  }

  /** Short-circuits every call until {@link CircuitBreaker.reset} or {@link CircuitBreaker.forceClosed}. */
  forceOpen(): void {
    this.manualOpen = true;
    this.manualClosed = false;
  }

  /** Lets every call through (health is still counted) until {@link CircuitBreaker.reset} or {@link CircuitBreaker.forceOpen}. */
  forceClosed(): void {
    this.manualClosed = true;
    this.manualOpen = false;
  }

  /** Clears force flags set here (not those in configuration), closes the circuit and forgets health counts. */
  reset(): void {
    this.manualOpen = false;
    this.manualClosed = false;
    const from = this.status;
    this.status = 'CLOSED';
    this.openedAt = -1;
    this.metrics.resetHealth();
    this.lastSnapshotAt = -Infinity;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    if (from !== 'CLOSED') this.transition(from, 'CLOSED');
  }

  /** @internal one call asks to run. Not idempotent: an ADMIT_TRIAL moves the circuit to HALF_OPEN. */
  attempt(now: number): Admission {
    const decision = admission(
      this.status,
      this.openedAt,
      this.config,
      this.manualOpen || this.config.forceOpen,
      this.manualClosed || this.config.forceClosed,
      now,
    );
    if (decision === ADMIT_TRIAL) {
      this.status = 'HALF_OPEN';
      this.transition('OPEN', 'HALF_OPEN');
    }
    return decision;
  }

  /** @internal a health-relevant outcome was recorded: evaluate now if a snapshot is due, else once it is. */
  onHealthEvent(now: number): void {
    if (now - this.lastSnapshotAt >= this.healthInterval || now < this.lastSnapshotAt) this.evaluate(now);
    else if (this.timer === null) this.timer = this.clock().setTimer(this.onTimer, this.lastSnapshotAt + this.healthInterval - now);
  }

  /** @internal the half-open trial succeeded: close and forget the old health. */
  trialSucceeded(now: number): void {
    if (this.status !== 'HALF_OPEN') return;
    this.status = 'CLOSED';
    this.openedAt = -1;
    this.metrics.resetHealth();
    this.lastSnapshotAt = now;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    this.transition('HALF_OPEN', 'CLOSED');
  }

  /** @internal the half-open trial failed (or was cancelled): open for another sleep window. */
  trialFailed(now: number): void {
    if (this.status !== 'HALF_OPEN') return;
    this.status = 'OPEN';
    this.openedAt = now;
    this.transition('HALF_OPEN', 'OPEN');
  }

  /**
   * @internal the trial never reached the dependency (rejected by a bulkhead or limiter, or a bad request): back to
   * OPEN with the sleep window still elapsed, so the next call becomes the trial. Hystrix leaves the circuit stuck
   * half-open after a semaphore-rejected trial; this is the deliberate fix.
   */
  trialReleased(): void {
    if (this.status !== 'HALF_OPEN') return;
    this.status = 'OPEN';
    this.transition('HALF_OPEN', 'OPEN');
  }

  private evaluate(now: number): void {
    this.lastSnapshotAt = now;
    const health = this.metrics.takeHealthSnapshot(now);
    if (this.status !== 'CLOSED' || !this.config.enabled) return;
    if (this.manualClosed || this.config.forceClosed) return;
    if (shouldTrip(health, this.config)) {
      this.status = 'OPEN';
      this.openedAt = now;
      this.transition('CLOSED', 'OPEN');
    }
  }

  private transition(from: CircuitState, to: CircuitState): void {
    const name = to === 'OPEN' ? 'circuitOpen' : to === 'HALF_OPEN' ? 'circuitHalfOpen' : 'circuitClosed';
    this.emit(name, { commandKey: this.commandKey, from, to, health: this.metrics.healthCounts });
  }
}
