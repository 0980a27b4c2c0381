/**
 * The aggregation core of the turbine and of the cluster primary: many instances' latest Hystrix stream objects
 * in, one object per (type, name) out, following Turbine's rules so that the original Hystrix Dashboard, which
 * divides some fields by `reportingHosts`, shows fleet figures. Pure: no clock, no I/O; the same input gives the
 * same output.
 */

/** One object of a Hystrix stream as read from an instance (parsed JSON; only `type` and `name` are relied on). */
export type FleetObject = Readonly<Record<string, unknown>>;

/** The latest objects of one instance: one per (type, name), in the order the instance sent them. */
export interface InstanceSample {
  /** The instance's identity in the fleet (a stream URL's host and path, `ip:port`, or `worker <id>`). */
  readonly id: string;
  /** Its latest object per command, pool and collapser. */
  readonly objects: Iterable<FleetObject>;
}

/** How many instances report a key's circuit open and closed, when they disagree. */
export interface MixedCircuit {
  readonly true: number;
  readonly false: number;
}

/** Per-instance figures kept beside an aggregated `HystrixCommand` (breakwater's `instances` field). */
export interface InstanceDetail {
  /** The instance's id (see {@link InstanceSample.id}). */
  readonly id: string;
  /** Hosts behind it: 1 for an instance, more when the upstream is itself a turbine. */
  readonly reportingHosts: number;
  readonly requestCount: number;
  readonly errorCount: number;
  /** `floor(100 × errorCount / requestCount)`, computed from its counts (0 without requests). */
  readonly errorPercentage: number;
  /** Hosts behind it with the circuit open (0 or 1 for a plain instance). */
  readonly openHosts: number;
  /** Its `circuitState` when it sends one (breakwater instances do), else `OPEN`/`CLOSED` from `isCircuitBreakerOpen`. */
  readonly circuitState: string;
}

/** The object types Turbine aggregates; anything else an upstream sends is not forwarded. */
export const AGGREGATED_TYPES = Object.freeze(['HystrixCommand', 'HystrixThreadPool', 'HystrixCollapser'] as const);

/**
 * `propertyValue_*` fields are configuration, not load: they are taken from the first instance, not summed — except
 * these two of `HystrixThreadPool`, which the original dashboard divides by `reportingHosts` (Turbine sums them,
 * so the pool tile shows the per-host value).
 */
const SUMMED_POOL_PROPERTIES = new Set([
  'propertyValue_queueSizeRejectionThreshold',
  'propertyValue_metricsRollingStatisticalWindowInMilliseconds',
]);

/** Fields with a rule of their own (set in `finish`), never summed or copied. */
const SPECIAL = new Set([
  'type',
  'name',
  'reportingHosts',
  'isCircuitBreakerOpen',
  'errorPercentage',
  'currentTime',
  'circuitState',
  'circuitStates',
  'instances',
]);

const STATE_ORDER = ['OPEN', 'HALF_OPEN', 'CLOSED'] as const;

interface Accumulator {
  readonly type: string;
  readonly name: string;
  readonly out: Record<string, unknown>;
  hosts: number;
  openHosts: number;
  errorCount: number;
  requestCount: number;
  currentTime: number;
  readonly states: Record<string, number>;
  readonly instances: InstanceDetail[];
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isNumericRecord(value: unknown): value is Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const k in value) if (!isNumber((value as Record<string, unknown>)[k])) return false;
  return true;
}

/** Hosts behind one upstream object: its `reportingHosts` when it is a positive integer (a tiered turbine), else 1. */
function hostsOf(object: FleetObject): number {
  const h = object.reportingHosts;
  return isNumber(h) && h >= 1 ? Math.floor(h) : 1;
}

/** Hosts behind one upstream object whose circuit is open: `true` → all, `false` → none, `{ true: n }` → n. */
function openHostsOf(object: FleetObject, hosts: number): number {
  const open = object.isCircuitBreakerOpen;
  if (open === true) return hosts;
  if (typeof open === 'object' && open !== null) {
    const n = (open as Record<string, unknown>).true;
    return isNumber(n) ? Math.max(0, Math.min(hosts, Math.floor(n))) : 0;
  }
  return 0;
}

function percent(errors: number, requests: number): number {
  return requests <= 0 ? 0 : Math.floor((errors * 100) / requests);
}

/** What `add` does with a field: skip it (a rule of its own), sum it, or keep the first instance's value. */
const SKIP = 0;
const SUM = 1;
const FIRST = 2;
type FieldRule = typeof SKIP | typeof SUM | typeof FIRST;

function ruleOf(type: string, key: string): FieldRule {
  if (SPECIAL.has(key)) return SKIP;
  return !key.startsWith('propertyValue_') || (type === 'HystrixThreadPool' && SUMMED_POOL_PROPERTIES.has(key)) ? SUM : FIRST;
}

/** Field rules per type, learnt once (objects of one type share their fields); bounded against odd upstreams. */
const RULES = new Map<string, Map<string, FieldRule>>(AGGREGATED_TYPES.map((t) => [t, new Map()]));
const MAX_CACHED_FIELDS = 512;

function cachedRule(rules: Map<string, FieldRule>, type: string, key: string): FieldRule {
  let rule = rules.get(key);
  if (rule === undefined) {
    rule = ruleOf(type, key);
    if (rules.size < MAX_CACHED_FIELDS) rules.set(key, rule);
  }
  return rule;
}

function countStates(object: FleetObject, hosts: number, openHosts: number, states: Record<string, number>): string {
  const many = object.circuitStates;
  if (isNumericRecord(many)) {
    for (const k in many) states[k] = (states[k] ?? 0) + many[k]!;
    return STATE_ORDER.find((s) => (many[s] ?? 0) > 0) ?? 'CLOSED';
  }
  if (hosts === 1 && typeof object.circuitState === 'string') {
    states[object.circuitState] = (states[object.circuitState] ?? 0) + 1;
    return object.circuitState;
  }
  if (openHosts > 0) states.OPEN = (states.OPEN ?? 0) + openHosts;
  if (hosts - openHosts > 0) states.CLOSED = (states.CLOSED ?? 0) + hosts - openHosts;
  return openHosts > 0 ? 'OPEN' : 'CLOSED';
}

function add(acc: Accumulator, id: string, object: FleetObject): void {
  const { out, type } = acc;
  const rules = RULES.get(type)!;
  for (const key in object) {
    const rule = cachedRule(rules, type, key);
    if (rule === SKIP) continue;
    const value = object[key];
    const current = out[key];
    if (typeof value === 'number') {
      if (current === undefined) out[key] = Number.isFinite(value) ? value : 0;
      else if (rule === SUM && typeof current === 'number' && Number.isFinite(value)) out[key] = current + value;
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      // nested numbers (latency percentiles, batch sizes): summed member by member; other members are dropped
      const members = value as Record<string, unknown>;
      let sum = current as Record<string, number> | undefined;
      if (sum === undefined) out[key] = sum = {};
      else if (typeof sum !== 'object' || sum === null) continue;
      for (const k in members) {
        const v = members[k];
        if (typeof v === 'number' && Number.isFinite(v)) sum[k] = (sum[k] ?? 0) + v;
      }
    } else if (current === undefined && value !== null && value !== undefined) {
      out[key] = value;
    }
  }
  const hosts = hostsOf(object);
  const openHosts = openHostsOf(object, hosts);
  acc.hosts += hosts;
  acc.openHosts += openHosts;
  if (isNumber(object.currentTime)) acc.currentTime = Math.max(acc.currentTime, object.currentTime);
  if (type !== 'HystrixCommand') return;
  const errorCount = isNumber(object.errorCount) ? object.errorCount : 0;
  const requestCount = isNumber(object.requestCount) ? object.requestCount : 0;
  acc.errorCount += errorCount;
  acc.requestCount += requestCount;
  const circuitState = countStates(object, hosts, openHosts, acc.states);
  acc.instances.push({ id, reportingHosts: hosts, requestCount, errorCount, errorPercentage: percent(errorCount, requestCount), openHosts, circuitState });
}

/** @internal the aggregated object of one key (see {@link Aggregation}). */
export function finishKey(acc: AggregatedKey): Record<string, unknown> {
  const { out, hosts } = acc;
  const result: Record<string, unknown> = { type: acc.type, name: acc.name };
  if (acc.currentTime > 0) result.currentTime = acc.currentTime;
  if (acc.type === 'HystrixCommand') {
    result.isCircuitBreakerOpen =
      acc.openHosts === 0 ? false : acc.openHosts === hosts ? true : ({ true: acc.openHosts, false: hosts - acc.openHosts } satisfies MixedCircuit);
    // The dashboard shows errorPercentage / reportingHosts: written so that this is the fleet's percentage of the
    // summed counts, not the mean of the instances' percentages.
    result.errorPercentage = percent(acc.errorCount, acc.requestCount) * hosts;
  }
  Object.assign(result, out);
  result.reportingHosts = hosts;
  if (acc.type === 'HystrixCommand') {
    result.circuitState = STATE_ORDER.find((s) => (acc.states[s] ?? 0) > 0) ?? 'CLOSED';
    result.circuitStates = { CLOSED: acc.states.CLOSED ?? 0, OPEN: acc.states.OPEN ?? 0, HALF_OPEN: acc.states.HALF_OPEN ?? 0 };
    result.instances = acc.instances;
  }
  return result;
}

/**
 * Merges the latest objects of many instances into one object per (type, name), as Turbine does:
 *
 * - counts and gauges (every numeric field that is not a `propertyValue_*`) are summed, and so are the numeric
 *   members of nested objects (`latencyExecute`, `latencyTotal`, `batchSize`, …): the original dashboard divides
 *   latencies by `reportingHosts`, so it shows the mean over instances;
 * - `reportingHosts` is the number of hosts reporting the key (an upstream's own `reportingHosts` counts, so a
 *   turbine can read other turbines);
 * - `propertyValue_*` fields (windows, thresholds, flags) are the first instance's, not summed — except a pool's
 *   `propertyValue_queueSizeRejectionThreshold` and `propertyValue_metricsRollingStatisticalWindowInMilliseconds`,
 *   which are summed because the dashboard divides them by `reportingHosts`;
 * - `isCircuitBreakerOpen` is `true` or `false` when every host agrees, else `{ true: open, false: closed }`;
 * - `errorPercentage` is `floor(100 × Σ errorCount / Σ requestCount) × reportingHosts`, so the dashboard's division
 *   shows the fleet's percentage of the summed counts;
 * - `currentTime` is the latest instance's; other strings and booleans are the first instance's;
 * - breakwater's extras on commands: `circuitState` (the most severe state any host is in: OPEN, then HALF_OPEN),
 *   `circuitStates` (hosts per state) and `instances` (one {@link InstanceDetail} per instance, in input order).
 *
 * Objects whose `type` is not one of {@link AGGREGATED_TYPES}, or without a string `name`, are left out.
 *
 * @example
 * ```ts
 * const merged = aggregateSamples([
 *   { id: '10.0.0.5:8080', objects: [a1, p1] },
 *   { id: '10.0.0.6:8080', objects: [a2] },
 * ]); // → [HystrixCommand a (reportingHosts 2), HystrixThreadPool p (reportingHosts 1)]
 * ```
 * @see docs/fleet.md for every field's rule.
 */
export function aggregateSamples(instances: Iterable<InstanceSample>): Record<string, unknown>[] {
  const aggregation = new Aggregation();
  for (const instance of instances) {
    for (const object of instance.objects) aggregation.add(instance.id, object);
  }
  return aggregation.keys().map(finishKey);
}

/** @internal one (type, name) being aggregated; {@link finishKey} makes its object. */
export type AggregatedKey = Accumulator;

/**
 * @internal {@link aggregateSamples} one object at a time (so the work can be cut into event-loop slices): `add`
 * every instance's objects in order, then {@link finishKey} each of `keys()`.
 */
export class Aggregation {
  private readonly byKey = new Map<string, Accumulator>();

  /** Adds one object of instance `id` (objects of a type not aggregated, or without a name, are left out). */
  add(id: string, object: FleetObject): void {
    const type = object.type;
    const name = object.name;
    if (typeof name !== 'string' || (type !== 'HystrixCommand' && type !== 'HystrixThreadPool' && type !== 'HystrixCollapser')) return;
    const key = `${type}\u0000${name}`;
    let acc = this.byKey.get(key);
    if (acc === undefined) {
      acc = { type, name, out: {}, hosts: 0, openHosts: 0, errorCount: 0, requestCount: 0, currentTime: 0, states: {}, instances: [] };
      this.byKey.set(key, acc);
    }
    add(acc, id, object);
  }

  /** The keys seen, in output order: commands, then pools, then collapsers, each in order of first appearance. */
  keys(): AggregatedKey[] {
    const out: Accumulator[] = [];
    for (const type of AGGREGATED_TYPES) {
      for (const acc of this.byKey.values()) if (acc.type === type) out.push(acc);
    }
    return out;
  }
}
