import type { BucketStore } from '../limiter/BucketStore.js';
import type { BreakerStore } from '../circuit/BreakerStore.js';
import type { CircuitBreakerSnapshot } from '../circuit/CircuitBreakerSnapshot.js';
/**
 * Circuit breaker settings. The circuit trips when, in the rolling window, at least `requestVolumeThreshold`
 * requests were seen and at least `errorThresholdPercentage` percent of them failed.
 */
export interface CircuitBreakerConfig {
  /** Whether the breaker may short-circuit at all. Hystrix: `circuitBreaker.enabled`. @defaultValue true */
  readonly enabled: boolean;
  /**
   * Minimum health requests in the rolling window before the error rate can trip the circuit (inclusive).
   * Hystrix: `circuitBreaker.requestVolumeThreshold`. @defaultValue 20
   */
  readonly requestVolumeThreshold: number;
  /**
   * Error percentage (0–100, integer arithmetic, inclusive) at or above which the circuit trips.
   * Hystrix: `circuitBreaker.errorThresholdPercentage`. @defaultValue 50
   */
  readonly errorThresholdPercentage: number;
  /** Milliseconds the circuit stays open before one trial call. Hystrix: `circuitBreaker.sleepWindowInMilliseconds`. @defaultValue 5000 */
  readonly sleepWindow: number;
  /** Short-circuit every call. Wins over `forceClosed`. Hystrix: `circuitBreaker.forceOpen`. @defaultValue false */
  readonly forceOpen: boolean;
  /** Never short-circuit (health is still counted). Hystrix: `circuitBreaker.forceClosed`. @defaultValue false */
  readonly forceClosed: boolean;
  /**
   * A state to start from, as {@link CircuitBreaker.toJSON} wrote it (in this or another process): an OPEN
   * snapshot starts the circuit OPEN for what remains of the sleep window since its `openedAt`. Read once, when
   * the key's breaker is created. @defaultValue none (start CLOSED)
   */
  readonly initialState?: CircuitBreakerSnapshot;
  /**
   * One circuit for the fleet: `redisStore(client)` shares this key's openings, its single half-open trial and the
   * trial's result with every instance using the same store prefix; health is still counted here. Read once, when
   * the key's breaker is created. See docs/fleet-limits.md. @defaultValue none (this process's own circuit)
   */
  readonly store?: BreakerStore;
  /**
   * The trip rule: `'errorPercentage'` (Hystrix's: `errorThresholdPercentage` of at least `requestVolumeThreshold`
   * requests in the rolling time window, read from health snapshots), `'consecutive'` (`consecutiveFailures`
   * failures in a row; ignores `requestVolumeThreshold`) or `'countWindow'` (`errorThresholdPercentage` of the last
   * `windowSize` calls, once `minimumCalls` were seen; resilience4j's COUNT_BASED window). See docs/circuit-breaker.md.
   * @defaultValue 'errorPercentage'
   */
  readonly strategy: CircuitBreakerStrategy;
  /** `'consecutive'`: failures (FAILURE or TIMEOUT) in a row that trip the circuit. @defaultValue 5 */
  readonly consecutiveFailures: number;
  /** `'countWindow'`: how many of the latest calls the window holds. resilience4j: `slidingWindowSize`. @defaultValue 100 */
  readonly windowSize: number;
  /**
   * `'countWindow'`: calls the window must hold before a rate can trip it (a value above `windowSize` means
   * `windowSize`, as in resilience4j). resilience4j: `minimumNumberOfCalls`. @defaultValue 100
   */
  readonly minimumCalls: number;
  /**
   * A call that takes at least this many ms counts as slow; `false` turns the slow-call rule off. Used with
   * `'errorPercentage'` (over the rolling time window, with `requestVolumeThreshold`) and `'countWindow'`.
   * resilience4j: `slowCallDurationThreshold`. @defaultValue false
   */
  readonly slowCallDuration: number | false;
  /**
   * Percentage of slow calls (0–100, inclusive) at or above which the circuit trips, when `slowCallDuration` is
   * set. resilience4j: `slowCallRateThreshold`. @defaultValue 100
   */
  readonly slowCallRateThreshold: number;
  /** The half-open trials. @defaultValue `{ permittedCalls: 1, successThreshold: 1 }` (Hystrix's single trial) */
  readonly halfOpen: HalfOpenConfig;
}

/** The trip rules of {@link CircuitBreakerConfig.strategy}. */
export type CircuitBreakerStrategy = 'errorPercentage' | 'consecutive' | 'countWindow';

/**
 * Half-open trials: after `sleepWindow`, up to `permittedCalls` trial calls run at once; the circuit closes once
 * `successThreshold` of them succeeded and re-opens at the first failed (or, with the slow-call rule, slow) trial.
 */
export interface HalfOpenConfig {
  /** Trials allowed to run at the same time. resilience4j: `permittedNumberOfCallsInHalfOpenState`. @defaultValue 1 */
  readonly permittedCalls: number;
  /** Successful trials that close the circuit. @defaultValue 1 */
  readonly successThreshold: number;
}

/** User input for {@link CircuitBreakerConfig}: every field optional (`halfOpen` too, field by field). */
export type CircuitBreakerOptions = Partial<Omit<CircuitBreakerConfig, 'halfOpen'>> & { readonly halfOpen?: Partial<HalfOpenConfig> };

/** Rolling metrics settings. Window sizes are fixed for a command key when its metrics are first created. */
export interface MetricsConfig {
  /**
   * Rolling statistics window in ms (counters, health). Hystrix: `metrics.rollingStats.timeInMilliseconds`.
   *
   * `false` keeps no time-bucketed window for the key: a call records cumulative counts only (one write per event,
   * no time), so a command with nothing else that needs a time (`timeout: false`, percentiles off, a semaphore, no
   * request log, a `'consecutive'` or `'countWindow'` breaker or none) reads no clock on its success path. Readers
   * (`metricsFor(key).snapshot()`, the dashboard stream, Prometheus) then see rolling counts measured between
   * reads over the default 10 s, exact to 1 s while something reads the key at least once a second; cumulative
   * counts stay exact. Refused with the `'errorPercentage'` strategy (it trips on health counts over time) unless
   * the breaker is disabled; `rollingBuckets` is then ignored. Decided when the key's metrics are made and switched
   * by a later `configure()` (docs/metrics.md, "No rolling window").
   * @defaultValue 10000
   */
  readonly rollingWindow: number | false;
  /** Buckets in the rolling window; must divide it evenly (ignored with `rollingWindow: false`). Hystrix: `metrics.rollingStats.numBuckets`. @defaultValue 10 */
  readonly rollingBuckets: number;
  /** Latency percentile window in ms. Hystrix: `metrics.rollingPercentile.timeInMilliseconds`. @defaultValue 60000 */
  readonly percentileWindow: number;
  /** Buckets in the percentile window; must divide it evenly. Hystrix: `metrics.rollingPercentile.numBuckets`. @defaultValue 6 */
  readonly percentileBuckets: number;
  /** Record latency histograms. Hystrix: `metrics.rollingPercentile.enabled`. @defaultValue true */
  readonly percentileEnabled: boolean;
  /** How often (ms) health counts are re-read for the breaker. Hystrix: `metrics.healthSnapshot.intervalInMilliseconds`. @defaultValue 500 */
  readonly healthSnapshotInterval: number;
}
/** User input for {@link MetricsConfig}. */
export type MetricsOptions = Partial<MetricsConfig>;

/** A pool bulkhead (the Node analogue of a Hystrix thread pool), shared by key. */
export interface PoolConfig {
  /** Concurrent executions. Hystrix: `coreSize`. @defaultValue 10 */
  readonly coreSize: number;
  /** Queue capacity; -1 means no queue (reject when every slot is busy). Hystrix: `maxQueueSize`. @defaultValue -1 */
  readonly maxQueueSize: number;
  /** With a queue, reject when it already holds this many. Hystrix: `queueSizeRejectionThreshold`. @defaultValue 5 */
  readonly queueSizeRejectionThreshold: number;
  /** Rolling statistics window for the pool, ms. @defaultValue 10000 */
  readonly rollingWindow: number;
  /** Buckets in the pool's rolling window. @defaultValue 10 */
  readonly rollingBuckets: number;
}
/** User input for {@link PoolConfig}. */
export type PoolOptions = Partial<PoolConfig>;

/** A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`. */
export interface TokenBucketOptions {
  /** Maximum tokens held (the burst). */
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
  /** Tokens at start. @defaultValue capacity */
  readonly initialTokens?: number;
  /** Warm-up period in ms: a cold bucket admits at `refillPerSecond / coldFactor`, reaching the full rate over this period. @defaultValue 0 (no warm-up) */
  readonly warmupPeriod?: number;
  /** Cold factor for warm-up (Sentinel and Guava use 3). @defaultValue 3 */
  readonly coldFactor?: number;
}

/**
 * A limiter declared with `configure({ limiters })`: a token bucket, local to this process unless `store` makes it
 * one bucket for the whole fleet.
 */
export interface SharedLimiterOptions extends TokenBucketOptions {
  /**
   * Where the bucket lives: `redisStore(client, { prefix })` shares it with every process using the same key and
   * prefix. See docs/fleet-limits.md. @defaultValue none (a bucket in this process)
   */
  readonly store?: BucketStore;
  /**
   * What decides while the store fails or misses its deadline: `'local'` a bucket of this instance's share,
   * `'allow'` every call, `'deny'` no call. @defaultValue 'local'
   */
  readonly onStoreUnavailable?: 'local' | 'allow' | 'deny';
  /**
   * The fraction (0–1] of capacity and rate this instance may use alone while the store is away.
   * @defaultValue 1 / the number of instances the store last reported using the limiter
   */
  readonly localShare?: number;
}

/** A command's rate limit: its own bucket, or a named shared one from `configure({ limiters })`. */
export type RateLimitOptions =
  | (TokenBucketOptions & {
      /** How long (ms) a call may wait for a token before it is RATE_LIMITED. @defaultValue 0 */
      readonly maxWait?: number;
    })
  | {
      /** The key of a limiter declared with `configure({ limiters: { key: {...} } })`. */
      readonly limiter: string;
      /** How long (ms) a call may wait for a token. @defaultValue 0 */
      readonly maxWait?: number;
    };

/** How a retry's wait is spread: see {@link RetryBackoffConfig.jitter}. */
export type RetryJitter = 'full' | 'equal' | 'decorrelated' | 'none';

/** The wait before each retry: the n-th retry waits `initial × multiplier^(n−1)`, capped at `max`, then jittered. */
export interface RetryBackoffConfig {
  /** Wait before the first retry, in ms. @defaultValue 100 */
  readonly initial: number;
  /** The longest wait, in ms (at least `initial`). @defaultValue 2000 */
  readonly max: number;
  /** Growth factor per retry (at least 1). @defaultValue 2 */
  readonly multiplier: number;
  /**
   * `'full'`: uniform in [0, wait); `'equal'`: wait/2 plus uniform in [0, wait/2); `'decorrelated'`: uniform in
   * [initial, previous wait × multiplier), capped at `max`; `'none'`: exactly the wait. @defaultValue 'full'
   */
  readonly jitter: RetryJitter;
}

/**
 * The retry budget of a command key: over the rolling window, extra attempts (retries and hedges) are allowed only
 * while `extra ≤ ratio × first attempts + minPerSecond × window seconds`.
 */
export interface RetryBudgetConfig {
  /** Extra attempts allowed per first attempt. @defaultValue 0.2 */
  readonly ratio: number;
  /** Extra attempts allowed per second of the window regardless of traffic (so a quiet key can still retry). @defaultValue 10 */
  readonly minPerSecond: number;
}

/** Complete retry settings (see {@link RetryOptions}). */
export interface RetryConfig {
  /** Attempts in all, the first included (1 = no retry). @defaultValue 3 */
  readonly maxAttempts: number;
  /** The wait before each retry. */
  readonly backoff: RetryBackoffConfig;
  /**
   * Whether a failed attempt is retried, given its error and the attempts made so far (1 after the first). By
   * default every failure is. A bad request, a short-circuit, a rejection, a rate limit or the command's deadline
   * never reach it: they are never retried.
   */
  readonly retryOn: ((error: unknown, attempt: number) => boolean) | undefined;
  /** The retry budget, or `false` for none. @defaultValue `{ ratio: 0.2, minPerSecond: 10 }` */
  readonly budget: RetryBudgetConfig | false;
}

/**
 * The `retry` option: retry a failed attempt inside the same execution, under the command's timeout, with backoff,
 * jitter and a per-key budget. See docs/retries-and-hedging.md.
 *
 * @example
 * ```ts
 * command({ key: 'GetUser', timeout: 2000, retry: { maxAttempts: 3, backoff: { initial: 50, jitter: 'full' } }, run });
 * ```
 */
export interface RetryOptions {
  /** @see {@link RetryConfig.maxAttempts} @defaultValue 3 */
  readonly maxAttempts?: number;
  /** @see {@link RetryBackoffConfig} */
  readonly backoff?: Partial<RetryBackoffConfig>;
  /** @see {@link RetryConfig.retryOn} */
  readonly retryOn?: (error: unknown, attempt: number) => boolean;
  /** @see {@link RetryBudgetConfig}; `false` turns the budget off. */
  readonly budget?: Partial<RetryBudgetConfig> | false;
}

/** A hedge delay: milliseconds, or a percentile of the key's own rolling `run` latency. */
export type HedgeDelay = number | 'p50' | 'p90' | 'p95' | 'p99';

/** Complete hedging settings (see {@link HedgeOptions}). */
export interface HedgeConfig {
  /** How long an attempt may run without a result before the next one starts. */
  readonly delay: HedgeDelay;
  /** Extra attempts at most (1 to 3). @defaultValue 1 */
  readonly maxExtra: number;
  /** The delay (ms) while a percentile delay has no data yet (the key's latency histogram is empty). @defaultValue 100 */
  readonly floor: number;
}

/**
 * The `hedge` option: when an attempt has no result after `delay`, start another one in parallel; the first success
 * wins and the others' signals are aborted. Requires `idempotent: true`. See docs/retries-and-hedging.md.
 *
 * @example
 * ```ts
 * command({ key: 'GetUser', idempotent: true, hedge: { delay: 'p95', maxExtra: 1 }, run });
 * ```
 */
export interface HedgeOptions {
  /** @see {@link HedgeConfig.delay} */
  readonly delay: HedgeDelay;
  /** @see {@link HedgeConfig.maxExtra} @defaultValue 1 */
  readonly maxExtra?: number;
  /** @see {@link HedgeConfig.floor} @defaultValue 100 */
  readonly floor?: number;
}

/**
 * Isolation strategy: a per-key semaphore, a pool shared by key, or a per-key semaphore whose size adapts to the
 * dependency's measured latency and drops (`'adaptive'`, docs/adaptive-concurrency.md).
 */
export type IsolationStrategy = 'semaphore' | 'pool' | 'adaptive';

/** The adaptive concurrency-limit algorithms (Netflix concurrency-limits v0.5.4). */
export type AdaptiveAlgorithm = 'aimd' | 'vegas' | 'gradient2';

/**
 * An adaptive limit (`isolation: 'adaptive'`). Defaults are concurrency-limits v0.5.4's and depend on the algorithm;
 * options another algorithm uses are ignored. See docs/adaptive-concurrency.md.
 */
export interface AdaptiveConfig {
  /** The algorithm. @defaultValue 'vegas' (concurrency-limits' default) */
  readonly algorithm: AdaptiveAlgorithm;
  /** The limit to start from. @defaultValue 20 */
  readonly initialLimit: number;
  /** The lowest limit. @defaultValue 20 (aimd, gradient2), 1 (vegas) */
  readonly minLimit: number;
  /** The highest limit. @defaultValue 200 (aimd, gradient2), 1000 (vegas) */
  readonly maxLimit: number;
  /** aimd: the multiplier on a drop, in [0.5, 1). @defaultValue 0.9 */
  readonly backoffRatio: number;
  /** aimd: a call slower than this (ms) counts as a drop. @defaultValue 5000 */
  readonly timeout: number;
  /** vegas, gradient2: the weight of a new estimate, (0, 1]. @defaultValue 1 (vegas), 0.2 (gradient2) */
  readonly smoothing: number;
  /** vegas: the no-load RTT is re-measured about every `probeMultiplier × limit` samples. @defaultValue 30 */
  readonly probeMultiplier: number;
  /** gradient2: how far the limit may grow past the gradient's estimate. @defaultValue 4 */
  readonly queueSize: number;
  /** gradient2: samples in the long-term RTT average. @defaultValue 600 */
  readonly longWindow: number;
  /** gradient2: how much slower than the long-term RTT a call may be before the limit shrinks (≥ 1). @defaultValue 1.5 */
  readonly rttTolerance: number;
}
/** User input for {@link AdaptiveConfig}: every field optional. */
export type AdaptiveOptions = Partial<AdaptiveConfig>;

/**
 * The tunable settings of a command (everything but its functions). Usable as `configure({ defaults })` and as
 * per-key overrides in `configure({ commands: { Key: {...} } })`.
 */
export interface CommandSettings {
  /** The command's group (dashboard grouping, default pool key). @defaultValue the command key */
  readonly group?: string;
  /** Timeout in ms, or `false` for none. Hystrix: `execution.isolation.thread.timeoutInMilliseconds` + `execution.timeout.enabled`. @defaultValue 1000 */
  readonly timeout?: number | false;
  /** Isolation strategy. Hystrix: `execution.isolation.strategy` (THREAD ≈ 'pool'). @defaultValue 'semaphore' */
  readonly isolation?: IsolationStrategy;
  /** Semaphore permits. Hystrix: `execution.isolation.semaphore.maxConcurrentRequests`. @defaultValue 10 */
  readonly maxConcurrent?: number;
  /** Pool key, or a pool with inline settings. Hystrix: `threadPoolKeyOverride`. @defaultValue the group */
  readonly pool?: string | (PoolOptions & { readonly key?: string });
  /** Concurrent fallbacks. Hystrix: `fallback.isolation.semaphore.maxConcurrentRequests`. @defaultValue 10 */
  readonly fallbackMaxConcurrent?: number;
  /** The adaptive limit of `isolation: 'adaptive'`. @defaultValue `{ algorithm: 'vegas' }` */
  readonly adaptive?: AdaptiveOptions;
  /** Whether the fallback is used. Hystrix: `fallback.enabled`. @defaultValue true */
  readonly fallbackEnabled?: boolean;
  /** Circuit breaker settings. */
  readonly circuitBreaker?: CircuitBreakerOptions;
  /** Metrics settings. */
  readonly metrics?: MetricsOptions;
  /** Optional rate limit. @defaultValue none */
  readonly rateLimit?: RateLimitOptions | false;
  /** Allow the request cache when a cache key is given. Hystrix: `requestCache.enabled`. @defaultValue true */
  readonly requestCache?: boolean;
  /** Add executions to the request log. Hystrix: `requestLog.enabled`. @defaultValue true */
  readonly requestLog?: boolean;
  /** Retry failed attempts (see {@link RetryOptions}); `false` for none. @defaultValue false */
  readonly retry?: RetryOptions | false;
  /** Hedge slow attempts (see {@link HedgeOptions}); `false` for none. Requires `idempotent: true`. @defaultValue false */
  readonly hedge?: HedgeOptions | false;
  /** The command is safe to run more than once for one call (required by `hedge`). @defaultValue false */
  readonly idempotent?: boolean;
  /**
   * Refuse this command at once (LOAD_SHED, to the fallback; not a health error) while the process sheds load
   * (`configure({ loadShedding })`, docs/load-shedding.md). Shorthand: `sheddable: true` is `priority: 'low'`,
   * `sheddable: false` is `priority: 'critical'`; give one of the two per settings layer. @defaultValue false
   */
  readonly sheddable?: boolean;
  /**
   * How important the command is when the process sheds load (docs/load-shedding.md): `'low'` is refused first
   * (event-loop delay above `loadShedding.maxEventLoopDelay`), `'normal'` and `'high'` only as the delay climbs
   * further past their own bounds (`loadShedding.priorities`), `'critical'` never.
   * @defaultValue 'critical' (never shed)
   */
  readonly priority?: ShedPriority;
  /**
   * Errors from `run` that are the caller's business, not the dependency's (an HTTP 404, a validation error):
   * error classes (matched with `instanceof`) or a predicate. Such an error is treated as a bad request: it reaches
   * the caller as itself, triggers no fallback, does not count against the circuit, and is recorded as
   * `BAD_REQUEST`. Javanica: `ignoreExceptions`. @defaultValue none
   */
  readonly ignoreExceptions?: IgnoreExceptions;
  /**
   * When `run` threw and there is no usable fallback, hand the caller the error `run` threw instead of a
   * `CommandError` wrapping it (`CommandError.from(error)` still gives the key and failure type). Rejections,
   * short-circuits and timeouts, which have no error of `run`'s, still give a `CommandError`.
   * @defaultValue false, and true for `@HystrixCommand` (as Javanica)
   */
  readonly unwrapErrors?: boolean;
}

/** Error classes (matched with `instanceof`) or a predicate: see {@link CommandSettings.ignoreExceptions}. */
export type IgnoreExceptions = readonly (abstract new (...args: never[]) => unknown)[] | ((error: unknown) => boolean);

/** A command's complete, validated, frozen settings. */
export interface CommandConfig {
  /** The command key. */
  readonly key: string;
  /** The group (the key when none was given). */
  readonly group: string;
  /** Timeout in ms, or `false`. */
  readonly timeout: number | false;
  /** `'semaphore'` or `'pool'`. */
  readonly isolation: IsolationStrategy;
  /** Semaphore permits (semaphore isolation). */
  readonly maxConcurrent: number;
  /** The pool key (pool isolation only, but always resolved). */
  readonly poolKey: string;
  /** Inline pool settings, if any. */
  readonly poolOptions: PoolOptions | undefined;
  /** Concurrent fallbacks allowed. */
  readonly fallbackMaxConcurrent: number;
  /** The adaptive limit's settings (used with `isolation: 'adaptive'`). */
  readonly adaptive: AdaptiveConfig;
  /** Whether the fallback is used. */
  readonly fallbackEnabled: boolean;
  /** Complete circuit breaker settings. */
  readonly circuitBreaker: CircuitBreakerConfig;
  /** Complete metrics settings. */
  readonly metrics: MetricsConfig;
  /** The rate limit, or `false` for none. */
  readonly rateLimit: RateLimitOptions | false;
  /** Whether the request cache may be used. */
  readonly requestCache: boolean;
  /** Whether executions are added to the request log. */
  readonly requestLog: boolean;
  /** Retry settings, or `false`. */
  readonly retry: RetryConfig | false;
  /** Hedging settings, or `false`. */
  readonly hedge: HedgeConfig | false;
  /** Whether the command declared itself idempotent. */
  readonly idempotent: boolean;
  /** Whether the command may be refused while the process sheds load (`priority` is not `'critical'`). */
  readonly sheddable: boolean;
  /** The command's load-shedding priority. */
  readonly priority: ShedPriority;
  /** Whether an error of `run` is the caller's (treated as a bad request); `null` when none is ignored. */
  readonly ignoreExceptions: ((error: unknown) => boolean) | null;
  /** Whether the caller receives `run`'s own error instead of a `CommandError` wrapping it. */
  readonly unwrapErrors: boolean;
}

/**
 * How important work is when the process sheds load: `'low'` is shed first, then `'normal'`, then `'high'`, each as
 * the event-loop delay climbs past its own bound; `'critical'` is never shed. See docs/load-shedding.md.
 */
export type ShedPriority = 'critical' | 'high' | 'normal' | 'low';

/** The priorities load shedding can refuse, lowest first (`'critical'` never is). */
export type SheddablePriority = Exclude<ShedPriority, 'critical'>;

/** The delay bounds of one priority level (`loadShedding.priorities.normal` / `.high`). */
export interface LoadSheddingBounds {
  /** Start shedding this priority when a delay sample is above this many ms. */
  readonly maxEventLoopDelay: number;
  /**
   * Stop shedding it when a sample is at or below this many ms.
   * @defaultValue `maxEventLoopDelay` × (the top-level `recoverEventLoopDelay` / `maxEventLoopDelay`), half by default
   */
  readonly recoverEventLoopDelay?: number;
}

/**
 * `configure({ loadShedding })`: refuse sheddable work while the process's own event loop is late.
 *
 * @example
 * ```ts
 * configure({ loadShedding: { maxEventLoopDelay: 100 } });  // shed above 100 ms, recover at 50 ms
 * configure({ loadShedding: false });                        // off again (the default)
 * ```
 */
export interface LoadSheddingOptions {
  /** Start shedding when a sample of the event-loop delay is above this many ms. Required. */
  readonly maxEventLoopDelay: number;
  /**
   * Stop shedding when a sample is at or below this many ms (the hysteresis: below `maxEventLoopDelay`).
   * @defaultValue half of `maxEventLoopDelay`
   */
  readonly recoverEventLoopDelay?: number;
  /** How often (ms) the delay is sampled: the worst delay seen in each interval is one sample. @defaultValue 100 */
  readonly sampleInterval?: number;
  /** Seconds the HTTP middleware's 503 asks clients to wait, in `Retry-After`. @defaultValue 1 */
  readonly retryAfter?: number;
  /**
   * The bounds of the higher priorities. `maxEventLoopDelay`/`recoverEventLoopDelay` above are the `'low'`
   * priority's (and `sheddable: true`'s); `'normal'` is shed only above its own bound, `'high'` above a higher one
   * still. Each bound must be above the one below it, and each recovery bound at or above the one below it, so a
   * priority is never shed while a lower one is served.
   * @defaultValue normal: twice `maxEventLoopDelay`; high: twice normal's; each recovering at the same fraction of
   * its bound as `'low'` does
   */
  readonly priorities?: { readonly normal?: LoadSheddingBounds; readonly high?: LoadSheddingBounds };
}

/** One resolved priority level of {@link LoadSheddingConfig}. */
export interface LoadSheddingLevel {
  /** The priority refused while this level sheds. */
  readonly priority: SheddablePriority;
  /** ms above which this priority is shed. */
  readonly maxEventLoopDelay: number;
  /** ms at or below which it is served again. */
  readonly recoverEventLoopDelay: number;
}

/** Resolved {@link LoadSheddingOptions}: every field present. */
export interface LoadSheddingConfig {
  /** ms above which shedding starts. */
  readonly maxEventLoopDelay: number;
  /** ms at or below which shedding stops. */
  readonly recoverEventLoopDelay: number;
  /** ms between samples. */
  readonly sampleInterval: number;
  /** `Retry-After` seconds of the HTTP middleware's 503. */
  readonly retryAfter: number;
  /** The levels, lowest priority first: `'low'` (the bounds above), `'normal'`, `'high'`. */
  readonly levels: readonly [LoadSheddingLevel, LoadSheddingLevel, LoadSheddingLevel];
}
