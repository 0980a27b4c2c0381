import { MAX_TIMEOUT_MS } from './defaults.js';
import { expectNumber, readKnown } from './validate.js';
import { configError } from '../errors.js';
import type { LoadSheddingConfig } from './options.js';

const KEYS = ['maxEventLoopDelay', 'recoverEventLoopDelay', 'sampleInterval', 'retryAfter'];

/** @internal validates `configure({ loadShedding })` into a frozen config, or `false`. */
export function normalizeLoadShedding(value: unknown, path = 'loadShedding'): LoadSheddingConfig | false {
  if (value === false) return false;
  const raw = readKnown(value, path, KEYS);
  const maxEventLoopDelay = expectNumber(raw.maxEventLoopDelay, `${path}.maxEventLoopDelay`, { min: 1, max: 60_000, unit: 'ms' });
  const recover = raw.recoverEventLoopDelay === undefined ? maxEventLoopDelay / 2 : expectNumber(raw.recoverEventLoopDelay, `${path}.recoverEventLoopDelay`, { min: 0, max: 60_000, unit: 'ms' });
  if (recover >= maxEventLoopDelay) {
    throw configError(`${path}.recoverEventLoopDelay`, `below maxEventLoopDelay (${maxEventLoopDelay} ms)`, recover, 'range');
  }
  const sampleInterval = raw.sampleInterval === undefined ? 100 : expectNumber(raw.sampleInterval, `${path}.sampleInterval`, { min: 10, max: MAX_TIMEOUT_MS, integer: true, unit: 'ms' });
  const retryAfter = raw.retryAfter === undefined ? 1 : expectNumber(raw.retryAfter, `${path}.retryAfter`, { min: 0, max: 86_400, integer: true, unit: 's' });
  return Object.freeze({ maxEventLoopDelay, recoverEventLoopDelay: recover, sampleInterval, retryAfter });
}
