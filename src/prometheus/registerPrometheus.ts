import { Counter, Gauge, register as defaultRegistry, type Registry } from 'prom-client';
import { allPools } from '../bulkhead/registry.js';
import type { PoolSnapshot } from '../bulkhead/Pool.js';
import { allRuntimes } from '../command/CommandRuntime.js';
import { getClock } from '../config/store.js';
import { configError } from '../errors.js';
import { readKnown } from '../config/validate.js';
import type { CommandMetricsSnapshot } from '../metrics/CommandMetrics.js';
import { storeLimiters } from '../limiter/registry.js';
import type { StoreBucket } from '../limiter/StoreBucket.js';
import { EVENT_TYPES } from '../metrics/eventType.js';
import { CLUSTER_AGGREGATION, LABELS, METRIC_NAMES, QUANTILES } from './metricNames.js';

/** How the cluster primary merges a metric over workers (prom-client's `aggregator`); sum unless listed. */
function clusterAggregation(name: string): 'sum' | 'max' | 'min' | 'average' {
  return (CLUSTER_AGGREGATION as Readonly<Record<string, 'sum' | 'max' | 'min' | 'average'>>)[name] ?? 'sum';
}

/** Options of {@link registerPrometheus}. */
export interface PrometheusOptions {
  /**
   * Prepended to every metric name; must be a valid Prometheus name prefix (or empty).
   * @defaultValue 'breakwater_'
   */
  readonly prefix?: string;
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

interface CommandRow {
  readonly labels: { readonly command: string; readonly group: string };
  readonly snapshot: CommandMetricsSnapshot;
  readonly open: boolean;
  readonly percentiles: boolean;
}

interface ScrapeData {
  readonly commands: CommandRow[];
  readonly pools: PoolSnapshot[];
  readonly limiters: StoreBucket[];
}

const registrations = new WeakMap<Registry, Map<string, PrometheusRegistration>>();
const PREFIX_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const STATES = [
  ['CLOSED', 'closed'],
  ['OPEN', 'open'],
  ['HALF_OPEN', 'half_open'],
] as const;

let cached: ScrapeData | null = null;

/** One snapshot of everything per scrape: prom-client runs every collector synchronously in one turn. */
function scrapeData(): ScrapeData {
  if (cached !== null) return cached;
  const now = getClock().now();
  const commands: CommandRow[] = [];
  for (const rt of allRuntimes()) {
    const snapshot = rt.metrics.snapshot(now);
    commands.push({
      labels: { command: snapshot.commandKey, group: snapshot.group },
      snapshot,
      open: rt.breaker.isOpen,
      percentiles: rt.config.metrics.percentileEnabled,
    });
  }
  const pools = allPools().map((p) => p.snapshot(now));
  cached = { commands, pools, limiters: storeLimiters() };
  queueMicrotask(() => {
    cached = null;
  });
  return cached;
}

/**
 * Adds breakwater's collectors to a prom-client registry. Nothing is recorded per call: every value is read
 * from the command, circuit and pool snapshots when the registry is scraped (`collect()`). Registering twice on
 * the same registry with the same prefix returns the first registration.
 *
 * Metrics (with the default prefix; see docs/prometheus.md):
 * `breakwater_command_events_total{command,group,event}`, `breakwater_circuit_open{command,group}`,
 * `breakwater_circuit_state{command,group,state}`, `breakwater_command_health_requests`,
 * `breakwater_command_health_errors`, `breakwater_command_error_ratio`,
 * `breakwater_command_concurrent_executions`, `breakwater_command_concurrent_executions_rolling_max`,
 * `breakwater_command_latency_seconds{command,group,kind,quantile}`, `breakwater_command_latency_mean_seconds`,
 * and per pool `breakwater_pool_active`, `_queued`, `_core_size`, `_max_queue_size`,
 * `_queue_rejection_threshold`, `_active_rolling_max`, `_largest_active`, `_executions_total`, `_rejections_total`.
 *
 * @param registry - the prom-client registry; defaults to prom-client's global `register`.
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const prometheus = registerPrometheus(registry);
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 * // later
 * prometheus.unregister();
 * ```
 */
export function registerPrometheus(registry: Registry = defaultRegistry, options: PrometheusOptions = {}): PrometheusRegistration {
  if (typeof registry !== 'object' || registry === null || typeof (registry as Partial<Registry>).registerMetric !== 'function') {
    throw configError('registerPrometheus.registry', 'a prom-client Registry', registry, 'type');
  }
  const raw = readKnown(options, 'registerPrometheus', ['prefix']);
  const prefix = raw.prefix === undefined ? 'breakwater_' : raw.prefix;
  if (typeof prefix !== 'string') throw configError('registerPrometheus.prefix', 'a string', prefix, 'type');
  if (!PREFIX_RE.test(prefix)) throw configError('registerPrometheus.prefix', 'a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)', prefix, 'range');

  let byPrefix = registrations.get(registry);
  const existing = byPrefix?.get(prefix);
  if (existing !== undefined) return existing;

  const metrics: (Counter | Gauge)[] = [];
  const cmd = [LABELS.command, LABELS.group] as const;
  const pool = [LABELS.pool] as const;
  const gauge = (
    name: string,
    help: string,
    labelNames: readonly string[],
    fill: (g: Gauge, data: ScrapeData) => void,
    type: 'gauge' | 'summary' = 'gauge',
  ): void => {
    const metric = new Gauge({
      name: prefix + name,
      help,
      labelNames,
      registers: [],
      aggregator: clusterAggregation(name),
      collect() {
        this.reset();
        fill(this, scrapeData());
      },
    });
    // Quantiles are exposed as a summary (Prometheus reserves the `quantile` label for summaries); there is no
    // `_sum`/`_count`, since the rolling window keeps no cumulative latency sum.
    if (type === 'summary') (metric as unknown as { type: string }).type = 'summary';
    metrics.push(metric);
  };
  const counter = (name: string, help: string, labelNames: readonly string[], fill: (c: Counter, data: ScrapeData) => void): void => {
    metrics.push(
      new Counter({
        name: prefix + name,
        help,
        labelNames,
        registers: [],
        aggregator: clusterAggregation(name),
        collect() {
          this.reset();
          fill(this, scrapeData());
        },
      }),
    );
  };
  const perCommand = (name: string, help: string, value: (row: CommandRow) => number): void =>
    gauge(name, help, cmd, (g, d) => {
      for (const row of d.commands) g.set(row.labels, value(row));
    });
  const perPool = (name: string, help: string, value: (p: PoolSnapshot) => number): void =>
    gauge(name, help, pool, (g, d) => {
      for (const p of d.pools) g.set({ pool: p.poolKey }, value(p));
    });

  counter(METRIC_NAMES.commandEvents, 'Command events since the command key was created, by event type.', [...cmd, LABELS.event], (c, d) => {
    for (const row of d.commands) {
      for (const type of EVENT_TYPES) {
        c.inc({ ...row.labels, event: type.toLowerCase() }, row.snapshot.cumulative[type]);
      }
    }
  });
  perCommand(METRIC_NAMES.circuitOpen, 'Whether the circuit is open or half-open (1) or closed (0).', (row) => (row.open ? 1 : 0));
  gauge(METRIC_NAMES.circuitState, 'The circuit state: 1 for the current state label, 0 for the others.', [...cmd, LABELS.state], (g, d) => {
    for (const row of d.commands) {
      for (const [state, label] of STATES) g.set({ ...row.labels, state: label }, row.snapshot.circuit === state ? 1 : 0);
    }
  });
  perCommand(METRIC_NAMES.healthRequests, 'Health request count in the rolling window (success, failure, timeout, rejections).', (r) => r.snapshot.health.requestCount);
  perCommand(METRIC_NAMES.healthErrors, 'Health error count in the rolling window (failure, timeout, rejections).', (r) => r.snapshot.health.errorCount);
  perCommand(METRIC_NAMES.errorRatio, 'Health errors divided by health requests in the rolling window (0 to 1).', (r) =>
    r.snapshot.health.requestCount === 0 ? 0 : r.snapshot.health.errorCount / r.snapshot.health.requestCount,
  );
  perCommand(METRIC_NAMES.concurrentExecutions, 'Executions running now.', (r) => r.snapshot.concurrency.current);
  perCommand(METRIC_NAMES.concurrentExecutionsMax, 'Highest concurrency in the rolling window.', (r) => r.snapshot.concurrency.rollingMax);
  gauge(
    METRIC_NAMES.latency,
    'Latency quantiles over the percentile window, in seconds; kind="execute" is run alone, kind="total" the whole execution.',
    [...cmd, LABELS.kind, LABELS.quantile],
    (g, d) => {
      for (const row of d.commands) {
        if (!row.percentiles) continue;
        for (const [kind, latency] of [['execute', row.snapshot.latencyExecute], ['total', row.snapshot.latencyTotal]] as const) {
          for (const [key, quantile] of QUANTILES) g.set({ ...row.labels, kind, quantile }, latency.percentiles[key] / 1000);
        }
      }
    },
    'summary',
  );
  gauge(METRIC_NAMES.latencyMean, 'Mean latency over the percentile window, in seconds.', [...cmd, LABELS.kind], (g, d) => {
    for (const row of d.commands) {
      if (!row.percentiles) continue;
      g.set({ ...row.labels, kind: 'execute' }, row.snapshot.latencyExecute.mean / 1000);
      g.set({ ...row.labels, kind: 'total' }, row.snapshot.latencyTotal.mean / 1000);
    }
  });
  perPool(METRIC_NAMES.poolActive, 'Pool slots in use.', (p) => p.active);
  perPool(METRIC_NAMES.poolQueued, 'Executions waiting in the pool queue.', (p) => p.queued);
  perPool(METRIC_NAMES.poolCoreSize, 'The pool core size (concurrent executions allowed).', (p) => p.coreSize);
  perPool(METRIC_NAMES.poolMaxQueueSize, 'The pool queue capacity (-1: no queue).', (p) => p.maxQueueSize);
  perPool(METRIC_NAMES.poolQueueRejectionThreshold, 'Queue length at which the pool rejects.', (p) => p.queueSizeRejectionThreshold);
  perPool(METRIC_NAMES.poolActiveRollingMax, 'Highest number of slots in use in the rolling window.', (p) => p.rollingMaxActive);
  perPool(METRIC_NAMES.poolLargest, 'Highest number of slots ever in use.', (p) => p.largest);
  counter(METRIC_NAMES.poolExecutions, 'Executions finished in the pool.', pool, (c, d) => {
    for (const p of d.pools) c.inc({ pool: p.poolKey }, p.cumulativeExecuted);
  });
  counter(METRIC_NAMES.poolRejections, 'Executions the pool rejected.', pool, (c, d) => {
    for (const p of d.pools) c.inc({ pool: p.poolKey }, p.cumulativeRejected);
  });
  const limiter = [LABELS.limiter] as const;
  gauge(METRIC_NAMES.limiterStoreAvailable, 'Whether a store-backed limiter\'s store answers (1) or it decides without it (0).', limiter, (g, d) => {
    for (const l of d.limiters) g.set({ limiter: l.name }, l.storeAvailable ? 1 : 0);
  });
  counter(METRIC_NAMES.limiterStoreUnavailable, 'Times a store-backed limiter gave its store up.', limiter, (c, d) => {
    for (const l of d.limiters) c.inc({ limiter: l.name }, l.unavailableCount);
  });
  counter(METRIC_NAMES.limiterStoreFallbackDecisions, 'Decisions a store-backed limiter took without its store.', limiter, (c, d) => {
    for (const l of d.limiters) c.inc({ limiter: l.name }, l.fallbackDecisions);
  });

  const added: string[] = [];
  try {
    for (const metric of metrics) {
      const name = (metric as unknown as { name: string }).name;
      registry.registerMetric(metric);
      added.push(name);
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
      for (const name of added) {
        if (registry.getSingleMetric(name) === metrics[added.indexOf(name)]) registry.removeSingleMetric(name);
      }
      registrations.get(registry)?.delete(prefix);
    },
  };
  if (byPrefix === undefined) {
    byPrefix = new Map();
    registrations.set(registry, byPrefix);
  }
  byPrefix.set(prefix, registration);
  return registration;
}
