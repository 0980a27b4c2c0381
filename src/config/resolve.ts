import { configError } from '../errors.js';
import { normalizeSnapshot } from './normalizeSnapshot.js';
import { finishHedge, finishRetry, mergeHedge, mergeRetry, normalizeHedge, normalizeRetry } from '../policy/retryConfig.js';
import { CIRCUIT_BREAKER_DEFAULTS, COMMAND_DEFAULTS, HEDGE_DEFAULTS, MAX_TIMEOUT_MS, METRICS_DEFAULTS, POOL_DEFAULTS, SHED_PRIORITIES } from './defaults.js';
import { normalizeAdaptive, resolveAdaptive } from './normalizeAdaptive.js';
import type {
  AdaptiveOptions,
  IsolationStrategy,
  CircuitBreakerConfig,
  CircuitBreakerOptions,
  CommandConfig,
  CommandSettings,
  HedgeConfig,
  IgnoreExceptions,
  MetricsConfig,
  MetricsOptions,
  PoolConfig,
  PoolOptions,
  RateLimitOptions,
  RetryConfig,
  SharedLimiterOptions,
  ShedPriority,
  TokenBucketOptions,
} from './options.js';
import {
  expectBoolean,
  expectKey,
  expectNumber,
  expectOneOf,
  expectTimeout,
  readKnown,
} from './validate.js';

const SETTINGS_KEYS = [
  'group',
  'timeout',
  'isolation',
  'maxConcurrent',
  'pool',
  'fallbackMaxConcurrent',
  'adaptive',
  'fallbackEnabled',
  'circuitBreaker',
  'metrics',
  'rateLimit',
  'requestCache',
  'requestLog',
  'retry',
  'hedge',
  'idempotent',
  'sheddable',
  'priority',
  'ignoreExceptions',
  'unwrapErrors',
] as const;

/** Keys a functional command's options may hold besides the settings. */
export const COMMAND_FUNCTION_KEYS = ['key', 'run', 'fallback', 'cacheKey'] as const;

const BREAKER_KEYS = [...Object.keys(CIRCUIT_BREAKER_DEFAULTS), 'initialState', 'store'];
const HALF_OPEN_KEYS = Object.keys(CIRCUIT_BREAKER_DEFAULTS.halfOpen);
const METRICS_KEYS = Object.keys(METRICS_DEFAULTS);
const POOL_KEYS = Object.keys(POOL_DEFAULTS);
const BUCKET_KEYS = ['capacity', 'refillPerSecond', 'initialTokens', 'warmupPeriod', 'coldFactor'];

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Validates a circuit breaker options object (partial). */
export function normalizeBreaker(value: unknown, path: string): CircuitBreakerOptions {
  const raw = readKnown(value, path, BREAKER_KEYS);
  const out: Record<string, unknown> = {};
  for (const key of ['enabled', 'forceOpen', 'forceClosed']) if (key in raw) out[key] = expectBoolean(raw[key], join(path, key));
  if ('requestVolumeThreshold' in raw)
    out.requestVolumeThreshold = expectNumber(raw.requestVolumeThreshold, join(path, 'requestVolumeThreshold'), { min: 0, integer: true });
  if ('errorThresholdPercentage' in raw)
    out.errorThresholdPercentage = expectNumber(raw.errorThresholdPercentage, join(path, 'errorThresholdPercentage'), { min: 0, max: 100, unit: 'percent' });
  if ('sleepWindow' in raw) out.sleepWindow = expectNumber(raw.sleepWindow, join(path, 'sleepWindow'), { min: 0, max: MAX_TIMEOUT_MS, unit: 'ms' });
  if ('initialState' in raw) out.initialState = normalizeSnapshot(raw.initialState, join(path, 'initialState'));
  if ('store' in raw) {
    const store = raw.store as { acquireTrial?: unknown } | null;
    if (typeof store !== 'object' || store === null || typeof store.acquireTrial !== 'function') {
      throw configError(join(path, 'store'), 'a store made by redisStore(client)', raw.store, 'type');
    }
    out.store = store;
  }
  if ('strategy' in raw) out.strategy = expectOneOf(raw.strategy, join(path, 'strategy'), ['errorPercentage', 'consecutive', 'countWindow'] as const);
  for (const key of ['consecutiveFailures', 'windowSize', 'minimumCalls'])
    if (key in raw) out[key] = expectNumber(raw[key], join(path, key), { min: 1, max: 1_000_000, integer: true });
  if ('slowCallDuration' in raw)
    out.slowCallDuration = raw.slowCallDuration === false ? false : expectNumber(raw.slowCallDuration, join(path, 'slowCallDuration'), { min: 1, max: MAX_TIMEOUT_MS, unit: 'ms, or false' });
  if ('slowCallRateThreshold' in raw)
    out.slowCallRateThreshold = expectNumber(raw.slowCallRateThreshold, join(path, 'slowCallRateThreshold'), { min: 0, max: 100, unit: 'percent' });
  if ('halfOpen' in raw) {
    const halfPath = join(path, 'halfOpen');
    const half = readKnown(raw.halfOpen, halfPath, HALF_OPEN_KEYS);
    const h: Record<string, number> = {};
    for (const key of HALF_OPEN_KEYS) if (key in half) h[key] = expectNumber(half[key], join(halfPath, key), { min: 1, max: 100_000, integer: true });
    out.halfOpen = Object.freeze(h);
  }
  return Object.freeze(out) as CircuitBreakerOptions;
}

/** Layers breaker options field by field; `halfOpen` merges field by field too. */
export function mergeBreaker<T extends CircuitBreakerOptions>(base: T, next: CircuitBreakerOptions): T {
  if (base.halfOpen === undefined || next.halfOpen === undefined) return { ...base, ...next };
  return { ...base, ...next, halfOpen: Object.freeze({ ...base.halfOpen, ...next.halfOpen }) };
}

/** Validates a metrics options object (partial); window/bucket divisibility is checked on the merged result. */
export function normalizeMetrics(value: unknown, path: string): MetricsOptions {
  const raw = readKnown(value, path, METRICS_KEYS);
  const out: Record<string, unknown> = {};
  if ('rollingWindow' in raw)
    out.rollingWindow =
      raw.rollingWindow === false ? false : expectNumber(raw.rollingWindow, join(path, 'rollingWindow'), { min: 1, max: MAX_TIMEOUT_MS, integer: true, unit: 'ms, or false' });
  for (const key of ['percentileWindow', 'healthSnapshotInterval'])
    if (key in raw) out[key] = expectNumber(raw[key], join(path, key), { min: 1, max: MAX_TIMEOUT_MS, integer: true, unit: 'ms' });
  for (const key of ['rollingBuckets', 'percentileBuckets'])
    if (key in raw) out[key] = expectNumber(raw[key], join(path, key), { min: 1, max: 10_000, integer: true });
  if ('percentileEnabled' in raw) out.percentileEnabled = expectBoolean(raw.percentileEnabled, join(path, 'percentileEnabled'));
  return Object.freeze(out) as MetricsOptions;
}

/** Validates pool options (partial), optionally with a `key`. */
export function normalizePool(value: unknown, path: string, allowKey: boolean): PoolOptions & { key?: string } {
  const raw = readKnown(value, path, allowKey ? [...POOL_KEYS, 'key'] : POOL_KEYS);
  const out: Record<string, unknown> = {};
  if ('key' in raw) out.key = expectKey(raw.key, join(path, 'key'));
  if ('coreSize' in raw) out.coreSize = expectNumber(raw.coreSize, join(path, 'coreSize'), { min: 1, max: 100_000, integer: true });
  if ('maxQueueSize' in raw) out.maxQueueSize = expectNumber(raw.maxQueueSize, join(path, 'maxQueueSize'), { min: -1, max: 1_000_000, integer: true });
  if ('queueSizeRejectionThreshold' in raw)
    out.queueSizeRejectionThreshold = expectNumber(raw.queueSizeRejectionThreshold, join(path, 'queueSizeRejectionThreshold'), { min: 0, max: 1_000_000, integer: true });
  if ('rollingWindow' in raw) out.rollingWindow = expectNumber(raw.rollingWindow, join(path, 'rollingWindow'), { min: 1, max: MAX_TIMEOUT_MS, integer: true, unit: 'ms' });
  if ('rollingBuckets' in raw) out.rollingBuckets = expectNumber(raw.rollingBuckets, join(path, 'rollingBuckets'), { min: 1, max: 10_000, integer: true });
  return Object.freeze(out);
}

/** Validates token bucket options (complete: capacity and refillPerSecond are required). */
export function normalizeBucket(value: unknown, path: string, extraKeys: readonly string[] = []): TokenBucketOptions & Record<string, unknown> {
  const raw = readKnown(value, path, [...BUCKET_KEYS, ...extraKeys]);
  const capacity = expectNumber(raw.capacity, join(path, 'capacity'), { min: Number.MIN_VALUE, unit: 'tokens' });
  const refillPerSecond = expectNumber(raw.refillPerSecond, join(path, 'refillPerSecond'), { min: Number.MIN_VALUE, unit: 'tokens per second' });
  const out: Record<string, unknown> = { capacity, refillPerSecond };
  if ('initialTokens' in raw) out.initialTokens = expectNumber(raw.initialTokens, join(path, 'initialTokens'), { min: 0, max: capacity });
  if ('warmupPeriod' in raw) out.warmupPeriod = expectNumber(raw.warmupPeriod, join(path, 'warmupPeriod'), { min: 0, max: MAX_TIMEOUT_MS, unit: 'ms' });
  if ('coldFactor' in raw) out.coldFactor = expectNumber(raw.coldFactor, join(path, 'coldFactor'), { min: 1, max: 1000 });
  for (const key of extraKeys) if (key in raw) out[key] = raw[key];
  return Object.freeze(out) as TokenBucketOptions & Record<string, unknown>;
}

/** Validates a limiter declared with `configure({ limiters })`: a bucket, optionally with a shared store. */
export function normalizeLimiter(value: unknown, path: string): SharedLimiterOptions {
  const out = normalizeBucket(value, path, ['store', 'onStoreUnavailable', 'localShare']) as SharedLimiterOptions & Record<string, unknown>;
  const store = out.store as { takeTokens?: unknown; timeout?: unknown } | undefined;
  if (store !== undefined && (typeof store !== 'object' || store === null || typeof store.takeTokens !== 'function')) {
    throw configError(join(path, 'store'), 'a store made by redisStore(client)', store, 'type');
  }
  if (out.onStoreUnavailable !== undefined) expectOneOf(out.onStoreUnavailable, join(path, 'onStoreUnavailable'), ['local', 'allow', 'deny']);
  if (out.localShare !== undefined) {
    const share = expectNumber(out.localShare, join(path, 'localShare'), { min: 0, max: 1, unit: 'a fraction of capacity and rate' });
    if (share === 0) throw configError(join(path, 'localShare'), 'a fraction > 0 and <= 1', share, 'range');
  }
  if (store === undefined && (out.onStoreUnavailable !== undefined || out.localShare !== undefined)) {
    const key = out.onStoreUnavailable !== undefined ? 'onStoreUnavailable' : 'localShare';
    throw configError(join(path, key), 'absent unless `store` is given', out[key], 'type');
  }
  return out;
}

/** Validates a command's `rateLimit` option. */
export function normalizeRateLimit(value: unknown, path: string): RateLimitOptions | false {
  if (value === false) return false;
  const raw = readKnown(value, path, [...BUCKET_KEYS, 'maxWait', 'limiter']);
  let maxWait: number | undefined;
  if ('maxWait' in raw) maxWait = expectNumber(raw.maxWait, join(path, 'maxWait'), { min: 0, max: MAX_TIMEOUT_MS, unit: 'ms' });
  if ('limiter' in raw) {
    const limiter = expectKey(raw.limiter, join(path, 'limiter'));
    const stray = Object.keys(raw).filter((k) => k !== 'limiter' && k !== 'maxWait');
    if (stray.length > 0) throw configError(join(path, stray[0]!), 'absent when `limiter` names a shared limiter', raw[stray[0]!], 'type');
    return Object.freeze(maxWait === undefined ? { limiter } : { limiter, maxWait });
  }
  const { maxWait: _ignored, ...bucketRaw } = raw;
  const bucket = normalizeBucket(bucketRaw, path);
  return Object.freeze(maxWait === undefined ? { ...bucket } : { ...bucket, maxWait });
}

/** A validated settings layer: only the keys that were given. */
export type SettingsLayer = CommandSettings;

/** Validates a settings object (a command's own options, `defaults`, or a per-key override). */
export function normalizeSettings(value: unknown, path: string, extraKeys: readonly string[] = []): SettingsLayer {
  const raw = readKnown(value, path, [...SETTINGS_KEYS, ...extraKeys]);
  const out: Record<string, unknown> = {};
  if ('group' in raw) out.group = expectKey(raw.group, join(path, 'group'));
  if ('timeout' in raw) out.timeout = expectTimeout(raw.timeout, join(path, 'timeout'));
  if ('isolation' in raw) out.isolation = expectOneOf(raw.isolation, join(path, 'isolation'), ['semaphore', 'pool', 'adaptive'] as const);
  if ('adaptive' in raw) out.adaptive = normalizeAdaptive(raw.adaptive, join(path, 'adaptive'));
  if ('maxConcurrent' in raw) out.maxConcurrent = expectNumber(raw.maxConcurrent, join(path, 'maxConcurrent'), { min: 1, max: 1_000_000, integer: true });
  if ('fallbackMaxConcurrent' in raw)
    out.fallbackMaxConcurrent = expectNumber(raw.fallbackMaxConcurrent, join(path, 'fallbackMaxConcurrent'), { min: 1, max: 1_000_000, integer: true });
  for (const key of ['fallbackEnabled', 'requestCache', 'requestLog', 'idempotent', 'sheddable', 'unwrapErrors']) if (key in raw) out[key] = expectBoolean(raw[key], join(path, key));
  if ('priority' in raw) {
    if ('sheddable' in raw) throw configError(join(path, 'priority'), 'given without `sheddable` (its shorthand: true is priority \'low\', false is \'critical\')', raw.priority, 'type');
    out.priority = expectOneOf(raw.priority, join(path, 'priority'), SHED_PRIORITIES);
  }
  if ('ignoreExceptions' in raw) out.ignoreExceptions = normalizeIgnoreExceptions(raw.ignoreExceptions, join(path, 'ignoreExceptions'));
  if ('pool' in raw) out.pool = typeof raw.pool === 'string' ? expectKey(raw.pool, join(path, 'pool')) : normalizePool(raw.pool, join(path, 'pool'), true);
  if ('circuitBreaker' in raw) out.circuitBreaker = normalizeBreaker(raw.circuitBreaker, join(path, 'circuitBreaker'));
  if ('metrics' in raw) out.metrics = normalizeMetrics(raw.metrics, join(path, 'metrics'));
  if ('rateLimit' in raw) out.rateLimit = normalizeRateLimit(raw.rateLimit, join(path, 'rateLimit'));
  if ('retry' in raw) out.retry = normalizeRetry(raw.retry, join(path, 'retry'));
  if ('hedge' in raw) out.hedge = normalizeHedge(raw.hedge, join(path, 'hedge'));
  return Object.freeze(out) as SettingsLayer;
}

/** `ignoreExceptions`: a predicate, or a list of error classes (each a function, for `instanceof`). */
function normalizeIgnoreExceptions(value: unknown, path: string): IgnoreExceptions {
  if (typeof value === 'function') return value as IgnoreExceptions;
  if (!Array.isArray(value)) throw configError(path, 'an array of error classes or a function (error) => boolean', value, 'type');
  value.forEach((item: unknown, i) => {
    if (typeof item !== 'function') throw configError(`${path}[${i}]`, 'an error class (a constructor, for instanceof)', item, 'type');
  });
  return Object.freeze([...value]) as IgnoreExceptions;
}

/** Compiles `ignoreExceptions` into one predicate, or `null` when nothing is ignored. */
function ignorePredicate(ignore: IgnoreExceptions | undefined): ((error: unknown) => boolean) | null {
  if (ignore === undefined) return null;
  if (typeof ignore === 'function') return ignore as (error: unknown) => boolean;
  if (ignore.length === 0) return null;
  const classes = ignore;
  return (error) => classes.some((c) => error instanceof c);
}

/** Checks that a window divides evenly into buckets, as Hystrix requires. */
function checkDivisible(windowMs: number, buckets: number, windowPath: string, bucketsPath: string): void {
  if (windowMs % buckets !== 0) {
    throw configError(windowPath, `divisible by ${bucketsPath} (${buckets})`, windowMs, 'range');
  }
}

/**
 * `metrics.rollingWindow: false` keeps no health counts over time, so a breaker that trips on them (the
 * `'errorPercentage'` strategy, the default) cannot work with it; a disabled breaker, or one that counts calls
 * (`'consecutive'`, `'countWindow'`), can.
 */
function checkWindowless(breaker: CircuitBreakerConfig, metricsPath: string, breakerPath: string): void {
  if (!breaker.enabled || breaker.strategy !== 'errorPercentage') return;
  throw configError(
    `${breakerPath}.strategy`,
    `'consecutive' or 'countWindow' (or the breaker disabled) when \`${metricsPath}.rollingWindow\` is false (no health counts over time to trip on)`,
    breaker.strategy,
    'range',
    `set a \`${metricsPath}.rollingWindow\` in ms, or another \`${breakerPath}.strategy\``,
  );
}

/**
 * Merges settings layers, lowest precedence first (built-in < `configure({ defaults })` < the command's own
 * options < `configure({ commands: { key } })`), validates the combination and freezes the result.
 */
export function resolveCommandConfig(key: string, layers: readonly (SettingsLayer | undefined)[], where = ''): CommandConfig {
  let group: string | undefined;
  let timeout: number | false = COMMAND_DEFAULTS.timeout;
  let isolation: IsolationStrategy = COMMAND_DEFAULTS.isolation;
  let adaptive: AdaptiveOptions | undefined;
  let maxConcurrent: number = COMMAND_DEFAULTS.maxConcurrent;
  let fallbackMaxConcurrent: number = COMMAND_DEFAULTS.fallbackMaxConcurrent;
  let fallbackEnabled: boolean = COMMAND_DEFAULTS.fallbackEnabled;
  let requestCache: boolean = COMMAND_DEFAULTS.requestCache;
  let requestLog: boolean = COMMAND_DEFAULTS.requestLog;
  let priority: ShedPriority = COMMAND_DEFAULTS.priority;
  let unwrapErrors: boolean = COMMAND_DEFAULTS.unwrapErrors;
  let ignoreExceptions: IgnoreExceptions | undefined;
  let pool: SettingsLayer['pool'];
  let rateLimit: RateLimitOptions | false = false;
  let circuitBreaker: CircuitBreakerConfig = CIRCUIT_BREAKER_DEFAULTS;
  let metrics: MetricsConfig = METRICS_DEFAULTS;
  let retry: RetryConfig | false = false;
  let hedge: Partial<HedgeConfig> | false = false;
  let idempotent = false;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer.group !== undefined) group = layer.group;
    if (layer.timeout !== undefined) timeout = layer.timeout;
    if (layer.isolation !== undefined) isolation = layer.isolation;
    if (layer.maxConcurrent !== undefined) maxConcurrent = layer.maxConcurrent;
    if (layer.fallbackMaxConcurrent !== undefined) fallbackMaxConcurrent = layer.fallbackMaxConcurrent;
    if (layer.fallbackEnabled !== undefined) fallbackEnabled = layer.fallbackEnabled;
    if (layer.requestCache !== undefined) requestCache = layer.requestCache;
    if (layer.requestLog !== undefined) requestLog = layer.requestLog;
    if (layer.priority !== undefined) priority = layer.priority;
    else if (layer.sheddable !== undefined) priority = layer.sheddable ? 'low' : 'critical';
    if (layer.unwrapErrors !== undefined) unwrapErrors = layer.unwrapErrors;
    if (layer.ignoreExceptions !== undefined) ignoreExceptions = layer.ignoreExceptions;
    if (layer.pool !== undefined) pool = layer.pool;
    if (layer.adaptive !== undefined) adaptive = { ...adaptive, ...layer.adaptive };
    if (layer.rateLimit !== undefined) rateLimit = layer.rateLimit;
    if (layer.circuitBreaker !== undefined) circuitBreaker = mergeBreaker(circuitBreaker, layer.circuitBreaker);
    if (layer.metrics !== undefined) metrics = { ...metrics, ...layer.metrics };
    if (layer.retry !== undefined) retry = mergeRetry(retry, layer.retry);
    if (layer.hedge !== undefined) hedge = mergeHedge(hedge, layer.hedge);
    if (layer.idempotent !== undefined) idempotent = layer.idempotent;
  }
  const m = where === '' ? 'metrics' : `${where}.metrics`;
  const resolvedAdaptive = resolveAdaptive(adaptive, where === '' ? 'adaptive' : `${where}.adaptive`);
  if (metrics.rollingWindow === false) checkWindowless(circuitBreaker, m, where === '' ? 'circuitBreaker' : `${where}.circuitBreaker`);
  else checkDivisible(metrics.rollingWindow, metrics.rollingBuckets, `${m}.rollingWindow`, 'metrics.rollingBuckets');
  checkDivisible(metrics.percentileWindow, metrics.percentileBuckets, `${m}.percentileWindow`, 'metrics.percentileBuckets');
  const resolvedGroup = group ?? key;
  let poolKey = resolvedGroup;
  let poolOptions: PoolOptions | undefined;
  if (typeof pool === 'string') poolKey = pool;
  else if (pool !== undefined) {
    const { key: k, ...rest } = pool;
    if (k !== undefined) poolKey = k;
    poolOptions = Object.freeze(rest);
  }
  return Object.freeze({
    key,
    group: resolvedGroup,
    timeout,
    isolation,
    maxConcurrent,
    poolKey,
    poolOptions,
    fallbackMaxConcurrent,
    adaptive: resolvedAdaptive,
    fallbackEnabled,
    circuitBreaker: Object.freeze(circuitBreaker),
    metrics: Object.freeze(metrics),
    rateLimit,
    requestCache,
    requestLog,
    retry: finishRetry(retry, where),
    hedge: finishHedge(hedge, idempotent, where, HEDGE_DEFAULTS),
    idempotent,
    sheddable: priority !== 'critical',
    priority,
    ignoreExceptions: ignorePredicate(ignoreExceptions),
    unwrapErrors,
  });
}

/** Merges pool layers over the Hystrix defaults and checks window divisibility. */
export function resolvePoolConfig(key: string, layers: readonly (PoolOptions | undefined)[]): PoolConfig {
  let config: PoolConfig = POOL_DEFAULTS;
  for (const layer of layers) if (layer !== undefined) config = { ...config, ...stripKey(layer) };
  checkDivisible(config.rollingWindow, config.rollingBuckets, `pools.${key}.rollingWindow`, 'rollingBuckets');
  return Object.freeze(config);
}

function stripKey(layer: PoolOptions & { key?: string }): PoolOptions {
  if (!('key' in layer)) return layer;
  const { key: _k, ...rest } = layer;
  return rest;
}
