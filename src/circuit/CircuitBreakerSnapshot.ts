import type { HealthSnapshot } from '../metrics/HealthCounts.js';
import type { CircuitState } from './breakerState.js';

/**
 * A circuit breaker's state as plain JSON, from {@link CircuitBreaker.toJSON}: meaningful in another process (times
 * are wall-clock epoch ms), so it can be stored and given back as `circuitBreaker: { initialState }` after a
 * restart or a serverless cold start.
 *
 * @example
 * ```ts
 * const saved = JSON.stringify(circuitBreakerFor('GetUser'));   // toJSON() is called by JSON.stringify
 * // … in the next process:
 * command({ key: 'GetUser', run, circuitBreaker: { initialState: JSON.parse(saved) } });
 * ```
 * @see docs/circuit-breaker.md, "State that survives a restart"
 */
export interface CircuitBreakerSnapshot {
  /** The command key it was taken from (informational: a snapshot may seed another key). */
  readonly commandKey: string;
  /** The state machine's state (force flags are configuration, not state, and are not part of a snapshot). */
  readonly state: CircuitState;
  /** When the circuit last opened, wall-clock epoch ms; `null` while CLOSED. */
  readonly openedAt: number | null;
  /** The sleep window (ms) the breaker had; the restoring breaker uses its own `sleepWindow`. */
  readonly sleepWindow: number;
  /** The health counts of the latest snapshot (informational: they are not replayed into the new window). */
  readonly health: HealthSnapshot;
  /** When the snapshot was taken, wall-clock epoch ms. */
  readonly takenAt: number;
}

/**
 * @internal where on the monotonic clock an opening at wall time `openedAtEpoch` lies, given one reading of both
 * clocks. An opening "in the future" (the other host's clock runs ahead) is taken as now: the full sleep window
 * remains, never more.
 */
export function monotonicFromEpoch(openedAtEpoch: number, now: number, wallNow: number): number {
  return now - Math.max(0, wallNow - openedAtEpoch);
}
