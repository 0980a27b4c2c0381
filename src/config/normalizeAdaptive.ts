import { configError } from '../errors.js';
import type { AdaptiveAlgorithm, AdaptiveConfig, AdaptiveOptions } from './options.js';
import { expectNumber, expectOneOf, readKnown } from './validate.js';

/** concurrency-limits v0.5.4's builder defaults, per algorithm (AIMDLimit, VegasLimit, Gradient2Limit). */
export const ADAPTIVE_DEFAULTS: Readonly<Record<AdaptiveAlgorithm, AdaptiveConfig>> = Object.freeze({
  aimd: Object.freeze({ ...common('aimd'), minLimit: 20, maxLimit: 200 }),
  vegas: Object.freeze({ ...common('vegas'), minLimit: 1, maxLimit: 1000, smoothing: 1 }),
  gradient2: Object.freeze({ ...common('gradient2'), minLimit: 20, maxLimit: 200, smoothing: 0.2 }),
});

function common(algorithm: AdaptiveAlgorithm): AdaptiveConfig {
  return {
    algorithm,
    initialLimit: 20,
    minLimit: 20,
    maxLimit: 200,
    backoffRatio: 0.9,
    timeout: 5000,
    smoothing: 1,
    probeMultiplier: 30,
    queueSize: 4,
    longWindow: 600,
    rttTolerance: 1.5,
  };
}

const KEYS = Object.keys(ADAPTIVE_DEFAULTS.aimd);
const LIMIT = { min: 1, max: 1_000_000, integer: true };

/** @internal validates an `adaptive` options object (partial). */
export function normalizeAdaptive(value: unknown, path: string): AdaptiveOptions {
  const raw = readKnown(value, path, KEYS);
  const out: Record<string, unknown> = {};
  const at = (key: string) => (path === '' ? key : `${path}.${key}`);
  if ('algorithm' in raw) out.algorithm = expectOneOf(raw.algorithm, at('algorithm'), ['aimd', 'vegas', 'gradient2'] as const);
  for (const key of ['initialLimit', 'minLimit', 'maxLimit']) if (key in raw) out[key] = expectNumber(raw[key], at(key), LIMIT);
  if ('backoffRatio' in raw) {
    const v = expectNumber(raw.backoffRatio, at('backoffRatio'), { min: 0.5, max: 1 });
    if (v === 1) throw configError(at('backoffRatio'), 'a finite number from 0.5 up to (not including) 1', v, 'range');
    out.backoffRatio = v;
  }
  if ('timeout' in raw) out.timeout = expectNumber(raw.timeout, at('timeout'), { min: 1, max: 2 ** 31 - 1, unit: 'ms' });
  if ('smoothing' in raw) {
    const v = expectNumber(raw.smoothing, at('smoothing'), { min: 0, max: 1 });
    if (v === 0) throw configError(at('smoothing'), 'a finite number above 0 and at most 1', v, 'range');
    out.smoothing = v;
  }
  if ('probeMultiplier' in raw) out.probeMultiplier = expectNumber(raw.probeMultiplier, at('probeMultiplier'), LIMIT);
  if ('queueSize' in raw) out.queueSize = expectNumber(raw.queueSize, at('queueSize'), { min: 0, max: 1_000_000 });
  if ('longWindow' in raw) out.longWindow = expectNumber(raw.longWindow, at('longWindow'), LIMIT);
  if ('rttTolerance' in raw) out.rttTolerance = expectNumber(raw.rttTolerance, at('rttTolerance'), { min: 1, max: 1000 });
  return Object.freeze(out) as AdaptiveOptions;
}

/** @internal the algorithm's defaults under the merged options; checks minLimit ≤ initialLimit ≤ maxLimit. */
export function resolveAdaptive(options: AdaptiveOptions | undefined, path: string): AdaptiveConfig {
  // most keys have no adaptive options: they share the frozen defaults (a copy per key cost ~190 B of every key)
  if (options === undefined) return ADAPTIVE_DEFAULTS.vegas;
  const algorithm = options.algorithm ?? 'vegas';
  const config = Object.freeze({ ...ADAPTIVE_DEFAULTS[algorithm], ...options, algorithm });
  if (config.minLimit > config.maxLimit) throw configError(`${path}.minLimit`, `at most maxLimit (${config.maxLimit})`, config.minLimit, 'range');
  if (config.initialLimit < config.minLimit || config.initialLimit > config.maxLimit) {
    throw configError(`${path}.initialLimit`, `between minLimit (${config.minLimit}) and maxLimit (${config.maxLimit})`, config.initialLimit, 'range');
  }
  return config;
}
