import { configError } from '../errors.js';
import { MAX_TIMEOUT_MS, RETRY_BACKOFF_DEFAULTS, RETRY_BUDGET_DEFAULTS, RETRY_DEFAULTS } from '../config/defaults.js';
import type { HedgeConfig, HedgeOptions, RetryBudgetConfig, RetryConfig, RetryJitter, RetryOptions } from '../config/options.js';
import { expectFunction, expectNumber, expectOneOf, readKnown } from '../config/validate.js';

const JITTERS: readonly RetryJitter[] = ['full', 'equal', 'decorrelated', 'none'];
const PERCENTILES = ['p50', 'p90', 'p95', 'p99'] as const;

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** @internal validates a `retry` option layer (partial; `false` turns retries off). */
export function normalizeRetry(value: unknown, path: string): RetryOptions | false {
  if (value === false) return false;
  const raw = readKnown(value, path, ['maxAttempts', 'backoff', 'retryOn', 'budget']);
  const out: Record<string, unknown> = {};
  if ('maxAttempts' in raw) out.maxAttempts = expectNumber(raw.maxAttempts, join(path, 'maxAttempts'), { min: 1, max: 100, integer: true });
  if ('retryOn' in raw) out.retryOn = expectFunction(raw.retryOn, join(path, 'retryOn'));
  if ('backoff' in raw) {
    const at = join(path, 'backoff');
    const b = readKnown(raw.backoff, at, Object.keys(RETRY_BACKOFF_DEFAULTS));
    const backoff: Record<string, unknown> = {};
    for (const key of ['initial', 'max'])
      if (key in b) backoff[key] = expectNumber(b[key], join(at, key), { min: 0, max: MAX_TIMEOUT_MS, unit: 'ms' });
    if ('multiplier' in b) backoff.multiplier = expectNumber(b.multiplier, join(at, 'multiplier'), { min: 1, max: 1000 });
    if ('jitter' in b) backoff.jitter = expectOneOf(b.jitter, join(at, 'jitter'), JITTERS);
    out.backoff = Object.freeze(backoff);
  }
  if ('budget' in raw) {
    const at = join(path, 'budget');
    if (raw.budget === false) out.budget = false;
    else {
      const b = readKnown(raw.budget, at, Object.keys(RETRY_BUDGET_DEFAULTS));
      const budget: Record<string, unknown> = {};
      if ('ratio' in b) budget.ratio = expectNumber(b.ratio, join(at, 'ratio'), { min: 0, max: 100 });
      if ('minPerSecond' in b) budget.minPerSecond = expectNumber(b.minPerSecond, join(at, 'minPerSecond'), { min: 0, max: 1_000_000, unit: 'retries per second' });
      out.budget = Object.freeze(budget);
    }
  }
  return Object.freeze(out) as RetryOptions;
}

/** @internal merges a validated `retry` layer over the resolved one (fields of `backoff` and `budget` one by one). */
export function mergeRetry(current: RetryConfig | false, layer: RetryOptions | false): RetryConfig | false {
  if (layer === false) return false;
  const base = current === false ? RETRY_DEFAULTS : current;
  let budget: RetryBudgetConfig | false = base.budget;
  if (layer.budget === false) budget = false;
  else if (layer.budget !== undefined) budget = { ...(budget === false ? RETRY_BUDGET_DEFAULTS : budget), ...layer.budget };
  return {
    maxAttempts: layer.maxAttempts ?? base.maxAttempts,
    backoff: layer.backoff === undefined ? base.backoff : { ...base.backoff, ...layer.backoff },
    retryOn: layer.retryOn ?? base.retryOn,
    budget,
  };
}

/** @internal checks the merged `retry` (backoff.max ≥ backoff.initial) and freezes it. */
export function finishRetry(retry: RetryConfig | false, where: string): RetryConfig | false {
  if (retry === false) return false;
  const { backoff } = retry;
  if (backoff.max < backoff.initial) throw configError(join(where, 'retry.backoff.max'), `>= retry.backoff.initial (${backoff.initial})`, backoff.max, 'range');
  return Object.freeze({
    ...retry,
    backoff: Object.freeze(backoff),
    budget: retry.budget === false ? false : Object.freeze(retry.budget),
  });
}

/** @internal validates a `hedge` option layer (`false` turns hedging off). */
export function normalizeHedge(value: unknown, path: string): HedgeOptions | false {
  if (value === false) return false;
  const raw = readKnown(value, path, ['delay', 'maxExtra', 'floor']);
  const out: Record<string, unknown> = {};
  if ('delay' in raw) {
    const at = join(path, 'delay');
    out.delay =
      typeof raw.delay === 'string'
        ? expectOneOf(raw.delay, at, PERCENTILES)
        : expectNumber(raw.delay, at, { min: 1, max: MAX_TIMEOUT_MS, unit: "ms, or one of 'p50', 'p90', 'p95', 'p99'" });
  }
  if ('maxExtra' in raw) out.maxExtra = expectNumber(raw.maxExtra, join(path, 'maxExtra'), { min: 1, max: 3, integer: true });
  if ('floor' in raw) out.floor = expectNumber(raw.floor, join(path, 'floor'), { min: 1, max: MAX_TIMEOUT_MS, unit: 'ms' });
  return Object.freeze(out) as unknown as HedgeOptions;
}

/** @internal merges a validated `hedge` layer over the resolved one. */
export function mergeHedge(current: Partial<HedgeConfig> | false, layer: HedgeOptions | false): Partial<HedgeConfig> | false {
  if (layer === false) return false;
  return { ...(current === false ? {} : current), ...layer };
}

/** @internal checks the merged `hedge`: a delay is given, and the command said it is idempotent. */
export function finishHedge(hedge: Partial<HedgeConfig> | false, idempotent: boolean, where: string, defaults: Omit<HedgeConfig, 'delay'>): HedgeConfig | false {
  if (hedge === false) return false;
  if (hedge.delay === undefined) throw configError(join(where, 'hedge.delay'), "a number of ms or one of 'p50', 'p90', 'p95', 'p99'", undefined, 'type');
  if (!idempotent) {
    throw configError(
      join(where, 'idempotent'),
      'true when `hedge` is set (a hedged command may run two or more times for one call, so it must be safe to repeat)',
      idempotent,
      'type',
    );
  }
  return Object.freeze({ ...defaults, ...hedge } as HedgeConfig);
}
