import type { Registry } from 'prom-client';
import { promClient } from '../internal/lazyModules.js';
import { configError } from '../errors.js';
import { readKnown } from '../config/validate.js';
import type { PoolSnapshot } from '../bulkhead/Pool.js';
import { CLUSTER_AGGREGATION, METRIC_NAMES } from './metricNames.js';
import { Family } from './Family.js';
import { loadSheddingSnapshot, shedder } from '../shedding/loadShedding.js';
import {
  eventSeries,
  NO_LABELS,
  latencyMeanSeries,
  latencySeries,
  stateSeries,
  type CommandFilter,
  type CommandRow,
  type Emit,
  type LimiterRow,
  type ScrapeData,
} from './scrapeData.js';

/** Options of {@link registerPrometheus}. */
export interface PrometheusOptions {
  /**
   * Prepended to every metric name; must be a valid Prometheus name prefix (or empty).
   * @defaultValue 'breakwater_'
   */
  readonly prefix?: string;
  /**
   * `false` leaves out the latency families (`command_latency_seconds` and `command_latency_mean_seconds`: 20 of
   * the 49 series per key), for when Prometheus holds too many series. The stream keeps its percentiles.
   * @defaultValue true
   */
  readonly percentiles?: boolean;
  /**
   * Which command keys to export: asked for each key and its group at every scrape; only keys it returns `true`
   * for get series. A filter that throws leaves that key out, and a process warning (code `BW_PROMETHEUS_FILTER`)
   * says so once. Pools are always exported.
   */
  readonly filter?: (commandKey: string, group: string) => boolean;
}

/** What {@link registerPrometheus} returns. */
export interface PrometheusRegistration {
  /** The registry the collectors were added to. */
  readonly registry: Registry;
  /** The prefix in use. */
  readonly prefix: string;
  /** The full names of the registered metrics. */
  readonly metricNames: readonly string[];
  /** Removes every breakwater metric from the registry; idempotent. */
  unregister(): void;
}

const registrations = new WeakMap<Registry, Map<string, PrometheusRegistration>>();

/** How the cluster primary merges a metric over workers (prom-client's `aggregator`); sum unless listed. */
function clusterAggregation(name: string): 'sum' | 'max' | 'min' | 'average' {
  return (CLUSTER_AGGREGATION as Readonly<Record<string, 'sum' | 'max' | 'min' | 'average'>>)[name] ?? 'sum';
}
const PREFIX_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/**
 * Adds breakwater's collectors to a prom-client registry. Nothing is recorded per call: every value is read
 * from the command, circuit and pool snapshots when the registry is scraped, each key once per scrape, in slices
 * that yield to the event loop (see docs/prometheus.md). Registering twice on the same registry with the same
 * prefix returns the first registration (while its metrics are still in the registry).
 *
 * Metrics (with the default prefix; see docs/prometheus.md):
 * `breakwater_command_events_total{command,group,event}`, `breakwater_circuit_open{command,group}`,
 * `breakwater_circuit_state{command,group,state}`, `breakwater_command_health_requests`,
 * `breakwater_command_health_errors`, `breakwater_command_error_ratio`,
 * `breakwater_command_concurrent_executions`, `breakwater_command_concurrent_executions_rolling_max`,
 * `breakwater_command_latency_seconds{command,group,kind,quantile}`, `breakwater_command_latency_mean_seconds`,
 * and per pool `breakwater_pool_active`, `_queued`, `_core_size`, `_max_queue_size`,
 * `_queue_rejection_threshold`, `_active_rolling_max`, `_largest_active`, `_executions_total`, `_rejections_total`;
 * for the process `breakwater_load_shedding`, `breakwater_load_shedding_level`, `breakwater_load_shedding_event_loop_delay_seconds` and
 * `breakwater_load_shed_http_requests_total`.
 *
 * @param registry - the prom-client registry; defaults to prom-client's global `register`.
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const prometheus = registerPrometheus(registry, { percentiles: false, filter: (key) => !key.startsWith('Debug.') });
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 * // later
 * prometheus.unregister();
 * ```
 */
export function registerPrometheus(registry: Registry = promClient().register, options: PrometheusOptions = {}): PrometheusRegistration {
  if (typeof registry !== 'object' || registry === null || typeof (registry as Partial<Registry>).registerMetric !== 'function') {
    throw configError('registerPrometheus.registry', 'a prom-client Registry', registry, 'type');
  }
  const raw = readKnown(options, 'registerPrometheus', ['prefix', 'percentiles', 'filter']);
  const prefix = raw.prefix === undefined ? 'breakwater_' : raw.prefix;
  if (typeof prefix !== 'string') throw configError('registerPrometheus.prefix', 'a string', prefix, 'type');
  if (!PREFIX_RE.test(prefix)) throw configError('registerPrometheus.prefix', 'a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)', prefix, 'range');
  const percentiles = raw.percentiles === undefined ? true : raw.percentiles;
  if (typeof percentiles !== 'boolean') throw configError('registerPrometheus.percentiles', 'a boolean', percentiles, 'type');
  if (raw.filter !== undefined && typeof raw.filter !== 'function') throw configError('registerPrometheus.filter', 'a function', raw.filter, 'type');
  const filter = raw.filter as CommandFilter | undefined;

  let byPrefix = registrations.get(registry);
  const existing = byPrefix?.get(prefix);
  if (existing !== undefined) {
    // Still registered: the same registration. Gone (registry.clear(), removeSingleMetric): start afresh.
    if (existing.metricNames.every((name) => registry.getSingleMetric(name) !== undefined)) return existing;
    existing.unregister();
  }

  /** The rows this registration exports, filtered once per scrape. */
  const filtered = new WeakMap<ScrapeData, readonly CommandRow[]>();
  let warned = false;
  const keep = (row: CommandRow): boolean => {
    try {
      return filter!(row.key, row.group) === true;
    } catch (error) {
      if (!warned) {
        warned = true;
        process.emitWarning(`breakwater: registerPrometheus filter threw for '${row.key}'; the key is left out (${String(error)})`, { code: 'BW_PROMETHEUS_FILTER' });
      }
      return false;
    }
  };
  const rows = (data: ScrapeData): readonly CommandRow[] => {
    if (filter === undefined) return data.commands;
    let out = filtered.get(data);
    if (out === undefined) filtered.set(data, (out = data.commands.filter(keep)));
    return out;
  };

  const families: Family[] = [];
  const command = (name: string, help: string, type: Family['type'], series: (row: CommandRow, emit: Emit) => void): void => {
    families.push(new Family(prefix + name, help, type, registry, { of: 'command', rows, series }, clusterAggregation(name)));
  };
  const perCommand = (name: string, help: string, value: (row: CommandRow) => number): void =>
    command(name, help, 'gauge', (row, emit) => emit(row.labels, null, value(row)));
  const perPool = (name: string, help: string, type: Family['type'], value: (p: PoolSnapshot) => number): void => {
    families.push(
      new Family(prefix + name, help, type, registry, { of: 'pool', series: (row, emit) => emit(row.labels, null, value(row.snapshot)) }, clusterAggregation(name)),
    );
  };

  command(METRIC_NAMES.commandEvents, 'Command events since the command key was created, by event type.', 'counter', eventSeries);
  perCommand(METRIC_NAMES.circuitOpen, 'Whether the circuit is open or half-open (1) or closed (0).', (row) => (row.open ? 1 : 0));
  command(METRIC_NAMES.circuitState, 'The circuit state: 1 for the current state label, 0 for the others.', 'gauge', stateSeries);
  perCommand(METRIC_NAMES.healthRequests, 'Health request count in the rolling window (success, failure, timeout, rejections).', (r) => r.snapshot.health.requestCount);
  perCommand(METRIC_NAMES.healthErrors, 'Health error count in the rolling window (failure, timeout, rejections).', (r) => r.snapshot.health.errorCount);
  perCommand(METRIC_NAMES.errorRatio, 'Health errors divided by health requests in the rolling window (0 to 1).', (r) =>
    r.snapshot.health.requestCount === 0 ? 0 : r.snapshot.health.errorCount / r.snapshot.health.requestCount,
  );
  perCommand(METRIC_NAMES.concurrentExecutions, 'Executions running now.', (r) => r.snapshot.concurrency.current);
  command(METRIC_NAMES.concurrencyLimit, 'The adaptive concurrency limit of an isolation: adaptive command.', 'gauge', (row, emit) => {
    if (row.limit >= 0) emit(row.labels, null, row.limit);
  });
  perCommand(METRIC_NAMES.concurrentExecutionsMax, 'Highest concurrency in the rolling window.', (r) => r.snapshot.concurrency.rollingMax);
  if (percentiles) {
    // Quantiles are exposed as a summary (Prometheus reserves the `quantile` label for summaries); there is no
    // `_sum`/`_count`, since the rolling window keeps no cumulative latency sum.
    command(
      METRIC_NAMES.latency,
      'Latency quantiles over the percentile window, in seconds; kind="execute" is run alone, kind="total" the whole execution.',
      'summary',
      (row, emit) => {
        if (row.percentiles) latencySeries(row, emit);
      },
    );
    command(METRIC_NAMES.latencyMean, 'Mean latency over the percentile window, in seconds.', 'gauge', (row, emit) => {
      if (row.percentiles) latencyMeanSeries(row, emit);
    });
  }
  perPool(METRIC_NAMES.poolActive, 'Pool slots in use.', 'gauge', (p) => p.active);
  perPool(METRIC_NAMES.poolQueued, 'Executions waiting in the pool queue.', 'gauge', (p) => p.queued);
  perPool(METRIC_NAMES.poolCoreSize, 'The pool core size (concurrent executions allowed).', 'gauge', (p) => p.coreSize);
  perPool(METRIC_NAMES.poolMaxQueueSize, 'The pool queue capacity (-1: no queue).', 'gauge', (p) => p.maxQueueSize);
  perPool(METRIC_NAMES.poolQueueRejectionThreshold, 'Queue length at which the pool rejects.', 'gauge', (p) => p.queueSizeRejectionThreshold);
  perPool(METRIC_NAMES.poolActiveRollingMax, 'Highest number of slots in use in the rolling window.', 'gauge', (p) => p.rollingMaxActive);
  perPool(METRIC_NAMES.poolLargest, 'Highest number of slots ever in use.', 'gauge', (p) => p.largest);
  perPool(METRIC_NAMES.poolExecutions, 'Executions finished in the pool.', 'counter', (p) => p.cumulativeExecuted);
  perPool(METRIC_NAMES.poolRejections, 'Executions the pool rejected.', 'counter', (p) => p.cumulativeRejected);
  const perLimiter = (name: string, help: string, type: Family['type'], value: (l: LimiterRow) => number): void => {
    families.push(new Family(prefix + name, help, type, registry, { of: 'limiter', series: (row, emit) => emit(row.labels, null, value(row)) }, clusterAggregation(name)));
  };
  perLimiter(METRIC_NAMES.limiterStoreAvailable, "Whether a store-backed limiter's store answers (1) or it decides without it (0).", 'gauge', (l) => (l.storeAvailable ? 1 : 0));
  perLimiter(METRIC_NAMES.limiterStoreUnavailable, 'Times a store-backed limiter gave its store up.', 'counter', (l) => l.unavailableCount);
  perLimiter(METRIC_NAMES.limiterStoreFallbackDecisions, 'Decisions a store-backed limiter took without its store.', 'counter', (l) => l.fallbackDecisions);

  // the process's load shedding (0 while it is off)
  const perProcess = (name: string, help: string, type: Family['type'], value: () => number): void => {
    families.push(new Family(prefix + name, help, type, registry, { of: 'process', series: (emit) => emit(NO_LABELS, null, value()) }, clusterAggregation(name)));
  };
  perProcess(METRIC_NAMES.loadShedding, 'Whether the process sheds load now (1) or not (0): event-loop delay above loadShedding.maxEventLoopDelay.', 'gauge', () =>
    loadSheddingSnapshot().shedding ? 1 : 0,
  );
  perProcess(
    METRIC_NAMES.loadSheddingLevel,
    "How many priorities the process sheds now: 0 none, 1 'low', 2 'low' and 'normal', 3 'low', 'normal' and 'high' ('critical' is never shed).",
    'gauge',
    () => shedder.state.levelCount,
  );
  perProcess(METRIC_NAMES.eventLoopDelay, 'The latest event-loop delay sample of load shedding, in seconds (0 while it is off).', 'gauge', () => loadSheddingSnapshot().eventLoopDelayMs / 1000);
  perProcess(METRIC_NAMES.loadShedHttpRequests, 'HTTP requests answered 503 by loadSheddingMiddleware() since load shedding was switched on.', 'counter', () =>
    loadSheddingSnapshot().httpRequestsShed,
  );

  const added: string[] = [];
  try {
    for (const metric of families) {
      registry.registerMetric(metric as never);
      added.push(metric.name);
    }
  } catch (error) {
    for (const name of added) registry.removeSingleMetric(name);
    throw error;
  }

  let active = true;
  const registration: PrometheusRegistration = {
    registry,
    prefix,
    metricNames: Object.freeze([...added]),
    unregister() {
      if (!active) return;
      active = false;
      families.forEach((metric, i) => {
        if (registry.getSingleMetric(added[i]!) === (metric as unknown)) registry.removeSingleMetric(added[i]!);
      });
      if (registrations.get(registry)?.get(prefix) === registration) registrations.get(registry)!.delete(prefix);
    },
  };
  if (byPrefix === undefined) {
    byPrefix = new Map();
    registrations.set(registry, byPrefix);
  }
  byPrefix.set(prefix, registration);
  return registration;
}

