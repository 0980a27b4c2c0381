import type { CircuitBreakerConfig, MetricsConfig } from '../../config/options.js';
import type { HealthSnapshot } from '../../metrics/HealthCounts.js';
import { rollingBucketsOf, rollingWindowOf } from '../../metrics/ReadWindow.js';
import { RollingCounter } from '../../metrics/RollingCounter.js';
import { shouldTrip } from '../breakerState.js';
import { isSlow, slowRateReached } from './slowCall.js';
import type { TripRule } from './TripRule.js';

const CALLS = 0;
const SLOW = 1;

/**
 * `strategy: 'errorPercentage'`, Hystrix's rule and the default: on a health snapshot, at least
 * `requestVolumeThreshold` requests and at least `errorThresholdPercentage` percent errors in the rolling window.
 * With `slowCallDuration` set it also opens when, over the same time window, at least `requestVolumeThreshold` calls
 * reached the dependency and `slowCallRateThreshold` percent of them were slow; only then does it keep a counter.
 */
export class ErrorPercentageRule implements TripRule {
  /** calls that reached the dependency, and the slow ones, over the rolling window (slow-call rule only). */
  private readonly slow: RollingCounter | null;

  constructor(
    public config: CircuitBreakerConfig,
    metrics: MetricsConfig,
  ) {
    this.slow = config.slowCallDuration === false ? null : new RollingCounter(2, rollingWindowOf(metrics), rollingBucketsOf(metrics));
  }

  record(_failed: boolean, durationMs: number, now: number): boolean {
    if (this.slow !== null) this.countCall(this.slow, durationMs, now);
    return false;
  }

  /** The slow-call rule's counts (out of line: a rule without it records a success with one check, inlined). */
  private countCall(slow: RollingCounter, durationMs: number, now: number): void {
    const at = slow.offsetAt(now);
    slow.bump(at, CALLS, 1);
    if (isSlow(durationMs, this.config)) slow.bump(at, SLOW, 1);
  }

  tripsOnSnapshot(health: HealthSnapshot, now: number): boolean {
    if (shouldTrip(health, this.config)) return true;
    const slow = this.slow;
    if (slow === null) return false;
    const calls = slow.sum(CALLS, now);
    return calls >= this.config.requestVolumeThreshold && slowRateReached(slow.sum(SLOW, now), calls, this.config);
  }

  reset(): void {
    this.slow?.reset();
  }

  /** Its counts live in time windows that an idle key has outlived. */
  get keepsKey(): boolean {
    return false;
  }
}
