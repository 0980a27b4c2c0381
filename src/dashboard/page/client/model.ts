/**
 * Reading Hystrix stream objects into what a card shows (pure: no DOM, unit-tested in node).
 *
 * A Turbine stream (`reportingHosts` > 1) carries sums across its hosts: counts stay sums, while
 * `errorPercentage`, the latency percentiles and means are divided by `reportingHosts`, as the Hystrix Dashboard
 * does. `isCircuitBreakerOpen` is `true`/`false` when every host agrees and `{ "true": n, "false": m }` otherwise.
 */
import { num } from './format.js';

/** A circuit's state, shown as a word. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** The words for the states: the page never shows a state by colour alone. */
export const STATE_WORDS: Readonly<Record<CircuitState, string>> = { closed: 'Closed', open: 'Open', 'half-open': 'Half-open' };

/** One command as a card shows it. */
export interface CommandData {
  readonly name: string;
  readonly group: string;
  readonly state: CircuitState;
  /** Hosts reporting this command (1 for a single process). */
  readonly hosts: number;
  /** Hosts whose circuit is open (equal to `hosts` when open everywhere, 0 when closed everywhere). */
  readonly openHosts: number;
  readonly requests: number;
  readonly errors: number;
  readonly rate: number;
  readonly errorPct: number;
  readonly inFlight: number;
  readonly success: number;
  readonly failure: number;
  readonly timeout: number;
  readonly rejected: number;
  readonly shortCircuited: number;
  readonly fallback: number;
  readonly fallbackFailed: number;
  readonly fallbackMissing: number;
  /** -1 when the stream has no such field (not breakwater). */
  readonly rateLimited: number;
  /** LOAD_SHED in the window (0 when the stream has no such field). */
  readonly loadShed: number;
  /** RETRY and HEDGE in the rolling window (0 when the stream has no such field). */
  readonly retries: number;
  readonly hedges: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  readonly windowMs: number;
  readonly forceOpen: boolean;
  readonly forceClosed: boolean;
  readonly breakerDisabled: boolean;
  readonly isolation: 'pool' | 'semaphore';
  /** The breaker's trip rule in words when it is not Hystrix's default one ('' otherwise). */
  readonly rule: string;
  /** `isolation: 'adaptive'`: the algorithm ('' otherwise); its current limit is `limit`. */
  readonly adaptive: string;
  /** The semaphore size the stream reports (the current limit of an adaptive bulkhead). */
  readonly limit: number;
}

/** One pool as the table shows it. */
export interface PoolData {
  readonly name: string;
  readonly active: number;
  readonly queued: number;
  readonly maxActive: number;
  readonly executed: number;
  readonly rejected: number;
  readonly size: number;
  readonly hosts: number;
}

type Fields = Readonly<Record<string, unknown>>;

function field(obj: unknown, key: string): number {
  return obj !== null && typeof obj === 'object' ? num((obj as Fields)[key]) : 0;
}

/** How many of `hosts` hosts have the circuit open, from `isCircuitBreakerOpen` in any of its shapes. */
export function openHostsOf(open: unknown, hosts: number): number {
  if (open === true || open === 'true') return hosts;
  if (open === false || open === 'false' || open === undefined || open === null) return 0;
  if (typeof open === 'number') return Math.min(hosts, Math.max(0, Math.round(open)));
  if (typeof open === 'object') return Math.min(hosts, Math.max(0, Math.round(field(open, 'true'))));
  return 0;
}

function stateOf(d: Fields, hosts: number, openHosts: number): CircuitState {
  // breakwater's own field tells Half-open from Open; an aggregate (or a plain Hystrix stream) has only the count.
  const s = typeof d.circuitState === 'string' && hosts === 1 ? d.circuitState.toUpperCase() : '';
  if (s === 'OPEN') return 'open';
  if (s === 'CLOSED') return 'closed';
  if (s === 'HALF_OPEN' || s === 'HALF-OPEN') return 'half-open';
  return openHosts > 0 ? 'open' : 'closed';
}

/** Reads a `HystrixCommand` object. */
export function readCommand(d: Fields): CommandData {
  const hosts = Math.max(1, Math.round(num(d.reportingHosts)));
  const perHost = (v: unknown): number => num(v) / hosts;
  const windowMs = num(d.propertyValue_metricsRollingStatisticalWindowInMilliseconds) || 10000;
  const requests = Math.max(0, num(d.requestCount));
  const reportedOpen = openHostsOf(d.isCircuitBreakerOpen, hosts);
  const state = stateOf(d, hosts, reportedOpen);
  // One host: its state decides (breakwater's circuitState knows Half-open); several: the count Turbine wrote.
  const openHosts = hosts === 1 ? (state === 'closed' ? 0 : 1) : reportedOpen;
  return {
    name: String(d.name),
    group: d.group === undefined || d.group === null ? '' : String(d.group),
    state,
    hosts,
    openHosts,
    requests,
    errors: Math.max(0, num(d.errorCount)),
    rate: requests / (windowMs / 1000),
    errorPct: perHost(d.errorPercentage),
    inFlight: num(d.currentConcurrentExecutionCount),
    success: num(d.rollingCountSuccess),
    failure: num(d.rollingCountFailure),
    timeout: num(d.rollingCountTimeout),
    rejected: num(d.rollingCountThreadPoolRejected) + num(d.rollingCountSemaphoreRejected),
    shortCircuited: num(d.rollingCountShortCircuited),
    fallback: num(d.rollingCountFallbackSuccess),
    fallbackFailed: num(d.rollingCountFallbackFailure) + num(d.rollingCountFallbackRejection),
    fallbackMissing: num(d.rollingCountFallbackMissing),
    rateLimited: d.rollingCountRateLimited === undefined ? -1 : num(d.rollingCountRateLimited),
    loadShed: num(d.rollingCountLoadShed),
    retries: num(d.rollingCountRetry),
    hedges: num(d.rollingCountHedge),
    p50: field(d.latencyExecute, '50') / hosts,
    p90: field(d.latencyExecute, '90') / hosts,
    p99: field(d.latencyExecute, '99') / hosts,
    mean: perHost(d.latencyExecute_mean),
    windowMs,
    forceOpen: d.propertyValue_circuitBreakerForceOpen === true,
    forceClosed: d.propertyValue_circuitBreakerForceClosed === true,
    breakerDisabled: d.propertyValue_circuitBreakerEnabled === false,
    isolation: d.propertyValue_executionIsolationStrategy === 'THREAD' ? 'pool' : 'semaphore',
    rule: breakerRule(d),
    adaptive: typeof d.propertyValue_executionIsolationAdaptiveAlgorithm === 'string' ? d.propertyValue_executionIsolationAdaptiveAlgorithm : '',
    limit: num(d.propertyValue_executionIsolationSemaphoreMaxConcurrentRequests),
  };
}

/** The breaker's trip rule in words, from breakwater's extra `propertyValue_circuitBreaker*` fields. */
function breakerRule(d: Fields): string {
  const parts: string[] = [];
  const strategy = d.propertyValue_circuitBreakerStrategy;
  if (strategy === 'consecutive') parts.push(`opens after ${num(d.propertyValue_circuitBreakerConsecutiveFailures)} failures in a row`);
  if (strategy === 'countWindow') {
    parts.push(
      `opens at ${num(d.propertyValue_circuitBreakerErrorThresholdPercentage)}% errors of the last ${num(d.propertyValue_circuitBreakerWindowSize)} calls`,
    );
  }
  const slowMs = num(d.propertyValue_circuitBreakerSlowCallDurationInMilliseconds);
  if (slowMs > 0) parts.push(`or ${num(d.propertyValue_circuitBreakerSlowCallRateThreshold)}% calls slower than ${slowMs} ms`);
  const trials = num(d.propertyValue_circuitBreakerHalfOpenSuccessThreshold);
  if (trials > 1 || num(d.propertyValue_circuitBreakerHalfOpenPermittedCalls) > 1) parts.push(`closes after ${trials} good trials`);
  return parts.join(', ');
}

/** Reads a `HystrixThreadPool` object. */
export function readPool(d: Fields): PoolData {
  return {
    name: String(d.name),
    active: num(d.currentActiveCount),
    queued: num(d.currentQueueSize),
    maxActive: num(d.rollingMaxActiveThreads),
    executed: num(d.rollingCountThreadsExecuted),
    rejected: num(d.rollingCountCommandRejections),
    size: num(d.currentCorePoolSize) || num(d.currentMaximumPoolSize),
    hosts: Math.max(1, Math.round(num(d.reportingHosts))),
  };
}

/** "Open", "Closed", "Half-open", or "Open on 2 of 5 hosts" when only some hosts are open. */
export function stateText(d: Pick<CommandData, 'state' | 'hosts' | 'openHosts'>): string {
  const word = STATE_WORDS[d.state];
  if (d.hosts > 1 && d.openHosts > 0 && d.openHosts < d.hosts) return `${word} on ${d.openHosts} of ${d.hosts} hosts`;
  return word;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? 0 : sum / values.length;
}

function sum<T>(list: readonly T[], pick: (item: T) => number): number {
  let total = 0;
  for (const item of list) total += pick(item);
  return total;
}

/**
 * One command across several instances, as the page shows it with `aggregate: true` (the way Turbine sums and the
 * Hystrix Dashboard shows a Turbine stream): counts, rates and in-flight summed; the error percentage computed from
 * the summed counts (the fleet's, not the mean of the instances'); latency the mean of the instances' figures (a
 * fleet percentile cannot be had from percentiles); hosts and open hosts summed; flags set if any instance has them.
 */
export function mergeCommands(list: readonly CommandData[]): CommandData {
  const first = list[0];
  if (first === undefined) throw new RangeError('mergeCommands needs at least one instance');
  if (list.length === 1) return first;
  const hosts = sum(list, (d) => d.hosts);
  const openHosts = sum(list, (d) => d.openHosts);
  const requests = sum(list, (d) => d.requests);
  const errors = sum(list, (d) => d.errors);
  const rateLimited = list.every((d) => d.rateLimited < 0) ? -1 : sum(list, (d) => Math.max(0, d.rateLimited));
  return {
    name: first.name,
    group: list.find((d) => d.group !== '')?.group ?? '',
    state: list.some((d) => d.state === 'open') ? 'open' : list.some((d) => d.state === 'half-open') ? 'half-open' : 'closed',
    hosts,
    openHosts,
    requests,
    errors,
    rate: sum(list, (d) => d.rate),
    errorPct: requests > 0 ? (errors / requests) * 100 : 0,
    inFlight: sum(list, (d) => d.inFlight),
    success: sum(list, (d) => d.success),
    failure: sum(list, (d) => d.failure),
    timeout: sum(list, (d) => d.timeout),
    rejected: sum(list, (d) => d.rejected),
    shortCircuited: sum(list, (d) => d.shortCircuited),
    fallback: sum(list, (d) => d.fallback),
    fallbackFailed: sum(list, (d) => d.fallbackFailed),
    fallbackMissing: sum(list, (d) => d.fallbackMissing),
    rateLimited,
    loadShed: sum(list, (d) => d.loadShed),
    retries: sum(list, (d) => d.retries),
    hedges: sum(list, (d) => d.hedges),
    p50: mean(list.map((d) => d.p50)),
    p90: mean(list.map((d) => d.p90)),
    p99: mean(list.map((d) => d.p99)),
    mean: mean(list.map((d) => d.mean)),
    windowMs: first.windowMs,
    forceOpen: list.some((d) => d.forceOpen),
    forceClosed: list.some((d) => d.forceClosed),
    breakerDisabled: list.some((d) => d.breakerDisabled),
    isolation: first.isolation,
    rule: first.rule,
    adaptive: first.adaptive,
    limit: sum(list, (d) => d.limit),
  };
}

/** One pool across several instances: every figure summed (sizes too: the fleet's capacity). */
export function mergePools(list: readonly PoolData[]): PoolData {
  const first = list[0];
  if (first === undefined) throw new RangeError('mergePools needs at least one instance');
  if (list.length === 1) return first;
  return {
    name: first.name,
    active: sum(list, (p) => p.active),
    queued: sum(list, (p) => p.queued),
    maxActive: sum(list, (p) => p.maxActive),
    executed: sum(list, (p) => p.executed),
    rejected: sum(list, (p) => p.rejected),
    size: sum(list, (p) => p.size),
    hosts: sum(list, (p) => p.hosts),
  };
}
