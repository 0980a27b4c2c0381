import type { CircuitBreakerConfig } from '../../config/options.js';
import { isSlow, slowRateReached } from './slowCall.js';
import { percentOf, type TripRule } from './TripRule.js';

const FAILED = 1;
const SLOW = 2;

/**
 * `strategy: 'countWindow'` (resilience4j's COUNT_BASED sliding window): the outcomes of the last `windowSize`
 * calls in a ring; once it holds at least `min(minimumCalls, windowSize)` calls, it opens at the outcome that brings
 * the failure rate to `errorThresholdPercentage` or (with `slowCallDuration`) the slow-call rate to
 * `slowCallRateThreshold`. Time plays no part: a quiet dependency keeps its last `windowSize` outcomes.
 */
export class CountWindowRule implements TripRule {
  private readonly ring: Uint8Array;
  private next = 0;
  private size = 0;
  private failures = 0;
  private slowCalls = 0;

  constructor(public config: CircuitBreakerConfig) {
    this.ring = new Uint8Array(config.windowSize);
  }

  record(failed: boolean, durationMs: number): boolean {
    const ring = this.ring;
    const i = this.next;
    if (this.size === ring.length) {
      const old = ring[i]!; // the oldest outcome leaves the window
      if ((old & FAILED) !== 0) this.failures--;
      if ((old & SLOW) !== 0) this.slowCalls--;
    } else this.size++;
    const slow = isSlow(durationMs, this.config);
    ring[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slowCalls++;
    this.next = i + 1 === ring.length ? 0 : i + 1;
    const cfg = this.config;
    if (this.size < Math.min(cfg.minimumCalls, ring.length)) return false;
    return percentOf(this.failures, this.size) >= cfg.errorThresholdPercentage || slowRateReached(this.slowCalls, this.size, cfg);
  }

  tripsOnSnapshot(): boolean {
    return false;
  }

  get keepsKey(): boolean {
    return this.failures + this.slowCalls > 0;
  }

  reset(): void {
    this.ring.fill(0);
    this.next = 0;
    this.size = 0;
    this.failures = 0;
    this.slowCalls = 0;
  }

  /** Calls, failures and slow calls the window holds now. */
  get counts(): { readonly calls: number; readonly failures: number; readonly slow: number } {
    return { calls: this.size, failures: this.failures, slow: this.slowCalls };
  }
}
