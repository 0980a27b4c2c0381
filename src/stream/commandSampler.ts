import type { CircuitState } from '../circuit/breakerState.js';
import type { CommandRuntime } from '../command/CommandRuntime.js';
import type { CommandConfig } from '../config/options.js';
import type { HealthSnapshot } from '../metrics/HealthCounts.js';
import { rollingBucketMsOf } from '../metrics/ReadWindow.js';
import type { LatencySnapshot } from '../metrics/RollingPercentile.js';
import { limiterStoreOf, toHystrixCommand, type HystrixCommandJson, type LimiterStoreSample } from './hystrixJson.js';

/**
 * What a key's last `HystrixCommand` object was built from. When none of it changed, the object (and its
 * serialised frame) is reused with only `currentTime` replaced: an idle key costs a few comparisons per sample.
 */
interface KeyState {
  events: number;
  current: number;
  /** The rolling bucket of the last read; irrelevant while the window held nothing (`quiet`). */
  rollingBucket: number;
  quiet: boolean;
  latency: readonly [LatencySnapshot, LatencySnapshot];
  health: HealthSnapshot;
  circuit: CircuitState;
  config: CommandConfig;
  group: string;
  /** A store-backed limiter's counts at the last build (see `redisStore`), as a number that changes with them. */
  limiter: number;
  json: HystrixCommandJson;
  /** The frame before and after the `currentTime` value, made on first need. */
  head: string | null;
  tail: string | null;
}

/** Per key, dropped with the key's runtime (expiry, `resetBreakwater()`). */
const states = new WeakMap<CommandRuntime, KeyState>();


/**
 * @internal the state of `rt` brought up to date at `now`: rebuilt when the key's counts, window position,
 * percentiles (read at most once per percentile bucket), health, circuit, config or group changed since the last
 * call, else the previous one.
 */
function stateOf(rt: CommandRuntime, now: number, wall: number): KeyState {
  const m = rt.metrics;
  const events = m.eventTotal();
  const current = m.current;
  const latency = m.latencySnapshots(now, false);
  const rollingBucket = Math.floor(now / rollingBucketMsOf(m.config));
  const circuit = rt.breaker.state;
  const limiterStore = limiterStoreOf(rt.config);
  const limiter = limiterStore === undefined ? -1 : limiterVersion(limiterStore);
  const prev = states.get(rt);
  if (
    prev !== undefined &&
    prev.events === events &&
    prev.current === current &&
    (prev.quiet || prev.rollingBucket === rollingBucket) &&
    prev.latency === latency &&
    prev.health === m.healthAt(now) &&
    prev.circuit === circuit &&
    prev.config === rt.config &&
    prev.group === m.group &&
    prev.limiter === limiter
  ) {
    prev.rollingBucket = rollingBucket;
    return prev;
  }
  const snapshot = m.snapshot(now, false);
  const isCircuitBreakerOpen = circuit !== 'CLOSED';
  // an adaptive limit changes only with an outcome, which changes `events` too: the checks above see it
  const concurrencyLimit = rt.adaptive?.limit;
  const json = toHystrixCommand(
    limiterStore === undefined
      ? { snapshot, config: rt.config, isCircuitBreakerOpen, concurrencyLimit }
      : { snapshot, config: rt.config, isCircuitBreakerOpen, limiterStore, concurrencyLimit },
    wall,
  );
  const state: KeyState = {
    events,
    current,
    rollingBucket,
    quiet: isQuiet(json),
    latency,
    health: m.healthAt(now),
    circuit,
    config: rt.config,
    group: m.group,
    limiter,
    json,
    head: null,
    tail: null,
  };
  states.set(rt, state);
  return state;
}

/** The limiter's counts only grow, and its availability flips: their sum, with the flag, changes whenever they do. */
function limiterVersion(l: LimiterStoreSample): number {
  return (l.unavailableCount + l.fallbackDecisions) * 2 + (l.storeAvailable ? 1 : 0);
}

/** Nothing in the rolling window: the counts cannot change until an event arrives. */
function isQuiet(json: HystrixCommandJson): boolean {
  if (json.currentConcurrentExecutionCount !== 0 || json.rollingMaxConcurrentExecutionCount !== 0 || json.requestCount !== 0) return false;
  const record = json as unknown as Record<string, unknown>;
  for (const key in record) {
    if (key.charCodeAt(0) === 114 /* r */ && key.startsWith('rollingCount') && record[key] !== 0) return false;
  }
  return true;
}

/**
 * @internal the `HystrixCommand` object of `rt` at `now` with `currentTime` `wall`; percentiles re-read at most once
 * per percentile bucket. An unchanged key's previous object is copied, not rebuilt.
 */
export function commandObject(rt: CommandRuntime, now: number, wall: number): HystrixCommandJson {
  const json = stateOf(rt, now, wall).json;
  const currentTime = Math.round(wall);
  return json.currentTime === currentTime ? json : { ...json, currentTime };
}

/**
 * @internal the SSE frame (`data: {...}\n\n`) of `rt` at `now`: an unchanged key's frame is its cached text around
 * the new `currentTime`, so it is not serialised again.
 */
export function commandFrame(rt: CommandRuntime, now: number, wall: number): string {
  const s = stateOf(rt, now, wall);
  if (s.head === null || s.tail === null) {
    const text = JSON.stringify(s.json);
    // `currentTime` is the fourth field; a name or group cannot contain this (its quotes would be escaped).
    const field = `"currentTime":${s.json.currentTime},`;
    const at = text.indexOf(field);
    s.head = `data: ${text.slice(0, at + 14)}`;
    s.tail = `${text.slice(at + field.length - 1)}\n\n`;
  }
  return s.head + String(Math.round(wall)) + s.tail;
}
