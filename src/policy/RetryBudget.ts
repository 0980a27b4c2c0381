import type { RetryBudgetConfig } from '../config/options.js';
import { RollingCounter } from '../metrics/RollingCounter.js';

const FIRST = 0;
const EXTRA = 1;

/**
 * A retry budget (Finagle's `RetryBudget`, Envoy's `retry_budget`): over the key's rolling window, extra attempts
 * (retries and hedges) are allowed only while `extra ≤ ratio × first attempts + minPerSecond × window seconds`.
 * During an outage every first attempt fails, so the load on the dependency is at most
 * `(1 + ratio) × calls + minPerSecond` per second, never `maxAttempts × calls`.
 *
 * One per command key, created when `retry` or `hedge` is first used; time is passed in.
 *
 * @internal
 */
export class RetryBudget {
  private readonly counts: RollingCounter;
  private readonly windowSeconds: number;

  constructor(
    public config: RetryBudgetConfig | false,
    windowMs: number,
    buckets: number,
  ) {
    this.counts = new RollingCounter(2, windowMs, buckets);
    this.windowSeconds = windowMs / 1000;
  }

  /** An execution made its first attempt. */
  deposit(now: number): void {
    this.counts.add(FIRST, now);
  }

  /** Whether one more extra attempt fits: `extra + 1 ≤ ratio × first + minPerSecond × window seconds`. */
  allows(now: number): boolean {
    const config = this.config;
    if (config === false) return true;
    const allowed = config.ratio * this.counts.sum(FIRST, now) + config.minPerSecond * this.windowSeconds;
    return this.counts.sum(EXTRA, now) + 1 <= allowed;
  }

  /** Counts one extra attempt (after {@link RetryBudget.allows} said yes). */
  withdraw(now: number): void {
    this.counts.add(EXTRA, now);
  }

  /** Takes one extra attempt from the budget if it allows one; false leaves it unchanged. */
  tryWithdraw(now: number): boolean {
    if (!this.allows(now)) return false;
    this.withdraw(now);
    return true;
  }

  /** First attempts and extra attempts in the window ending at `now` (for tests and docs). */
  counted(now: number): { readonly first: number; readonly extra: number } {
    return { first: this.counts.sum(FIRST, now), extra: this.counts.sum(EXTRA, now) };
  }
}
