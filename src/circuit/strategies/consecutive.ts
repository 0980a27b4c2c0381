import type { CircuitBreakerConfig } from '../../config/options.js';
import type { TripRule } from './TripRule.js';

/**
 * `strategy: 'consecutive'` (cockatiel's `ConsecutiveBreaker`): opens at the `consecutiveFailures`-th failure in
 * a row, at that outcome; any success starts the count again. `requestVolumeThreshold` and the error percentage
 * play no part.
 */
export class ConsecutiveRule implements TripRule {
  private failures = 0;

  constructor(public config: CircuitBreakerConfig) {}

  record(failed: boolean): boolean {
    if (!failed) {
      this.failures = 0;
      return false;
    }
    return ++this.failures >= this.config.consecutiveFailures;
  }

  tripsOnSnapshot(): boolean {
    return false;
  }

  reset(): void {
    this.failures = 0;
  }

  get keepsKey(): boolean {
    return this.failures > 0;
  }

  /** Failures in a row so far. */
  get count(): number {
    return this.failures;
  }
}
