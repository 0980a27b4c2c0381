import type { CircuitBreakerConfig, HedgeConfig, MetricsConfig, PoolConfig, RetryBackoffConfig, RetryBudgetConfig, RetryConfig } from './options.js';

/** Hystrix's circuit breaker defaults. */
export const CIRCUIT_BREAKER_DEFAULTS: CircuitBreakerConfig = Object.freeze({
  enabled: true, // circuitBreaker.enabled
  requestVolumeThreshold: 20, // circuitBreaker.requestVolumeThreshold
  errorThresholdPercentage: 50, // circuitBreaker.errorThresholdPercentage
  sleepWindow: 5000, // circuitBreaker.sleepWindowInMilliseconds
  forceOpen: false, // circuitBreaker.forceOpen
  forceClosed: false, // circuitBreaker.forceClosed
  // beyond Hystrix (docs/circuit-breaker.md): the default keeps Hystrix's single rule and single trial
  strategy: 'errorPercentage',
  consecutiveFailures: 5,
  windowSize: 100, // resilience4j slidingWindowSize
  minimumCalls: 100, // resilience4j minimumNumberOfCalls
  slowCallDuration: false, // off (resilience4j: 60 s with a 100% rate, which trips only when every call is slow)
  slowCallRateThreshold: 100, // resilience4j slowCallRateThreshold
  halfOpen: Object.freeze({ permittedCalls: 1, successThreshold: 1 }),
});

/** Hystrix's metrics defaults. */
export const METRICS_DEFAULTS: MetricsConfig = Object.freeze({
  rollingWindow: 10_000, // metrics.rollingStats.timeInMilliseconds
  rollingBuckets: 10, // metrics.rollingStats.numBuckets
  percentileWindow: 60_000, // metrics.rollingPercentile.timeInMilliseconds
  percentileBuckets: 6, // metrics.rollingPercentile.numBuckets
  percentileEnabled: true, // metrics.rollingPercentile.enabled
  healthSnapshotInterval: 500, // metrics.healthSnapshot.intervalInMilliseconds
});

/** Hystrix's thread pool defaults, for pool isolation. */
export const POOL_DEFAULTS: PoolConfig = Object.freeze({
  coreSize: 10,
  maxQueueSize: -1,
  queueSizeRejectionThreshold: 5,
  rollingWindow: 10_000,
  rollingBuckets: 10,
});

/** Hystrix's command defaults (other than breaker and metrics). */
export const COMMAND_DEFAULTS = Object.freeze({
  timeout: 1000 as number | false, // execution.isolation.thread.timeoutInMilliseconds (+ execution.timeout.enabled)
  isolation: 'semaphore' as const, // execution.isolation.strategy (breakwater defaults to SEMAPHORE: see docs)
  maxConcurrent: 10, // execution.isolation.semaphore.maxConcurrentRequests
  fallbackMaxConcurrent: 10, // fallback.isolation.semaphore.maxConcurrentRequests
  fallbackEnabled: true, // fallback.enabled
  requestCache: true, // requestCache.enabled
  requestLog: true, // requestLog.enabled
  sheddable: false, // beyond Hystrix: see docs/load-shedding.md
  priority: 'critical' as const, // never shed unless a command says otherwise (sheddable: true is 'low')
  unwrapErrors: false, // (Javanica's default is to unwrap: @HystrixCommand sets true)
});

/** The load-shedding priorities, most important first (`priority` option, docs/load-shedding.md). */
export const SHED_PRIORITIES = Object.freeze(['critical', 'high', 'normal', 'low'] as const);

/** How long a command key may stay idle before it is released (`configure({ keyExpiry })`): 5 minutes. */
export const KEY_EXPIRY_DEFAULT = 300_000;

/** The largest delay a Node timer accepts (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** `retry.backoff` defaults (no Hystrix equivalent: Hystrix does not retry). */
export const RETRY_BACKOFF_DEFAULTS: RetryBackoffConfig = Object.freeze({ initial: 100, max: 2000, multiplier: 2, jitter: 'full' as const });

/** `retry.budget` defaults: Finagle's RetryBudget (20 %, 10 per second). */
export const RETRY_BUDGET_DEFAULTS: RetryBudgetConfig = Object.freeze({ ratio: 0.2, minPerSecond: 10 });

/** `retry` defaults, used for any field a `retry` option leaves out. */
export const RETRY_DEFAULTS: RetryConfig = Object.freeze({
  maxAttempts: 3,
  backoff: RETRY_BACKOFF_DEFAULTS,
  retryOn: undefined,
  budget: RETRY_BUDGET_DEFAULTS,
});

/** `hedge` defaults (`delay` has none: it is required). */
export const HEDGE_DEFAULTS: Omit<HedgeConfig, 'delay'> = Object.freeze({ maxExtra: 1, floor: 100 });
