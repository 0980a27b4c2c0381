import { nodeCrypto } from '../internal/lazyModules.js';
import type { Clock } from '../time/Clock.js';
import type { BreakerStore, SharedCircuitState, TrialAnswer } from './BreakerStore.js';
import type { CircuitState } from './breakerState.js';
import { monotonicFromEpoch } from './CircuitBreakerSnapshot.js';

/** While the store is away, it is probed at most this often (ms), on the next call that would be a trial. */
const PROBE_INTERVAL_MS = 1000;
/** An instance waiting for the fleet's trial asks for the lock at most this often (ms). */
const LOCK_RETRY_MS = 250;
/** An OPEN record outlives the sleep window by this much (ms), so a fleet that stops leaves nothing behind. */
const RECORD_SLACK_MS = 120_000;

/** @internal what the shared circuit needs of its breaker. */
export interface SharedCircuitHost {
  readonly commandKey: string;
  readonly sleepWindow: number;
  /** The opening as wall-clock epoch ms (`null` while CLOSED). */
  openedAtEpoch(): number | null;
  /** Applies a state another instance published (no event is re-published). */
  applyShared(open: boolean, openedAt: number): void;
  /** Reports the store going away or coming back. */
  storeStatus(available: boolean, error?: unknown): void;
}

/**
 * @internal one circuit for the fleet, beside a local {@link CircuitBreaker}: an opening is published (with its
 * wall-clock opened-at) and every instance watching the key opens too; after the sleep window only the instance that
 * holds the trial lock lets its trial through, and the trial's result (published) closes or re-opens every instance.
 * Health is counted by each instance alone. With the store unavailable the breaker acts alone until a probe answers.
 */
export class SharedCircuit {
  /** This instance, as `origin` of what it publishes. */
  readonly id = nodeCrypto().randomUUID();
  available = true;
  private lockHeld = false;
  private lockInFlight = false;
  /**
   * Counts the circuit's changes (its own transitions and what the fleet tells it). A lock answer that comes back
   * after a change belongs to a circuit that no longer exists: it is released, not kept.
   */
  private generation = 0;
  /** How many lock requests in a row, in this generation, found no open record in the fleet. */
  private notOpenAnswers = 0;
  private nextLockAt = 0;
  private nextProbeAt = 0;
  private readonly unwatch: () => void;

  constructor(
    private readonly host: SharedCircuitHost,
    private readonly store: BreakerStore,
    private readonly clock: () => Clock,
  ) {
    this.unwatch = store.watchCircuit(host.commandKey, (state) => this.received(state), () => this.read());
    this.read(); // the state the fleet is in now (the subscriber's first 'ready' reads again)
  }

  /** Stops listening (the breaker was dropped). */
  close(): void {
    this.unwatch();
  }

  /**
   * Whether this instance may start the half-open trial now: it holds the fleet's trial lock, or the store is
   * away (then the breaker acts alone). Otherwise it asks for the lock in the background and answers false.
   */
  mayStartTrial(now: number): boolean {
    if (!this.available) {
      if (now >= this.nextProbeAt) {
        this.nextProbeAt = now + PROBE_INTERVAL_MS;
        this.read();
      }
      return true;
    }
    if (this.lockHeld) return true;
    // Twice in a row the fleet had no open record: this opening was never shared (the store was away when it
    // happened) or the record expired with an idle fleet. Nobody else runs a trial for it: run one here. (Once is
    // not enough: the answer may have crossed a CLOSED on its way from the instance whose trial just succeeded.)
    if (this.notOpenAnswers >= 2) return true;
    if (!this.lockInFlight && now >= this.nextLockAt) {
      this.nextLockAt = now + LOCK_RETRY_MS;
      this.lockInFlight = true;
      const generation = this.generation;
      void this.call(() => this.store.acquireTrial(this.host.commandKey, this.id)).then((answer) => this.answered(answer, generation));
    }
    return false;
  }

  private answered(answer: TrialAnswer | undefined, generation: number): void {
    this.lockInFlight = false;
    if (generation !== this.generation) {
      // the circuit changed while the request was out: a lock taken for the old one must not linger in the store
      // (nor be trusted at the next opening)
      if (answer === 'taken') void this.call(() => this.store.releaseTrial(this.host.commandKey, this.id));
      return;
    }
    if (answer === 'taken') this.lockHeld = true;
    this.notOpenAnswers = answer === 'notOpen' ? this.notOpenAnswers + 1 : 0;
  }

  /** The circuit changed (here or elsewhere): whatever was asked about the previous one no longer holds. */
  private changed(): void {
    this.generation++;
    this.lockHeld = false;
    this.notOpenAnswers = 0;
  }

  /** The local breaker changed state by itself: tell the fleet (an opening, or a trial's result). */
  onTransition(to: CircuitState): void {
    if (to === 'HALF_OPEN') return;
    this.changed();
    if (!this.available) return;
    const openedAt = to === 'OPEN' ? this.host.openedAtEpoch() : null;
    const state: SharedCircuitState = { state: to === 'OPEN' ? 'OPEN' : 'CLOSED', openedAt, origin: this.id };
    void this.call(() => this.store.publishCircuit(this.host.commandKey, state, this.host.sleepWindow + RECORD_SLACK_MS, this.id));
  }

  private received(state: SharedCircuitState): void {
    if (state.origin === this.id) return;
    this.apply(state);
  }

  private apply(state: SharedCircuitState): void {
    if (state.state === 'OPEN' && state.openedAt !== null) {
      this.changed();
      const clock = this.clock();
      this.host.applyShared(true, monotonicFromEpoch(state.openedAt, clock.now(), clock.wallTime()));
    } else if (state.state === 'CLOSED') {
      this.changed();
      this.host.applyShared(false, 0);
    }
  }

  /** Reads the fleet's record (on start, on each reconnection, and as the probe while the store is away). */
  private read(): void {
    void this.call(() => this.store.readCircuit(this.host.commandKey)).then((record) => {
      if (record !== undefined && record !== null && record.origin !== this.id) this.apply(record);
    });
  }

  /**
   * One store call under the store's deadline. A failure or a missed deadline marks the store unavailable (once,
   * with an event) and resolves `undefined`; an answer marks it available again.
   */
  private call<T>(fn: () => Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve) => {
      let settled = false;
      const timer = this.clock().setTimer(() => fail(new Error(`store call timed out after ${this.store.timeout} ms`)), this.store.timeout);
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        this.nextProbeAt = this.clock().now() + PROBE_INTERVAL_MS;
        this.lockHeld = false;
        if (this.available) {
          this.available = false;
          this.host.storeStatus(false, error);
        }
        resolve(undefined);
      };
      let pending: Promise<T>;
      try {
        pending = fn();
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then((value) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (!this.available) {
          this.available = true;
          this.host.storeStatus(true);
        }
        resolve(value);
      }, fail);
    });
  }
}
