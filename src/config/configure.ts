import { systemClock, type Clock } from '../time/Clock.js';
import { configError } from '../errors.js';
import type { CommandSettings, PoolOptions, SharedLimiterOptions } from './options.js';
import { mergeBreaker, normalizeLimiter, normalizePool, normalizeSettings, resolveCommandConfig, resolvePoolConfig, type SettingsLayer } from './resolve.js';
import { notifyConfigChange, store } from './store.js';
import { expectKey, expectObject, readKnown } from './validate.js';

/** What `configure()` accepts. Every part is optional; each call layers over the previous ones. */
export interface ConfigureOptions {
  /** Settings for every command (over the built-in Hystrix defaults, under each command's own options). */
  readonly defaults?: CommandSettings;
  /** Per-command-key overrides: they win over the command's own options, as Hystrix's dynamic properties do. */
  readonly commands?: Readonly<Record<string, CommandSettings>>;
  /** Pool settings by pool key. */
  readonly pools?: Readonly<Record<string, PoolOptions>>;
  /** Shared token buckets by limiter key, used by `rateLimit: { limiter: key }` (with `store`, shared by a fleet). */
  readonly limiters?: Readonly<Record<string, SharedLimiterOptions>>;
  /** The clock (tests pass a `FakeClock`). */
  readonly clock?: Clock;
}

/**
 * Sets global defaults and per-key overrides at run time. The whole call is validated before anything changes (a
 * bad value throws a `TypeError`/`RangeError` naming the option and leaves the configuration as it was); changes
 * apply to the next execution of every command, without restart. Window sizes of metrics already created stay
 * as they were.
 *
 * @example
 * ```ts
 * configure({
 *   defaults: { timeout: 1000 },
 *   commands: { GetUser: { timeout: 300, circuitBreaker: { forceOpen: true } } },
 *   pools: { Users: { coreSize: 20 } },
 * });
 * ```
 */
export function configure(options: ConfigureOptions): void {
  const raw = readKnown(options, 'configure', ['defaults', 'commands', 'pools', 'limiters', 'clock']);
  let defaults: SettingsLayer | undefined;
  const commands = new Map<string, SettingsLayer>();
  const pools = new Map<string, PoolOptions>();
  const limiters = new Map<string, SharedLimiterOptions>();
  if (raw.defaults !== undefined) {
    defaults = normalizeSettings(raw.defaults, 'defaults');
    resolveCommandConfig('default', [store.defaults, defaults], 'defaults');
  }
  if (raw.commands !== undefined) {
    for (const [key, value] of entries(raw.commands, 'commands')) {
      const layer = normalizeSettings(value, `commands.${key}`);
      resolveCommandConfig(key, [defaults ?? store.defaults, layer], `commands.${key}`);
      commands.set(key, layer);
    }
  }
  if (raw.pools !== undefined) {
    for (const [key, value] of entries(raw.pools, 'pools')) {
      const layer = normalizePool(value, `pools.${key}`, false);
      resolvePoolConfig(key, [store.pools.get(key), layer]);
      pools.set(key, layer);
    }
  }
  if (raw.limiters !== undefined) {
    for (const [key, value] of entries(raw.limiters, 'limiters')) limiters.set(key, normalizeLimiter(value, `limiters.${key}`));
  }
  let clock: Clock | undefined;
  if (raw.clock !== undefined) {
    const c = raw.clock as Clock;
    if (typeof c !== 'object' || c === null || typeof c.now !== 'function' || typeof c.setTimer !== 'function' || typeof c.wallTime !== 'function') {
      throw configError('clock', 'a Clock (now, wallTime, setTimer)', raw.clock, 'type');
    }
    clock = c;
  }
  // Everything validated: apply.
  if (defaults !== undefined) store.defaults = mergeLayers(store.defaults, defaults);
  for (const [key, layer] of commands) store.commands.set(key, mergeLayers(store.commands.get(key), layer));
  for (const [key, layer] of pools) store.pools.set(key, Object.freeze({ ...store.pools.get(key), ...layer }));
  for (const [key, layer] of limiters) store.limiters.set(key, layer);
  if (clock !== undefined) store.clock = clock;
  notifyConfigChange();
}

function entries(value: unknown, option: string): [string, unknown][] {
  const obj = expectObject(value, option);
  const out: [string, unknown][] = [];
  for (const key of Object.keys(obj)) {
    // Keys land in Maps, never in plain objects: even '__proto__' or 'constructor' name just that command.
    expectKey(key, `${option} key`);
    out.push([key, obj[key]]);
  }
  return out;
}

/** Later layer wins per field; nested circuitBreaker / metrics merge field by field. */
function mergeLayers(base: SettingsLayer | undefined, next: SettingsLayer): SettingsLayer {
  if (base === undefined) return next;
  const merged: Record<string, unknown> = { ...base, ...next };
  if (base.circuitBreaker && next.circuitBreaker) merged.circuitBreaker = Object.freeze(mergeBreaker(base.circuitBreaker, next.circuitBreaker));
  if (base.metrics && next.metrics) merged.metrics = Object.freeze({ ...base.metrics, ...next.metrics });
  return Object.freeze(merged) as SettingsLayer;
}

/**
 * Forgets every `configure()` layer and restores the system clock. Live breakers, pools and metrics are kept;
 * `resetBreakwater()` from `breakwater/testing` also drops those.
 */
export function resetConfiguration(): void {
  store.defaults = undefined;
  store.commands.clear();
  store.pools.clear();
  store.limiters.clear();
  store.clock = systemClock;
  notifyConfigChange();
}
