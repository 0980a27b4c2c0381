import type { CircuitBreakerConfig } from '../../config/options.js';
import type { HealthSnapshot } from '../../metrics/HealthCounts.js';

/**
 * @internal one trip rule of a closed circuit (a strategy object, as cockatiel's breakers and resilience4j's
 * windows): it counts what it needs and says when to open. The state machine (`breakerState.ts`) decides everything
 * else — sleep window, trials, force flags — so a rule never sees OPEN or HALF_OPEN.
 */
export interface TripRule {
  /** The breaker's current settings (replaced in place when a change keeps the same kind of rule). */
  config: CircuitBreakerConfig;
  /**
   * One call that reached the dependency settled (`failed`: FAILURE or TIMEOUT) after `durationMs`; true when the
   * circuit should open now. Rules that decide on health snapshots return false here.
   */
  record(failed: boolean, durationMs: number, now: number): boolean;
  /** Whether the latest health snapshot (Hystrix's rolling time window) opens the circuit. */
  tripsOnSnapshot(health: HealthSnapshot, now: number): boolean;
  /** Forgets what was counted (the circuit closed, or was reset). */
  reset(): void;
  /**
   * True while the rule holds failures that time does not clear (a count window, failures in a row): the key is kept
   * past `keyExpiry` then, since a fresh rule would have forgotten them.
   */
  readonly keepsKey: boolean;
}

/** @internal integer percentage with Hystrix's truncation, 0 of nothing. */
export function percentOf(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.floor((part * 100) / whole);
}
