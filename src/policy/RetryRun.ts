import type { RetryConfig } from '../config/options.js';
import type { DeadlineList, DeadlineNode } from '../time/Deadlines.js';
import type { RetryBudget } from './RetryBudget.js';
import { retryBackoff } from './retryBackoff.js';

/** @internal what a retry needs from the execution it belongs to. */
export interface RetryHost {
  /** The backoff is over: start the next attempt (circuit check, bulkhead, run). */
  retryNow(): void;
}

/**
 * The retry state of one execution, created at its first failure (a call that succeeds at once never builds one).
 * It is also the backoff's node in the shared deadline timer, so a wait allocates nothing more and starts no timer
 * of its own.
 *
 * @internal
 */
export class RetryRun implements DeadlineNode {
  deadlineAt = 0;
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlList: DeadlineList | null = null;
  /** The caller waits on the backoff alone: it keeps the process alive (see {@link DeadlineNode.keepAlive}). */
  readonly keepAlive = true as const;
  /** Attempts started so far. */
  attempts = 1;
  /** The wait before the latest retry (ms), for decorrelated jitter. */
  private lastWaitMs = 0;
  /** The latest attempt's failure: what the execution ends with if no retry follows. */
  lastError: unknown = undefined;

  constructor(private readonly host: RetryHost) {}

  /**
   * Decides whether the attempt that just failed with `error` is retried, and after how long. Returns the wait in
   * whole ms, or -1: no attempts left, `retryOn` said no (or threw), the wait would end at or past the deadline
   * (`deadlineAt`, Infinity without a timeout), or the budget is spent. A retry is taken from the budget only when
   * everything else allows it.
   */
  plan(config: RetryConfig, error: unknown, now: number, deadlineAt: number, budget: RetryBudget, random: () => number): number {
    this.lastError = error;
    if (this.attempts >= config.maxAttempts) return -1;
    if (config.retryOn !== undefined) {
      let again: unknown;
      try {
        again = config.retryOn(error, this.attempts);
      } catch {
        return -1; // a throwing predicate ends the retries; the failure goes to the fallback as it is
      }
      if (!again) return -1;
    }
    const wait = Math.round(retryBackoff(config.backoff, this.attempts, this.lastWaitMs, random));
    if (now + wait >= deadlineAt) return -1;
    if (!budget.tryWithdraw(now)) return -1;
    this.attempts++;
    this.lastWaitMs = wait;
    return wait;
  }

  onDeadline(): void {
    this.host.retryNow();
  }
}
