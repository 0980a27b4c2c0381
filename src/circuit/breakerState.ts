import type { CircuitBreakerConfig } from '../config/options.js';
import type { HealthSnapshot } from '../metrics/HealthCounts.js';

/** The circuit's state as the dashboard and `circuitBreakerFor(key).state` report it. */
export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/**
 * Pure rules of the breaker's state machine (Hystrix 1.5's, with several half-open trials). No clock, no I/O: every
 * function takes `now` and returns a decision. What trips a closed circuit is the strategy's (`strategies/`).
 */

/** Whether a health snapshot trips a closed circuit: volume AND error percentage, both inclusive. */
export function shouldTrip(health: HealthSnapshot, config: CircuitBreakerConfig): boolean {
  return (
    health.requestCount >= config.requestVolumeThreshold &&
    health.errorPercentage >= config.errorThresholdPercentage
  );
}

/**
 * Whether an open circuit's sleep window has passed (strictly, as Hystrix's `now > openedAt + sleepWindow`). A clock
 * that stepped back past the opening counts as elapsed, so the circuit cannot stay open for the size of the step.
 */
export function sleepWindowElapsed(openedAt: number, now: number, config: CircuitBreakerConfig): boolean {
  return now > openedAt + config.sleepWindow || now < openedAt;
}

/** What an attempt may do: run normally, run as a half-open trial, or be short-circuited. */
export const ADMIT = 0;
/** @see ADMIT */
export const ADMIT_TRIAL = 1;
/** @see ADMIT */
export const REFUSE = 2;
/** @internal */
export type Admission = typeof ADMIT | typeof ADMIT_TRIAL | typeof REFUSE;

/** Whether `successes` successful half-open trials close the circuit (`halfOpen.successThreshold`). */
export function trialsClose(successes: number, config: CircuitBreakerConfig): boolean {
  return successes >= config.halfOpen.successThreshold;
}

/**
 * Decides one attempt from the state, the force flags, the time and the trials running: an open circuit whose sleep
 * window passed admits a trial, and a half-open one admits trials while fewer than `halfOpen.permittedCalls` run.
 */
export function admission(
  state: CircuitState,
  openedAt: number,
  config: CircuitBreakerConfig,
  forcedOpen: boolean,
  forcedClosed: boolean,
  now: number,
  trialsRunning = 0,
): Admission {
  if (forcedOpen) return REFUSE; // wins over everything, also over enabled: false (Hystrix ignores it there)
  if (!config.enabled) return ADMIT;
  if (forcedClosed) return ADMIT;
  if (state === 'CLOSED') return ADMIT;
  if (state === 'HALF_OPEN') return trialsRunning < config.halfOpen.permittedCalls ? ADMIT_TRIAL : REFUSE;
  return sleepWindowElapsed(openedAt, now, config) ? ADMIT_TRIAL : REFUSE;
}
