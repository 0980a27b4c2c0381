import type { HealthSnapshot } from '../metrics/HealthCounts.js';
import type { CircuitState } from './breakerState.js';

/** Payload of a circuit transition. */
export interface CircuitTransition {
  /** The key whose circuit changed. */
  readonly commandKey: string;
  /** The state before. */
  readonly from: CircuitState;
  /** The state now. */
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
