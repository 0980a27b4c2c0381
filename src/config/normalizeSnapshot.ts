import type { CircuitState } from '../circuit/breakerState.js';
import type { CircuitBreakerSnapshot } from '../circuit/CircuitBreakerSnapshot.js';
import { configError } from '../errors.js';
import type { HealthSnapshot } from '../metrics/HealthCounts.js';
import { expectNumber, expectObject, expectOneOf, readKnown } from './validate.js';

const SNAPSHOT_KEYS = ['commandKey', 'state', 'openedAt', 'sleepWindow', 'health', 'takenAt'];
const STATES: readonly CircuitState[] = ['CLOSED', 'OPEN', 'HALF_OPEN'];

/**
 * @internal validates a snapshot given as `circuitBreaker.initialState` (e.g. parsed from JSON) and returns a frozen
 * copy. Only `state` is required, and `openedAt` whenever the state is not CLOSED.
 */
export function normalizeSnapshot(value: unknown, path: string): CircuitBreakerSnapshot {
  const raw = readKnown(value, path, SNAPSHOT_KEYS);
  const state = expectOneOf(raw.state, `${path}.state`, STATES);
  let openedAt: number | null = null;
  if (state !== 'CLOSED' || (raw.openedAt !== undefined && raw.openedAt !== null)) {
    if (raw.openedAt === undefined || raw.openedAt === null) {
      throw configError(`${path}.openedAt`, `an epoch time in ms when state is '${state}'`, raw.openedAt, 'type');
    }
    openedAt = expectNumber(raw.openedAt, `${path}.openedAt`, { min: 0, unit: 'epoch ms' });
  }
  const commandKey = raw.commandKey === undefined ? '' : raw.commandKey;
  if (typeof commandKey !== 'string') throw configError(`${path}.commandKey`, 'a string', commandKey, 'type');
  const sleepWindow = raw.sleepWindow === undefined ? 0 : expectNumber(raw.sleepWindow, `${path}.sleepWindow`, { min: 0, unit: 'ms' });
  const takenAt = raw.takenAt === undefined ? 0 : expectNumber(raw.takenAt, `${path}.takenAt`, { min: 0, unit: 'epoch ms' });
  let health: HealthSnapshot = { requestCount: 0, errorCount: 0, errorPercentage: 0 };
  if (raw.health !== undefined) {
    const h = expectObject(raw.health, `${path}.health`);
    const n = (k: 'requestCount' | 'errorCount' | 'errorPercentage', max = Infinity) =>
      h[k] === undefined ? 0 : expectNumber(h[k], `${path}.health.${k}`, { min: 0, max, integer: true });
    health = Object.freeze({ requestCount: n('requestCount'), errorCount: n('errorCount'), errorPercentage: n('errorPercentage', 100) });
  }
  return Object.freeze({ commandKey, state, openedAt, sleepWindow, health, takenAt });
}
