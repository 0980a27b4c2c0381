import type { CircuitBreakerConfig } from '../../config/options.js';
import { percentOf } from './TripRule.js';

/**
 * @internal resilience4j's slow-call rule: a call that took at least `slowCallDuration` ms is slow (failed or
 * not, as resilience4j counts `slowCalls`), and `slowCallRateThreshold` percent of slow calls trips the circuit.
 */
export function isSlow(durationMs: number, config: CircuitBreakerConfig): boolean {
  return config.slowCallDuration !== false && durationMs >= config.slowCallDuration;
}

/** @internal whether `slow` of `calls` reaches the slow-call rate (only with the rule on and some calls). */
export function slowRateReached(slow: number, calls: number, config: CircuitBreakerConfig): boolean {
  return config.slowCallDuration !== false && calls > 0 && percentOf(slow, calls) >= config.slowCallRateThreshold;
}
