import type { CircuitBreakerConfig } from '../config/options.js';
import type { CommandMetrics } from '../metrics/CommandMetrics.js';
import type { HealthSnapshot } from '../metrics/HealthCounts.js';
import type { Clock, TimerHandle } from '../time/Clock.js';
import { admission, ADMIT, ADMIT_TRIAL, REFUSE, trialsClose, type Admission, type CircuitState } from './breakerState.js';
import type { CircuitEvents } from './events.js';
import { monotonicFromEpoch, type CircuitBreakerSnapshot } from './CircuitBreakerSnapshot.js';
import { SharedCircuit } from './SharedCircuit.js';
import { createTripRule, sameRule } from './strategies/createTripRule.js';
import { isSlow } from './strategies/slowCall.js';
import type { TripRule } from './strategies/TripRule.js';

/** @internal how the breaker reports transitions (and, when shared, its store's status). */
export type CircuitEmit = <K extends keyof CircuitEvents>(name: K, payload: Parameters<CircuitEvents[K]>[0]) => void;

/**
 * @internal who hears a breaker's transitions: the key's runtime (a method rather than a closure per key, which cost
 * ~100 B of every key with its context).
 */
export interface CircuitListener {
  emitCircuit: CircuitEmit;
}

/**
 * The circuit breaker of one command key. With the default `strategy: 'errorPercentage'` it follows Hystrix 1.5: it
 * trips on health snapshots taken at most every `healthSnapshotInterval` — on the next outcome once the interval has
 * passed, or from one timer armed only while un-evaluated outcomes are pending, so a tripped circuit shows as open
 * even when no call arrives. The `'consecutive'` and `'countWindow'` strategies trip at the outcome that meets their
 * rule. After `sleepWindow`, `halfOpen.permittedCalls` trials may run at once; `halfOpen.successThreshold`
 * successful trials close the circuit, the first failed one re-opens it (docs/circuit-breaker.md).
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
  private cfg: CircuitBreakerConfig;
  /** The closed circuit's trip rule (the strategy). */
  private rule: TripRule;
  /** Half-open: trials running now, and trials that succeeded in this half-open period. */
  private trialsRunning = 0;
  private trialSuccesses = 0;
  /** @internal */
  healthInterval: number;
  /** The fleet's circuit, with `circuitBreaker.store` (read when the breaker is created). */
  private readonly shared: SharedCircuit | null = null;
  /** True while a state published by another instance is applied (it is not published again). */
  private applyingShared = false;
  /** The health timer's callback, made when a timer is first armed (most keys never arm one). */
  private onTimer: (() => void) | null = null;

  /** @internal */
  constructor(
    commandKey: string,
    private readonly metrics: CommandMetrics,
    config: CircuitBreakerConfig,
    healthInterval: number,
    private readonly clock: () => Clock,
    private readonly listener: CircuitListener,
  ) {
    this.cfg = config;
    this.rule = createTripRule(config, metrics.config);
    this.healthInterval = healthInterval;
    if (config.initialState !== undefined) this.restore(config.initialState);
    if (config.store !== undefined) {
      const cfg = () => this.cfg;
      this.shared = new SharedCircuit(
        {
          commandKey,
          get sleepWindow() {
            return cfg().sleepWindow;
          },
          openedAtEpoch: () => this.openedAtEpoch(),
          applyShared: (open, openedAt) => this.applyShared(open, openedAt),
          storeStatus: (available, error) =>
            this.listener.emitCircuit(available ? 'circuitStoreRecovered' : 'circuitStoreUnavailable', available ? { commandKey } : { commandKey, error }),
        },
        config.store,
        clock,
      );
    }
  }

  /** The command key (its metrics': no field of its own per key). */
  get commandKey(): string {
    return this.metrics.commandKey;
  }

  /** With `circuitBreaker.store`: whether the fleet's circuit is reachable (false: this breaker acts alone). */
  get storeAvailable(): boolean | undefined {
    return this.shared?.available;
  }

  private openedAtEpoch(): number | null {
    if (this.status === 'CLOSED') return null;
    const clock = this.clock();
    return Math.round(clock.wallTime() - (clock.now() - this.openedAt));
  }

  /**
   * @internal a state another instance published: an opening opens this circuit too (from the same opened-at), a
   * close (a trial succeeded elsewhere) closes it with fresh counts. An instance running the trial ignores both: its
   * own trial decides.
   */
  applyShared(open: boolean, openedAt: number): void {
    if (this.status === 'HALF_OPEN') return;
    this.applyingShared = true;
    try {
      if (open) {
        if (this.status === 'CLOSED') {
          if (!this.cfg.enabled) return;
          this.status = 'OPEN';
          this.openedAt = openedAt;
          this.transition('CLOSED', 'OPEN');
        } else if (openedAt > this.openedAt) {
          this.openedAt = openedAt; // re-opened after a failed trial elsewhere: a new sleep window
        }
      } else if (this.status === 'OPEN') {
        this.status = 'CLOSED';
        this.openedAt = -1;
        this.metrics.resetHealth();
        this.rule.reset();
        this.lastSnapshotAt = this.clock().now();
        this.transition('OPEN', 'CLOSED');
      }
    } finally {
      this.applyingShared = false;
    }
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

  /** @internal the latest config seen; the runtime refreshes it when configuration changes. */
  get config(): CircuitBreakerConfig {
    return this.cfg;
  }

  /** @internal replaces the config; a change of strategy or window starts a new trip rule. */
  set config(config: CircuitBreakerConfig) {
    if (config === this.cfg) return;
    // a change of numbers keeps what the rule counted; another kind of rule (or window) starts empty
    if (sameRule(this.cfg, config)) this.rule.config = config;
    else this.rule = createTripRule(config, this.metrics.config);
    this.cfg = config;
  }

  /**
   * The state as callers see it: `OPEN` while forced open, `CLOSED` while forced closed (or disabled), otherwise
   * the state machine's.
   */
  get state(): CircuitState {
    if (this.manualOpen || this.cfg.forceOpen) return 'OPEN';
    if (this.manualClosed || this.cfg.forceClosed || !this.cfg.enabled) return 'CLOSED';
    return this.status;
  }

  /** True while the state is OPEN or HALF_OPEN (what the stream's `isCircuitBreakerOpen` reports). */
  get isOpen(): boolean {
    return this.state !== 'CLOSED';
  }

  /**
   * @internal CLOSED by its own state, not forced either way, and no failure counted that time does not clear
   * (count-based strategies): nothing a fresh breaker would not also have.
   */
  get isReleasable(): boolean {
    const c = this.config;
    return this.status === 'CLOSED' && !this.manualOpen && !this.manualClosed && !c.forceOpen && !c.forceClosed && !this.rule.keepsKey;
  }

  /** @internal the key expired: cancel the health timer so nothing keeps this breaker alive (and stop watching the fleet's circuit). */
  dispose(): void {
    this.shared?.close();
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
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
    this.trialsRunning = 0;
    this.trialSuccesses = 0;
    this.metrics.resetHealth();
    this.rule.reset();
    this.lastSnapshotAt = -Infinity;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    if (from !== 'CLOSED') this.transition(from, 'CLOSED');
  }

  /**
   * @internal OPEN by its own state: a call's admission then depends on the time (the sleep window). CLOSED and
   * HALF_OPEN admit or refuse without it.
   */
  get sleeping(): boolean {
    return this.status === 'OPEN';
  }

  /**
   * @internal whether {@link CircuitBreaker.attempt} may refuse a call: open (by its state or forced) or half-open.
   * CLOSED and not forced open admits every call.
   */
  get mayRefuse(): boolean {
    return this.status !== 'CLOSED' || this.manualOpen || this.cfg.forceOpen;
  }

  /**
   * @internal one call asks to run. Not idempotent: an ADMIT_TRIAL takes a trial slot (from OPEN: HALF_OPEN).
   *
   * The two common answers, a closed circuit that is not forced open (ADMIT) and a forced-open one (REFUSE), are
   * {@link admission}'s for those states whatever the time, and are given here without a call: this stays small
   * enough to be inlined into the call paths, and `now` (a double) is not boxed to be passed on.
   */
  attempt(now: number): Admission {
    if (!this.mayRefuse) return ADMIT;
    return this.manualOpen || this.cfg.forceOpen ? REFUSE : this.decide(now);
  }

  /** {@link CircuitBreaker.attempt} for an open or half-open circuit: the sleep window, trials, the fleet's lock. */
  private decide(now: number): Admission {
    const decision = admission(
      this.status,
      this.openedAt,
      this.cfg,
      this.manualOpen || this.cfg.forceOpen,
      this.manualClosed || this.cfg.forceClosed,
      now,
      this.trialsRunning,
    );
    if (decision === ADMIT_TRIAL) {
      // one trial for the fleet: only the holder of the shared trial lock (or anyone, while the store is away)
      if (this.shared !== null && this.status === 'OPEN' && !this.shared.mayStartTrial(now)) return REFUSE;
      this.trialsRunning++;
      if (this.status === 'OPEN') {
        this.status = 'HALF_OPEN';
        this.trialSuccesses = 0;
        this.transition('OPEN', 'HALF_OPEN');
      }
    }
    return decision;
  }

  /** @internal a call that reached the dependency succeeded after `durationMs` (`trial`: it was a half-open trial). */
  onSuccess(durationMs: number, now: number, trial: boolean): void {
    this.outcome(false, durationMs, now);
    if (trial) this.trialSucceeded(now, durationMs);
  }

  /** @internal a call that reached the dependency failed or timed out after `durationMs`. */
  onFailure(durationMs: number, now: number, trial: boolean): void {
    this.outcome(true, durationMs, now);
    if (trial) this.trialFailed(now);
  }

  /** Feeds the rule (closed circuit only: the counts start afresh when it closes) and the health snapshot. */
  private outcome(failed: boolean, durationMs: number, now: number): void {
    const trip = this.status === 'CLOSED' && this.rule.record(failed, durationMs, now);
    this.onHealthEvent(now);
    if (trip) this.tripOnOutcome(now);
  }

  /** An outcome met the rule (rare: out of line, so that the outcome's common path stays small enough to be inlined). */
  private tripOnOutcome(now: number): void {
    // a key without a rolling window may hand in a stand-in time (ExecutionPlan.clockless): a trip reads the real one
    this.trip(this.metrics.windowless ? this.clock().now() : now);
  }

  /**
   * @internal a health-relevant outcome was recorded: evaluate now if a snapshot is due, else once it is. A key
   * without a rolling window takes no snapshots: its strategy counts calls, and readers compute its health.
   */
  onHealthEvent(now: number): void {
    if (this.metrics.windowless) return;
    if (now - this.lastSnapshotAt >= this.healthInterval || now < this.lastSnapshotAt) this.evaluate(now);
    else if (this.timer === null) this.armTimer(now);
  }

  /** Evaluates once a snapshot is due (out of line as {@link CircuitBreaker.tripOnOutcome}). */
  private armTimer(now: number): void {
    this.timer = this.clock().setTimer(this.timerCallback(), this.lastSnapshotAt + this.healthInterval - now);
  }

  /** The health timer's callback (made once, when the first timer is armed). */
  private timerCallback(): () => void {
    return (this.onTimer ??= () => {
      this.timer = null;
      this.evaluate(this.clock().now());
    });
  }

  /**
   * @internal a half-open trial succeeded: close (forgetting the old health and the rule's counts) once
   * `halfOpen.successThreshold` trials have. A slow trial (slow-call rule on) counts as a failed one.
   */
  trialSucceeded(now: number, durationMs = 0): void {
    if (this.status !== 'HALF_OPEN') return;
    if (isSlow(durationMs, this.cfg)) return this.trialFailed(now);
    if (this.trialsRunning > 0) this.trialsRunning--;
    if (!trialsClose(++this.trialSuccesses, this.cfg)) return;
    this.status = 'CLOSED';
    this.openedAt = -1;
    this.trialsRunning = 0;
    this.trialSuccesses = 0;
    this.metrics.resetHealth();
    this.rule.reset();
    this.lastSnapshotAt = now;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    this.transition('HALF_OPEN', 'CLOSED');
  }

  /** @internal a half-open trial failed (or was cancelled): open for another sleep window. */
  trialFailed(now: number): void {
    if (this.status !== 'HALF_OPEN') return;
    this.status = 'OPEN';
    this.openedAt = now;
    this.trialsRunning = 0;
    this.transition('HALF_OPEN', 'OPEN');
  }

  /**
   * @internal a trial never reached the dependency (rejected by a bulkhead or limiter, or a bad request): its slot is
   * free again. With no trial running and none succeeded, back to OPEN with the sleep window still elapsed, so the
   * next call becomes the trial. Hystrix leaves the circuit stuck half-open after a semaphore-rejected trial; this is
   * the deliberate fix.
   */
  trialReleased(): void {
    if (this.status !== 'HALF_OPEN') return;
    if (this.trialsRunning > 0) this.trialsRunning--;
    if (this.trialsRunning > 0 || this.trialSuccesses > 0) return;
    this.status = 'OPEN';
    this.transition('HALF_OPEN', 'OPEN');
  }

  private evaluate(now: number): void {
    this.lastSnapshotAt = now;
    const health = this.metrics.takeHealthSnapshot(now);
    if (this.rule.tripsOnSnapshot(health, now)) this.trip(now);
  }

  /** CLOSED → OPEN, unless the breaker is disabled or forced closed. */
  private trip(now: number): void {
    if (this.status !== 'CLOSED' || !this.cfg.enabled) return;
    if (this.manualClosed || this.cfg.forceClosed) return;
    this.status = 'OPEN';
    this.openedAt = now;
    this.transition('CLOSED', 'OPEN');
  }

  private transition(from: CircuitState, to: CircuitState): void {
    if (this.shared !== null && !this.applyingShared) this.shared.onTransition(to);
    const name = to === 'OPEN' ? 'circuitOpen' : to === 'HALF_OPEN' ? 'circuitHalfOpen' : 'circuitClosed';
    this.listener.emitCircuit(name, { commandKey: this.commandKey, from, to, health: this.metrics.healthCounts });
  }
}
