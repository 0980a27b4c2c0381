/**
 * breakwater: Hystrix-style resilience for Node.js.
 * @module
 */

/* Commands */
export {
  command,
  type CommandHandle,
  type CommandOptions,
  type ArgsOf,
  type ResultOf,
  type IsSyncRun,
  type SyncRunNeeded,
  type UntypedRunParameters,
} from './command/functional.js';
export { Command, ObservableCommand, type CommandClassOptions } from './command/Command.js';
export { captureExecution, ExecutionRecord, type CapturedExecution } from './command/ExecutionRecord.js';
export {
  observableCommand,
  type ObservableCommandHandle,
  type ObservableCommandOptions,
  type EmittedBy,
} from './command/observable.js';
export type { RunContext } from './command/executor.js';

/* Errors */
export {
  BreakwaterError,
  CommandError,
  BadRequestError,
  TimeoutError,
  CancelledError,
  isCommandError,
  isBadRequestError,
  isConfigError,
  type ConfigError,
  type FailureType,
} from './errors.js';

/* Configuration */
export { configure, resetConfiguration, type ConfigureOptions } from './config/configure.js';
export type {
  CommandSettings,
  CommandConfig,
  CircuitBreakerOptions,
  CircuitBreakerConfig,
  CircuitBreakerStrategy,
  HalfOpenConfig,
  MetricsOptions,
  MetricsConfig,
  PoolOptions,
  PoolConfig,
  RateLimitOptions,
  TokenBucketOptions,
  SharedLimiterOptions,
  IsolationStrategy,
  RetryOptions,
  RetryConfig,
  RetryBackoffConfig,
  RetryBudgetConfig,
  RetryJitter,
  HedgeOptions,
  HedgeConfig,
  HedgeDelay,
  AdaptiveAlgorithm,
  AdaptiveConfig,
  AdaptiveOptions,
  IgnoreExceptions,
} from './config/options.js';
export { CIRCUIT_BREAKER_DEFAULTS, METRICS_DEFAULTS, POOL_DEFAULTS, COMMAND_DEFAULTS } from './config/defaults.js';
export { RETRY_DEFAULTS, RETRY_BACKOFF_DEFAULTS, RETRY_BUDGET_DEFAULTS, HEDGE_DEFAULTS } from './config/defaults.js';

/* Circuit breaker */
export { CircuitBreaker } from './circuit/CircuitBreaker.js';
export type { CircuitState } from './circuit/breakerState.js';
export type { CircuitBreakerSnapshot } from './circuit/CircuitBreakerSnapshot.js';
export type { CircuitEvents, CircuitTransition, CircuitStoreEvent } from './circuit/events.js';
export type { BreakerStore } from './circuit/BreakerStore.js';
export { circuitBreakerFor, metricsFor, commandKeys } from './command/lookup.js';

/* Bulkheads and limiters */
export { Pool, type PoolSnapshot } from './bulkhead/Pool.js';
export { poolFor, allPools } from './bulkhead/registry.js';
export { Semaphore } from './bulkhead/Semaphore.js';
export { TokenBucket, type TakeOptions } from './limiter/TokenBucket.js';
export { sharedLimiter } from './limiter/registry.js';
export type { BucketStore } from './limiter/BucketStore.js';

/* Fleet-wide state (Redis, through the user's ioredis client) */
export { redisStore, RedisStore, type RedisStoreOptions, type RedisClientLike, type RedisSubscriberLike } from './store/redisStore.js';

/* Load shedding */
export type { LoadSheddingOptions, LoadSheddingConfig, LoadSheddingBounds, LoadSheddingLevel, ShedPriority, SheddablePriority } from './config/options.js';
export { loadSheddingSnapshot, type LoadSheddingSnapshot } from './shedding/loadShedding.js';
export type { SheddingLevel } from './shedding/SheddingState.js';
export {
  loadSheddingMiddleware,
  type LoadSheddingMiddlewareOptions,
  type LoadSheddingHandler,
  type ReplyLike,
  type ShedRequest,
  type RequestPriority,
} from './shedding/loadSheddingMiddleware.js';

/* Metrics */
export { CommandMetrics, type CommandMetricsSnapshot, type EventCounts } from './metrics/CommandMetrics.js';
export type { HealthSnapshot } from './metrics/HealthCounts.js';
export { PERCENTILE_KEYS, type LatencySnapshot } from './metrics/RollingPercentile.js';
export { EVENT_TYPES, HEALTH_TOTAL_TYPES, HEALTH_ERROR_TYPES, EXCEPTION_PRODUCING_TYPES, type EventType } from './metrics/eventType.js';

/* Events */
export { events, type GlobalEvents } from './command/globalEvents.js';
export type { LimiterStoreEvent, LimiterStoreEvents } from './limiter/storeEvents.js';
export type { CommandEvents, ExecutionEvent } from './command/events.js';

/* Request scope */
export { RequestContext, requestLog, type RequestLog, type RequestLogEntry } from './request/RequestContext.js';
export { collapser, allCollapsers, type CollapserOptions, type CollapserHandle, type CollapserScope } from './request/collapser.js';

/* Time */
export { systemClock, type Clock, type TimerHandle } from './time/Clock.js';

/* Observability */
export {
  toHystrixCommand,
  toHystrixThreadPool,
  toHystrixCollapser,
  hystrixDashboardSample,
  registerCollapserSource,
  type CollapserSnapshot,
  type CommandSample,
  type LimiterStoreSample,
  type HystrixCommandJson,
  type HystrixThreadPoolJson,
  type HystrixCollapserJson,
  type HystrixDashboardObject,
  type HystrixLatencyPercentiles,
  type HystrixBatchPercentiles,
} from './stream/hystrixJson.js';
export { dashboardEvents, type DashboardEventsOptions } from './stream/dashboardEvents.js';
export {
  hystrixStreamHandler,
  type HystrixStreamHandler,
  type HystrixStreamOptions,
  type HystrixStreamStats,
  type HystrixStreamEvents,
  type StreamAlreadyAnswered,
  type StreamClientDropped,
} from './stream/sseHandler.js';
export { MIN_STREAM_DELAY_MS, MAX_STREAM_DELAY_MS } from './stream/streamDelay.js';
export type { AllowedHosts } from './stream/hostCheck.js';
export { DEFAULT_WRITE_TIMEOUT_MS } from './stream/writeWatch.js';
export { registerPrometheus, type PrometheusOptions, type PrometheusRegistration } from './prometheus/registerPrometheus.js';
export { METRIC_NAMES, LABELS as PROMETHEUS_LABELS } from './prometheus/metricNames.js';

/* Decorators */
export {
  HystrixCommand,
  type HystrixCommandOptions,
  type HystrixCommandMode,
  type HystrixMethodDecorator,
  type HystrixModeMismatch,
  type SyncMethodNeedsMode,
  type FallbackRef,
  type FallbackMismatch,
} from './decorators/HystrixCommand.js';
export { currentExecution } from './decorators/currentExecution.js';

/* Dashboard */
export { startDashboard, type Dashboard, type DashboardOptions } from './dashboard/startDashboard.js';

/* Fleet */
export { startTurbine, type Turbine, type TurbineOptions } from './fleet/startTurbine.js';
export type { TurbineStreams, TurbineStreamSource, DnsDiscovery, HostResolver } from './fleet/discovery.js';
export type { InstanceStatus, TurbineInstancesJson } from './fleet/instanceStatus.js';
export { startClusterPrimary, type ClusterPrimary, type ClusterPrimaryOptions } from './fleet/startClusterPrimary.js';
export { reportToClusterPrimary, type ClusterWorkerOptions, type ClusterWorkerReporter } from './fleet/reportToClusterPrimary.js';
export { aggregateSamples, AGGREGATED_TYPES, type FleetObject, type InstanceSample, type InstanceDetail, type MixedCircuit } from './fleet/aggregate.js';
