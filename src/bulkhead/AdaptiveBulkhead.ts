import type { AdaptiveConfig } from '../config/options.js';
import { ADMITTED, REJECTED, type AdmissionResult, type Bulkhead } from './Bulkhead.js';
import { createLimitAlgorithm } from './adaptive/createLimitAlgorithm.js';
import type { LimitAlgorithm } from './adaptive/LimitAlgorithm.js';

/**
 * `isolation: 'adaptive'`: a semaphore whose size is an adaptive concurrency limit (concurrency-limits' `SimpleLimiter`
 * over a `Limit`). It admits while fewer than `limit` calls are in flight, never queues, and rejects as a semaphore
 * does (SEMAPHORE_REJECTED). The limit changes only through {@link AdaptiveBulkhead.sample}: the latency of calls that
 * reached the dependency, and drops (their failures and timeouts) — never its own rejections.
 */
export class AdaptiveBulkhead implements Bulkhead {
  readonly kind = 'semaphore' as const;
  private used = 0;
  private algorithm: LimitAlgorithm;

  constructor(private config: AdaptiveConfig) {
    this.algorithm = createLimitAlgorithm(config);
  }

  /** The current limit. */
  get limit(): number {
    return this.algorithm.limit;
  }

  /** Calls in flight (permits held). */
  get inUse(): number {
    return this.used;
  }

  /** The settings (a change of algorithm or numbers starts a new estimate from `initialLimit`). */
  get settings(): AdaptiveConfig {
    return this.config;
  }

  /** Applies settings after `configure()`: equal settings keep the estimate, changed ones restart it. */
  reconfigure(config: AdaptiveConfig): void {
    const old = this.config;
    this.config = config;
    for (const key of Object.keys(config) as (keyof AdaptiveConfig)[]) {
      if (old[key] !== config[key]) {
        this.algorithm = createLimitAlgorithm(config);
        return;
      }
    }
  }

  admit(): AdmissionResult {
    if (this.used >= this.algorithm.limit) return REJECTED;
    this.used++;
    return ADMITTED;
  }

  release(): void {
    if (this.used > 0) this.used--;
  }

  dequeue(): boolean {
    return false;
  }

  /**
   * One call that reached the dependency ended: `rttMs` after it started, `didDrop` for a failure or timeout.
   * `held`: its permit is still held (a timed-out run that has not settled), so it is among the calls in flight.
   */
  sample(rttMs: number, didDrop: boolean, held: boolean): void {
    this.algorithm.onSample(rttMs, held ? this.used : this.used + 1, didDrop);
  }
}
