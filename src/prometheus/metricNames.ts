/**
 * Metric and label names of the Prometheus exporter, in one place (resilience4j's `MetricNames`). Each name is
 * appended to the prefix given to `registerPrometheus` (default `breakwater_`).
 */
export const METRIC_NAMES = Object.freeze({
  /** Counter: events per command key since it was created (label `event`: lower-case event type). */
  commandEvents: 'command_events_total',
  /** Gauge: 1 while the circuit is OPEN or HALF_OPEN (the stream's `isCircuitBreakerOpen`), else 0. */
  circuitOpen: 'circuit_open',
  /** Gauge: 1 for the circuit's current `state` label (closed, open, half_open), 0 for the others. */
  circuitState: 'circuit_state',
  /** Gauge: health request count in the rolling window (what the breaker decides on). */
  healthRequests: 'command_health_requests',
  /** Gauge: health error count in the rolling window. */
  healthErrors: 'command_health_errors',
  /** Gauge: health errors / requests in the rolling window, 0–1. */
  errorRatio: 'command_error_ratio',
  /** Gauge: executions running now. */
  concurrentExecutions: 'command_concurrent_executions',
  /** Gauge: highest concurrency in the rolling window. */
  concurrentExecutionsMax: 'command_concurrent_executions_rolling_max',
  /** Gauge: latency quantiles over the percentile window, seconds (labels `kind`, `quantile`). */
  latency: 'command_latency_seconds',
  /** Gauge: mean latency over the percentile window, seconds (label `kind`). */
  latencyMean: 'command_latency_mean_seconds',
  /** Gauge: pool slots in use. */
  poolActive: 'pool_active',
  /** Gauge: executions waiting in the pool's queue. */
  poolQueued: 'pool_queued',
  /** Gauge: the pool's core size. */
  poolCoreSize: 'pool_core_size',
  /** Gauge: the pool's queue capacity (-1: no queue). */
  poolMaxQueueSize: 'pool_max_queue_size',
  /** Gauge: queue length at which the pool rejects. */
  poolQueueRejectionThreshold: 'pool_queue_rejection_threshold',
  /** Gauge: highest `active` in the rolling window. */
  poolActiveRollingMax: 'pool_active_rolling_max',
  /** Gauge: highest `active` ever. */
  poolLargest: 'pool_largest_active',
  /** Counter: executions finished in the pool. */
  poolExecutions: 'pool_executions_total',
  /** Counter: executions the pool rejected. */
  poolRejections: 'pool_rejections_total',
  /** Gauge: 1 while a store-backed limiter's store answers, 0 while it decides without it (label `limiter`). */
  limiterStoreAvailable: 'limiter_store_available',
  /** Counter: times a store-backed limiter gave its store up (label `limiter`). */
  limiterStoreUnavailable: 'limiter_store_unavailable_total',
  /** Counter: a store-backed limiter's decisions taken without its store (label `limiter`). */
  limiterStoreFallbackDecisions: 'limiter_store_fallback_decisions_total',
  /** Gauge: the current adaptive concurrency limit of an `isolation: 'adaptive'` command (in flight: `command_concurrent_executions`). */
  concurrencyLimit: 'command_concurrency_limit',
  /** Gauge: 1 while the process sheds load (`configure({ loadShedding })`), else 0. */
  loadShedding: 'load_shedding',
  /** Gauge: how many priorities the process sheds now: 0 none, 1 'low', 2 'low' and 'normal', 3 'low' to 'high'. */
  loadSheddingLevel: 'load_shedding_level',
  /** Gauge: the latest event-loop delay sample of load shedding, seconds (0 while it is off). */
  eventLoopDelay: 'load_shedding_event_loop_delay_seconds',
  /** Counter: HTTP requests `loadSheddingMiddleware()` answered with 503 since load shedding was switched on. */
  loadShedHttpRequests: 'load_shed_http_requests_total',
});

/**
 * How a `node:cluster` primary merges each metric over its workers (prom-client's `AggregatorRegistry`, see
 * docs/fleet.md): counters and load are summed; the open-circuit flag, the error ratio and latency quantiles take
 * the worst worker (the maximum of per-worker quantiles bounds the host's quantile from above); mean latency is
 * the mean of the workers' means; per-pool settings are the largest worker's; a limiter's store counts as
 * available only while every worker has it.
 */
export const CLUSTER_AGGREGATION: Readonly<Record<(typeof METRIC_NAMES)[keyof typeof METRIC_NAMES], 'sum' | 'max' | 'min' | 'average'>> = Object.freeze({
  command_events_total: 'sum',
  circuit_open: 'max',
  circuit_state: 'sum',
  command_health_requests: 'sum',
  command_health_errors: 'sum',
  command_error_ratio: 'max',
  command_concurrent_executions: 'sum',
  command_concurrent_executions_rolling_max: 'sum',
  command_latency_seconds: 'max',
  command_latency_mean_seconds: 'average',
  pool_active: 'sum',
  pool_queued: 'sum',
  pool_core_size: 'sum',
  pool_max_queue_size: 'max',
  pool_queue_rejection_threshold: 'max',
  pool_active_rolling_max: 'sum',
  pool_largest_active: 'sum',
  pool_executions_total: 'sum',
  pool_rejections_total: 'sum',
  limiter_store_available: 'min',
  limiter_store_unavailable_total: 'sum',
  limiter_store_fallback_decisions_total: 'sum',
  load_shedding: 'max',
  load_shedding_level: 'max',
  load_shedding_event_loop_delay_seconds: 'max',
  load_shed_http_requests_total: 'sum',
  command_concurrency_limit: 'sum',
});

/** Label names used by the exporter. */
export const LABELS = Object.freeze({
  command: 'command',
  group: 'group',
  event: 'event',
  state: 'state',
  kind: 'kind',
  quantile: 'quantile',
  pool: 'pool',
  limiter: 'limiter',
});

/** The quantile label values, keyed by the snapshot's percentile keys. */
export const QUANTILES = Object.freeze([
  ['0', '0'],
  ['25', '0.25'],
  ['50', '0.5'],
  ['75', '0.75'],
  ['90', '0.9'],
  ['95', '0.95'],
  ['99', '0.99'],
  ['99.5', '0.995'],
  ['100', '1'],
] as const);
