import type { CircuitBreaker } from '../circuit/CircuitBreaker.js';
import type { CommandMetrics } from '../metrics/CommandMetrics.js';
import { allRuntimes, existingRuntime } from './CommandRuntime.js';

function runtimeOrThrow(key: string, what: string) {
  const rt = existingRuntime(key);
  if (rt === undefined) {
    throw new RangeError(`breakwater: ${what}('${key}'): no command with key '${key}' has been created`);
  }
  return rt;
}

/**
 * The circuit breaker of a command key (created with the first command of that key).
 *
 * @example
 * ```ts
 * circuitBreakerFor('GetUser').state;        // 'CLOSED' | 'OPEN' | 'HALF_OPEN'
 * circuitBreakerFor('GetUser').forceOpen();
 * ```
 * @throws RangeError when no command with that key exists yet.
 */
export function circuitBreakerFor(key: string): CircuitBreaker {
  return runtimeOrThrow(key, 'circuitBreakerFor').breaker;
}

/**
 * The metrics of a command key; `snapshot()` gives a plain, JSON-serialisable view.
 *
 * @example
 * ```ts
 * const { rolling, health, latencyTotal } = metricsFor('GetUser').snapshot();
 * ```
 * @throws RangeError when no command with that key exists yet.
 */
export function metricsFor(key: string): CommandMetrics {
  return runtimeOrThrow(key, 'metricsFor').metrics;
}

/** The keys of every command created so far. */
export function commandKeys(): string[] {
  return allRuntimes().map((rt) => rt.config.key);
}
