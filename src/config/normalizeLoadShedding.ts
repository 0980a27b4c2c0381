import { MAX_TIMEOUT_MS } from './defaults.js';
import { expectNumber, readKnown } from './validate.js';
import { configError } from '../errors.js';
import type { LoadSheddingConfig, LoadSheddingLevel, SheddablePriority } from './options.js';

const KEYS = ['maxEventLoopDelay', 'recoverEventLoopDelay', 'sampleInterval', 'retryAfter', 'priorities'];
const BOUND_KEYS = ['maxEventLoopDelay', 'recoverEventLoopDelay'];
/** The largest delay bound a priority level may be given, ms (ten minutes). */
const MAX_BOUND_MS = 600_000;

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
  const low: LoadSheddingLevel = Object.freeze({ priority: 'low', maxEventLoopDelay, recoverEventLoopDelay: recover });
  const priorities = raw.priorities === undefined ? {} : readKnown(raw.priorities, `${path}.priorities`, ['normal', 'high']);
  const ratio = recover / maxEventLoopDelay;
  const normal = level('normal', priorities.normal, low, ratio, `${path}.priorities.normal`);
  const high = level('high', priorities.high, normal, ratio, `${path}.priorities.high`);
  return Object.freeze({ maxEventLoopDelay, recoverEventLoopDelay: recover, sampleInterval, retryAfter, levels: Object.freeze([low, normal, high] as const) });
}

/**
 * One priority level above `below`: given bounds validated, or derived (twice the bound below, recovering at the
 * same fraction of its bound as 'low'). Bounds strictly rise and recovery bounds never fall from one level to the
 * next, so the levels being shed are always the lowest ones (see SheddingState).
 */
function level(priority: SheddablePriority, value: unknown, below: LoadSheddingLevel, ratio: number, path: string): LoadSheddingLevel {
  if (value === undefined) {
    const max = 2 * below.maxEventLoopDelay;
    return Object.freeze({ priority, maxEventLoopDelay: max, recoverEventLoopDelay: max * ratio });
  }
  const raw = readKnown(value, path, BOUND_KEYS);
  const max = expectNumber(raw.maxEventLoopDelay, `${path}.maxEventLoopDelay`, { min: 1, max: MAX_BOUND_MS, unit: 'ms' });
  if (max <= below.maxEventLoopDelay) {
    throw configError(`${path}.maxEventLoopDelay`, `above the '${below.priority}' priority's maxEventLoopDelay (${below.maxEventLoopDelay} ms)`, max, 'range');
  }
  const recover = raw.recoverEventLoopDelay === undefined ? max * ratio : expectNumber(raw.recoverEventLoopDelay, `${path}.recoverEventLoopDelay`, { min: 0, max: MAX_BOUND_MS, unit: 'ms' });
  if (recover >= max) throw configError(`${path}.recoverEventLoopDelay`, `below its maxEventLoopDelay (${max} ms)`, recover, 'range');
  if (recover < below.recoverEventLoopDelay) {
    throw configError(
      `${path}.recoverEventLoopDelay`,
      `at or above the '${below.priority}' priority's recoverEventLoopDelay (${below.recoverEventLoopDelay} ms)`,
      recover,
      'range',
      'a priority must not be served again before a lower one is',
    );
  }
  return Object.freeze({ priority, maxEventLoopDelay: max, recoverEventLoopDelay: recover });
}
