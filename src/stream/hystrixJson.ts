import { allPools } from '../bulkhead/registry.js';
import type { PoolSnapshot } from '../bulkhead/Pool.js';
import type { CircuitState } from '../circuit/breakerState.js';
import { allRuntimes } from '../command/CommandRuntime.js';
import type { AdaptiveAlgorithm, CircuitBreakerStrategy, CommandConfig } from '../config/options.js';
import { getClock } from '../config/store.js';
import { existingStoreLimiter } from '../limiter/registry.js';
import type { CommandMetricsSnapshot } from '../metrics/CommandMetrics.js';
import type { LatencySnapshot } from '../metrics/RollingPercentile.js';
import { rollingWindowOf } from '../metrics/ReadWindow.js';

/** The nine latency keys Hystrix reports (`latencyExecute`, `latencyTotal`), whole milliseconds. */
export type HystrixLatencyPercentiles = Readonly<Record<'0' | '25' | '50' | '75' | '90' | '95' | '99' | '99.5' | '100', number>>;

/** The batch-size keys of a Hystrix collapser (no `"0"`, as in Hystrix). */
export type HystrixBatchPercentiles = Readonly<Record<'25' | '50' | '75' | '90' | '95' | '99' | '99.5' | '100', number>>;

/**
 * One `type: "HystrixCommand"` object of the `hystrix.stream`: every field Hystrix 1.5 emits, in its order, with
 * JSON booleans and integers and never `null`, followed by breakwater's own fields.
 */
export interface HystrixCommandJson {
  readonly type: 'HystrixCommand';
  readonly name: string;
  readonly group: string;
  /** Wall-clock time of the sample (epoch ms). */
  readonly currentTime: number;
  /** True while the circuit is OPEN or HALF_OPEN (including forced open). */
  readonly isCircuitBreakerOpen: boolean;
  readonly errorPercentage: number;
  readonly errorCount: number;
  readonly requestCount: number;
  readonly rollingCountBadRequests: number;
  readonly rollingCountCollapsedRequests: number;
  readonly rollingCountEmit: number;
  readonly rollingCountExceptionsThrown: number;
  readonly rollingCountFailure: number;
  readonly rollingCountFallbackEmit: number;
  readonly rollingCountFallbackFailure: number;
  readonly rollingCountFallbackMissing: number;
  readonly rollingCountFallbackRejection: number;
  readonly rollingCountFallbackSuccess: number;
  readonly rollingCountResponsesFromCache: number;
  readonly rollingCountSemaphoreRejected: number;
  readonly rollingCountShortCircuited: number;
  readonly rollingCountSuccess: number;
  readonly rollingCountThreadPoolRejected: number;
  readonly rollingCountTimeout: number;
  readonly currentConcurrentExecutionCount: number;
  readonly rollingMaxConcurrentExecutionCount: number;
  readonly latencyExecute_mean: number;
  readonly latencyExecute: HystrixLatencyPercentiles;
  readonly latencyTotal_mean: number;
  readonly latencyTotal: HystrixLatencyPercentiles;
  readonly propertyValue_circuitBreakerRequestVolumeThreshold: number;
  readonly propertyValue_circuitBreakerSleepWindowInMilliseconds: number;
  readonly propertyValue_circuitBreakerErrorThresholdPercentage: number;
  readonly propertyValue_circuitBreakerForceOpen: boolean;
  readonly propertyValue_circuitBreakerForceClosed: boolean;
  readonly propertyValue_circuitBreakerEnabled: boolean;
  /** `THREAD` for pool isolation, `SEMAPHORE` for semaphore isolation. */
  readonly propertyValue_executionIsolationStrategy: 'THREAD' | 'SEMAPHORE';
  /** The timeout in ms; 0 when the command has `timeout: false` (see `propertyValue_executionTimeoutEnabled`). */
  readonly propertyValue_executionIsolationThreadTimeoutInMilliseconds: number;
  /** Same value as `propertyValue_executionIsolationThreadTimeoutInMilliseconds` (Hystrix emits both names). */
  readonly propertyValue_executionTimeoutInMilliseconds: number;
  /** Always true: at the deadline breakwater aborts the run's `AbortSignal` (Hystrix's interrupt). */
  readonly propertyValue_executionIsolationThreadInterruptOnTimeout: boolean;
  /** The pool key when it differs from the group, else `""` (Hystrix sends `null` there; breakwater never does). */
  readonly propertyValue_executionIsolationThreadPoolKeyOverride: string;
  readonly propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: number;
  readonly propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests: number;
  readonly propertyValue_metricsRollingStatisticalWindowInMilliseconds: number;
  readonly propertyValue_requestCacheEnabled: boolean;
  readonly propertyValue_requestLogEnabled: boolean;
  /** Always 1 (Turbine sums it across instances). */
  readonly reportingHosts: number;
  /** The pool key (for semaphore-isolated commands: the key a pool would have). */
  readonly threadPool: string;
  // breakwater's own fields (extra; never replacements)
  /** False when the command has `timeout: false`. */
  readonly propertyValue_executionTimeoutEnabled: boolean;
  /** CANCELLED in the rolling window (callers that unsubscribed before a result). */
  readonly rollingCountCancelled: number;
  /** RATE_LIMITED in the rolling window. */
  readonly rollingCountRateLimited: number;
  /** RETRY in the rolling window (attempts started after a failed attempt, see the `retry` option). */
  readonly rollingCountRetry: number;
  /** HEDGE in the rolling window (parallel attempts started after the hedge delay, see the `hedge` option). */
  readonly rollingCountHedge: number;
  /** LOAD_SHED in the rolling window (`sheddable` calls refused while the event loop was overloaded). */
  readonly rollingCountLoadShed: number;
  /**
   * `isolation: 'adaptive'`: the algorithm (`'aimd'`, `'vegas'`, `'gradient2'`), else `''`. The adaptive limit is then
   * `propertyValue_executionIsolationSemaphoreMaxConcurrentRequests` (the isolation strategy reads `SEMAPHORE`).
   */
  readonly propertyValue_executionIsolationAdaptiveAlgorithm: AdaptiveAlgorithm | '';
  /** The circuit state in words, so a page can tell HALF_OPEN from OPEN. */
  readonly circuitState: CircuitState;
  /** `circuitBreaker.strategy`: `'errorPercentage'` (Hystrix's rule), `'consecutive'` or `'countWindow'`. */
  readonly propertyValue_circuitBreakerStrategy: CircuitBreakerStrategy;
  /** `circuitBreaker.consecutiveFailures` (used by `'consecutive'`). */
  readonly propertyValue_circuitBreakerConsecutiveFailures: number;
  /** `circuitBreaker.windowSize` in calls (used by `'countWindow'`). */
  readonly propertyValue_circuitBreakerWindowSize: number;
  /** `circuitBreaker.minimumCalls` (used by `'countWindow'`). */
  readonly propertyValue_circuitBreakerMinimumCalls: number;
  /** `circuitBreaker.slowCallDuration` in ms; 0 when the slow-call rule is off. */
  readonly propertyValue_circuitBreakerSlowCallDurationInMilliseconds: number;
  /** `circuitBreaker.slowCallRateThreshold` in percent. */
  readonly propertyValue_circuitBreakerSlowCallRateThreshold: number;
  /** `circuitBreaker.halfOpen.permittedCalls`. */
  readonly propertyValue_circuitBreakerHalfOpenPermittedCalls: number;
  /** `circuitBreaker.halfOpen.successThreshold`. */
  readonly propertyValue_circuitBreakerHalfOpenSuccessThreshold: number;
  /** Only for a command on a store-backed limiter: whether its store answers (false: decided without it). */
  readonly limiterStoreAvailable?: boolean;
  /** Only for a command on a store-backed limiter: times its limiter gave the store up. */
  readonly cumulativeCountLimiterStoreUnavailable?: number;
  /** Only for a command on a store-backed limiter: its limiter's decisions taken without the store. */
  readonly cumulativeCountLimiterStoreFallback?: number;
}

/** One `type: "HystrixThreadPool"` object of the `hystrix.stream` (a breakwater pool). */
export interface HystrixThreadPoolJson {
  readonly type: 'HystrixThreadPool';
  readonly name: string;
  readonly currentTime: number;
  /** Executions running now. */
  readonly currentActiveCount: number;
  /** Executions finished since the pool was created. */
  readonly currentCompletedTaskCount: number;
  readonly currentCorePoolSize: number;
  /** The highest concurrency ever reached. */
  readonly currentLargestPoolSize: number;
  /** Equal to the core size (breakwater pools do not grow beyond it). */
  readonly currentMaximumPoolSize: number;
  /** Slots that have been used at least once, up to the core size (Java keeps core threads once started). */
  readonly currentPoolSize: number;
  readonly currentQueueSize: number;
  /** Executions ever admitted or queued: completed + active + queued. */
  readonly currentTaskCount: number;
  readonly rollingCountThreadsExecuted: number;
  readonly rollingMaxActiveThreads: number;
  readonly rollingCountCommandRejections: number;
  readonly propertyValue_queueSizeRejectionThreshold: number;
  readonly propertyValue_metricsRollingStatisticalWindowInMilliseconds: number;
  readonly reportingHosts: number;
  // breakwater's own fields
  /** The pool's queue capacity (-1: no queue). */
  readonly propertyValue_maxQueueSize: number;
}

/**
 * What a request collapser reports about itself, for the stream: the input of {@link toHystrixCollapser}. A
 * collapser registers a function returning these with {@link registerCollapserSource}.
 */
export interface CollapserSnapshot {
  readonly collapserKey: string;
  /** Batches executed in the rolling window (Hystrix BATCH_EXECUTED). */
  readonly rollingBatches: number;
  /** Requests added to batches in the rolling window (Hystrix ADDED_TO_BATCH). */
  readonly rollingRequestsBatched: number;
  /** Requests answered from the collapser's request cache in the rolling window. */
  readonly rollingResponsesFromCache: number;
  /** Batch sizes over the percentile window (same shape as a latency snapshot, values are counts). */
  readonly batchSize: LatencySnapshot;
  /** Shard sizes over the percentile window. */
  readonly shardSize: LatencySnapshot;
  readonly maxRequestsInBatch: number;
  readonly timerDelayInMilliseconds: number;
  readonly requestCacheEnabled: boolean;
  /** The rolling-count window in ms. */
  readonly rollingWindow: number;
  /** The percentile window in ms. */
  readonly percentileWindow: number;
}

/** One `type: "HystrixCollapser"` object of the `hystrix.stream`. */
export interface HystrixCollapserJson {
  readonly type: 'HystrixCollapser';
  readonly name: string;
  readonly currentTime: number;
  readonly rollingCountRequestsBatched: number;
  readonly rollingCountBatches: number;
  readonly rollingCountResponsesFromCache: number;
  readonly batchSize_mean: number;
  readonly batchSize: HystrixBatchPercentiles;
  /** Hystrix has these commented out in its serialiser; breakwater sends them (extra). */
  readonly shardSize_mean: number;
  /** @see shardSize_mean */
  readonly shardSize: HystrixBatchPercentiles;
  readonly propertyValue_requestCacheEnabled: boolean;
  readonly propertyValue_maxRequestsInBatch: number;
  readonly propertyValue_timerDelayInMilliseconds: number;
  readonly propertyValue_metricsRollingStatisticalWindowInMilliseconds: number;
  readonly propertyValue_metricsRollingPercentileWindowInMilliseconds: number;
  readonly reportingHosts: number;
}

/** Any object of the dashboard stream. */
export type HystrixDashboardObject = HystrixCommandJson | HystrixThreadPoolJson | HystrixCollapserJson;

/** What {@link toHystrixCommand} reads: a command key's metrics snapshot, its config and its breaker's verdict. */
export interface CommandSample {
  readonly snapshot: CommandMetricsSnapshot;
  readonly config: CommandConfig;
  /** The breaker's `isOpen` (true in OPEN and HALF_OPEN). */
  readonly isCircuitBreakerOpen: boolean;
  /** The store-backed limiter the command's `rateLimit` names, if any (adds the `limiterStore…` fields). */
  readonly limiterStore?: LimiterStoreSample;
  /** `isolation: 'adaptive'`: the current limit, reported as the semaphore's size. */
  readonly concurrencyLimit?: number | undefined;
}

/** A store-backed limiter's counts, as the stream reports them on its commands. */
export interface LimiterStoreSample {
  /** Whether the store answered last time. */
  readonly storeAvailable: boolean;
  /** Times the store was given up. */
  readonly unavailableCount: number;
  /** Decisions taken without the store. */
  readonly fallbackDecisions: number;
}

function int(value: number): number {
  return Number.isFinite(value) ? Math.round(value) : 0;
}

/**
 * Converted percentiles by snapshot. A key's latency snapshot object is kept until its numbers change (and the
 * stream re-reads it at most once per percentile bucket), so its conversion is made once and shared, frozen.
 */
const converted = new WeakMap<LatencySnapshot, HystrixLatencyPercentiles>();

function latency(l: LatencySnapshot): HystrixLatencyPercentiles {
  let out = converted.get(l);
  if (out !== undefined) return out;
  const p = l.percentiles;
  out = Object.freeze({
    '0': int(p['0']),
    '25': int(p['25']),
    '50': int(p['50']),
    '75': int(p['75']),
    '90': int(p['90']),
    '95': int(p['95']),
    '99': int(p['99']),
    '99.5': int(p['99.5']),
    '100': int(p['100']),
  });
  converted.set(l, out);
  return out;
}

/** Batch and shard sizes: the same percentiles without "0", as Hystrix's collapser stream has them. */
function batch(l: LatencySnapshot): HystrixBatchPercentiles {
  const { '0': _zero, ...rest } = latency(l) as unknown as Record<string, number>;
  return rest as unknown as HystrixBatchPercentiles;
}

/**
 * Maps one command key's sample to Hystrix 1.5's `HystrixCommand` object. Pure: the same input gives the same
 * output. `timeout: false` is reported as 0 ms with `propertyValue_executionTimeoutEnabled: false`: Hystrix keeps
 * the timeout value and the enabled flag as two properties, a JSON number cannot be `Infinity`, and 0 is never a
 * valid timeout, so it cannot be mistaken for one.
 *
 * @example
 * ```ts
 * const json = toHystrixCommand({ snapshot, config, isCircuitBreakerOpen: false }, Date.now());
 * res.write(`data: ${JSON.stringify(json)}\n\n`);
 * ```
 */
export function toHystrixCommand(sample: CommandSample, currentTime: number): HystrixCommandJson {
  const { snapshot: s, config: c } = sample;
  const r = s.rolling;
  const cb = c.circuitBreaker;
  const timeout = c.timeout === false ? 0 : int(c.timeout);
  return {
    type: 'HystrixCommand',
    name: s.commandKey,
    group: s.group,
    currentTime: int(currentTime),
    isCircuitBreakerOpen: sample.isCircuitBreakerOpen,
    errorPercentage: int(s.health.errorPercentage),
    errorCount: int(s.health.errorCount),
    requestCount: int(s.health.requestCount),
    rollingCountBadRequests: r.BAD_REQUEST,
    rollingCountCollapsedRequests: r.COLLAPSED,
    rollingCountEmit: r.EMIT,
    rollingCountExceptionsThrown: r.EXCEPTION_THROWN,
    rollingCountFailure: r.FAILURE,
    rollingCountFallbackEmit: r.FALLBACK_EMIT,
    rollingCountFallbackFailure: r.FALLBACK_FAILURE,
    rollingCountFallbackMissing: r.FALLBACK_MISSING,
    rollingCountFallbackRejection: r.FALLBACK_REJECTION,
    rollingCountFallbackSuccess: r.FALLBACK_SUCCESS,
    rollingCountResponsesFromCache: r.RESPONSE_FROM_CACHE,
    rollingCountSemaphoreRejected: r.SEMAPHORE_REJECTED,
    rollingCountShortCircuited: r.SHORT_CIRCUITED,
    rollingCountSuccess: r.SUCCESS,
    rollingCountThreadPoolRejected: r.THREAD_POOL_REJECTED,
    rollingCountTimeout: r.TIMEOUT,
    currentConcurrentExecutionCount: int(s.concurrency.current),
    rollingMaxConcurrentExecutionCount: int(s.concurrency.rollingMax),
    latencyExecute_mean: int(s.latencyExecute.mean),
    latencyExecute: latency(s.latencyExecute),
    latencyTotal_mean: int(s.latencyTotal.mean),
    latencyTotal: latency(s.latencyTotal),
    propertyValue_circuitBreakerRequestVolumeThreshold: cb.requestVolumeThreshold,
    propertyValue_circuitBreakerSleepWindowInMilliseconds: cb.sleepWindow,
    propertyValue_circuitBreakerErrorThresholdPercentage: cb.errorThresholdPercentage,
    propertyValue_circuitBreakerForceOpen: cb.forceOpen,
    propertyValue_circuitBreakerForceClosed: cb.forceClosed,
    propertyValue_circuitBreakerEnabled: cb.enabled,
    propertyValue_executionIsolationStrategy: c.isolation === 'pool' ? 'THREAD' : 'SEMAPHORE',
    propertyValue_executionIsolationThreadTimeoutInMilliseconds: timeout,
    propertyValue_executionTimeoutInMilliseconds: timeout,
    propertyValue_executionIsolationThreadInterruptOnTimeout: true,
    propertyValue_executionIsolationThreadPoolKeyOverride: c.poolKey !== c.group ? c.poolKey : '',
    propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: sample.concurrencyLimit ?? c.maxConcurrent,
    propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests: c.fallbackMaxConcurrent,
    propertyValue_metricsRollingStatisticalWindowInMilliseconds: rollingWindowOf(c.metrics), // without a window: the span readers count over
    propertyValue_requestCacheEnabled: c.requestCache,
    propertyValue_requestLogEnabled: c.requestLog,
    reportingHosts: 1,
    threadPool: c.poolKey,
    propertyValue_executionTimeoutEnabled: c.timeout !== false,
    rollingCountCancelled: r.CANCELLED,
    rollingCountRateLimited: r.RATE_LIMITED,
    rollingCountRetry: r.RETRY,
    rollingCountHedge: r.HEDGE,
    rollingCountLoadShed: r.LOAD_SHED,
    propertyValue_executionIsolationAdaptiveAlgorithm: c.isolation === 'adaptive' ? c.adaptive.algorithm : '',
    circuitState: s.circuit,
    propertyValue_circuitBreakerStrategy: cb.strategy,
    propertyValue_circuitBreakerConsecutiveFailures: cb.consecutiveFailures,
    propertyValue_circuitBreakerWindowSize: cb.windowSize,
    propertyValue_circuitBreakerMinimumCalls: cb.minimumCalls,
    propertyValue_circuitBreakerSlowCallDurationInMilliseconds: cb.slowCallDuration === false ? 0 : cb.slowCallDuration,
    propertyValue_circuitBreakerSlowCallRateThreshold: cb.slowCallRateThreshold,
    propertyValue_circuitBreakerHalfOpenPermittedCalls: cb.halfOpen.permittedCalls,
    propertyValue_circuitBreakerHalfOpenSuccessThreshold: cb.halfOpen.successThreshold,
    ...(sample.limiterStore === undefined ? undefined : limiterStoreFields(sample.limiterStore)),
  };
}

/** @internal the store-backed limiter a command's `rateLimit` names, if any (its counts go on the stream). */
export function limiterStoreOf(config: CommandConfig): LimiterStoreSample | undefined {
  return config.rateLimit !== false && 'limiter' in config.rateLimit ? existingStoreLimiter(config.rateLimit.limiter) : undefined;
}

function limiterStoreFields(l: LimiterStoreSample) {
  return {
    limiterStoreAvailable: l.storeAvailable,
    cumulativeCountLimiterStoreUnavailable: l.unavailableCount,
    cumulativeCountLimiterStoreFallback: l.fallbackDecisions,
  };
}

/**
 * Maps a pool snapshot to Hystrix 1.5's `HystrixThreadPool` object. A breakwater pool has slots, not threads:
 * `currentPoolSize` reports the slots used at least once (capped at the core size, as Java keeps core threads
 * alive) and `currentMaximumPoolSize` the core size.
 *
 * @example
 * ```ts
 * const json = toHystrixThreadPool(poolFor('Users').snapshot(now), Date.now());
 * ```
 */
export function toHystrixThreadPool(p: PoolSnapshot, currentTime: number): HystrixThreadPoolJson {
  return {
    type: 'HystrixThreadPool',
    name: p.poolKey,
    currentTime: int(currentTime),
    currentActiveCount: p.active,
    currentCompletedTaskCount: p.completed,
    currentCorePoolSize: p.coreSize,
    currentLargestPoolSize: p.largest,
    currentMaximumPoolSize: p.coreSize,
    currentPoolSize: Math.min(p.largest, p.coreSize),
    currentQueueSize: p.queued,
    currentTaskCount: p.completed + p.active + p.queued,
    rollingCountThreadsExecuted: p.rollingExecuted,
    rollingMaxActiveThreads: p.rollingMaxActive,
    rollingCountCommandRejections: p.rollingRejected,
    propertyValue_queueSizeRejectionThreshold: p.queueSizeRejectionThreshold,
    propertyValue_metricsRollingStatisticalWindowInMilliseconds: p.rollingWindow,
    reportingHosts: 1,
    propertyValue_maxQueueSize: p.maxQueueSize,
  };
}

/**
 * Maps a collapser snapshot to Hystrix 1.5's `HystrixCollapser` object (plus the shard-size and window fields
 * Hystrix leaves commented out).
 *
 * @example
 * ```ts
 * const json = toHystrixCollapser(snapshot, Date.now());
 * ```
 */
export function toHystrixCollapser(c: CollapserSnapshot, currentTime: number): HystrixCollapserJson {
  return {
    type: 'HystrixCollapser',
    name: c.collapserKey,
    currentTime: int(currentTime),
    rollingCountRequestsBatched: int(c.rollingRequestsBatched),
    rollingCountBatches: int(c.rollingBatches),
    rollingCountResponsesFromCache: int(c.rollingResponsesFromCache),
    batchSize_mean: int(c.batchSize.mean),
    batchSize: batch(c.batchSize),
    shardSize_mean: int(c.shardSize.mean),
    shardSize: batch(c.shardSize),
    propertyValue_requestCacheEnabled: c.requestCacheEnabled,
    propertyValue_maxRequestsInBatch: int(c.maxRequestsInBatch),
    propertyValue_timerDelayInMilliseconds: int(c.timerDelayInMilliseconds),
    propertyValue_metricsRollingStatisticalWindowInMilliseconds: int(c.rollingWindow),
    propertyValue_metricsRollingPercentileWindowInMilliseconds: int(c.percentileWindow),
    reportingHosts: 1,
  };
}

const collapserSources = new Set<() => readonly CollapserSnapshot[]>();

/**
 * Registers a function the stream calls on every sample to list collapsers. Returns a function that removes it.
 * Request collapsers call this once; a source that throws is skipped for that sample.
 *
 * @example
 * ```ts
 * const remove = registerCollapserSource(() => [...collapsers.values()].map((c) => c.snapshot()));
 * ```
 */
export function registerCollapserSource(source: () => readonly CollapserSnapshot[]): () => void {
  if (typeof source !== 'function') throw new TypeError('breakwater: registerCollapserSource(source): source must be a function');
  collapserSources.add(source);
  return () => {
    collapserSources.delete(source);
  };
}

/** @internal every collapser snapshot from every registered source. */
export function collapserSnapshots(): CollapserSnapshot[] {
  const out: CollapserSnapshot[] = [];
  for (const source of collapserSources) {
    try {
      out.push(...source());
    } catch {
      // A broken source must not stop the stream; the other objects are still sent.
    }
  }
  return out;
}

/**
 * Every object of one dashboard sample, in Hystrix's order: each command key, then each pool, then each
 * collapser. Reads time from the configured clock.
 *
 * @example
 * ```ts
 * for (const object of hystrixDashboardSample()) console.log(object.type, object.name);
 * ```
 */
export function hystrixDashboardSample(): HystrixDashboardObject[] {
  const clock = getClock();
  const now = clock.now();
  const wall = clock.wallTime();
  const out: HystrixDashboardObject[] = [];
  for (const rt of allRuntimes()) {
    const sample: CommandSample = { snapshot: rt.metrics.snapshot(now), config: rt.config, isCircuitBreakerOpen: rt.breaker.isOpen, concurrencyLimit: rt.adaptive?.limit };
    const limiterStore = limiterStoreOf(rt.config);
    out.push(toHystrixCommand(limiterStore === undefined ? sample : { ...sample, limiterStore }, wall));
  }
  for (const pool of allPools()) out.push(toHystrixThreadPool(pool.snapshot(now), wall));
  for (const c of collapserSnapshots()) out.push(toHystrixCollapser(c, wall));
  return out;
}
