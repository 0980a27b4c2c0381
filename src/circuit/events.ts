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

/** Payload of `circuitStoreUnavailable` / `circuitStoreRecovered`. */
export interface CircuitStoreEvent {
  /** The key whose shared circuit lost (or regained) its store. */
  readonly commandKey: string;
  /** Why the store was given up (a timeout or the client's error); absent on recovery. */
  readonly error?: unknown;
}

/** Circuit events, on a command's `events` and on the global `events` emitter. */
export interface CircuitEvents {
  /** The circuit tripped (from CLOSED), or a half-open trial failed (from HALF_OPEN). */
  circuitOpen: (e: CircuitTransition) => void;
  /** The sleep window passed and one trial call was let through. */
  circuitHalfOpen: (e: CircuitTransition) => void;
  /** A trial succeeded (health counts were reset), or the breaker was reset. */
  circuitClosed: (e: CircuitTransition) => void;
  /** With `circuitBreaker.store`: the store failed or missed its deadline; this instance's breaker now acts alone. */
  circuitStoreUnavailable: (e: CircuitStoreEvent) => void;
  /** With `circuitBreaker.store`: the store answers again; the circuit is shared again. */
  circuitStoreRecovered: (e: CircuitStoreEvent) => void;
}
