import type { HealthSnapshot } from '../metrics/HealthCounts.js';
import type { CircuitState } from './breakerState.js';

/** Payload of a circuit transition. */
export interface CircuitTransition {
  readonly commandKey: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** The health counts the decision was made on. */
  readonly health: HealthSnapshot;
}

/** Circuit events, on a command's `events` and on the global `events` emitter. */
export interface CircuitEvents {
  /** The circuit tripped (from CLOSED), or a half-open trial failed (from HALF_OPEN). */
  circuitOpen: (e: CircuitTransition) => void;
  /** The sleep window passed and one trial call was let through. */
  circuitHalfOpen: (e: CircuitTransition) => void;
  /** A trial succeeded (health counts were reset), or the breaker was reset. */
  circuitClosed: (e: CircuitTransition) => void;
}
