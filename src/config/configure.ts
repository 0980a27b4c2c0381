import { systemClock, type Clock } from '../time/Clock.js';
import { configError } from '../errors.js';
import { normalizeLoadShedding } from './normalizeLoadShedding.js';
import type { CommandSettings, LoadSheddingConfig, LoadSheddingOptions, PoolOptions, SharedLimiterOptions } from './options.js';
import { mergeBreaker, normalizeLimiter, normalizePool, normalizeSettings, resolveCommandConfig, resolvePoolConfig, type SettingsLayer } from './resolve.js';
import { KEY_EXPIRY_DEFAULT } from './defaults.js';
import { CHANGED_ALL, notifyConfigChange, store } from './store.js';
import { expectKey, expectObject, expectTimeout, readKnown } from './validate.js';

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
  /**
   * How long (ms) a command key may go without an execution before breakwater releases it, or `false` to keep every
   * key for the life of the process. A key is released only when it is idle: nothing in flight (running, queued,
   * waiting for a token, in its fallback), its circuit CLOSED and not forced, and no listener on its own `events`;
   * and never before its own longest metrics window (`rollingWindow`, `percentileWindow`) has passed since its last
   * execution. A released key leaves `commandKeys()`, the stream and Prometheus; its configuration layers stay, and
   * a handle still held starts the key afresh on its next call (cumulative counts restart from 0). One sweep
   * timer checks every key, never a timer per key. Hystrix never expires keys: see docs/differences-from-hystrix.md.
   *
   * @defaultValue 300000 (5 minutes)
   */
  readonly keyExpiry?: number | false;
  /**
   * Load shedding on the process's event-loop delay (docs/load-shedding.md): while a sample is above
   * `maxEventLoopDelay`, commands of `priority: 'low'` (or `sheddable: true`) are refused at once (LOAD_SHED) and
   * `loadSheddingMiddleware()` answers 503; `'normal'` and `'high'` follow above their own bounds
   * (`priorities`), `'critical'` never. `false` switches it off. @defaultValue false
   */
  readonly loadShedding?: LoadSheddingOptions | false;
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
  const raw = readKnown(options, 'configure', ['defaults', 'commands', 'pools', 'limiters', 'clock', 'keyExpiry', 'loadShedding']);
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
  const keyExpiry = raw.keyExpiry === undefined ? undefined : expectTimeout(raw.keyExpiry, 'keyExpiry');
  let loadShedding: LoadSheddingConfig | false | undefined;
  if (raw.loadShedding !== undefined) loadShedding = normalizeLoadShedding(raw.loadShedding);
  // Everything validated: apply.
  if (loadShedding !== undefined) store.loadShedding = loadShedding;
  if (defaults !== undefined) store.defaults = mergeLayers(store.defaults, defaults);
  for (const [key, layer] of commands) store.commands.set(key, mergeLayers(store.commands.get(key), layer));
  for (const [key, layer] of pools) store.pools.set(key, Object.freeze({ ...store.pools.get(key), ...layer }));
  for (const [key, layer] of limiters) store.limiters.set(key, layer);
  if (clock !== undefined) store.clock = clock;
  if (keyExpiry !== undefined) store.keyExpiry = keyExpiry;
  notifyConfigChange({
    all: false,
    defaults: defaults !== undefined,
    commands: [...commands.keys()],
    pools: [...pools.keys()],
    limiters: [...limiters.keys()],
    clock: clock !== undefined,
    keyExpiry: keyExpiry !== undefined,
  });
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
  if (base.adaptive && next.adaptive) merged.adaptive = Object.freeze({ ...base.adaptive, ...next.adaptive });
  return Object.freeze(merged) as SettingsLayer;
}

/**
 * Forgets every `configure()` layer, restores the system clock and the default `keyExpiry`. Live breakers, pools and metrics are kept;
 * `resetBreakwater()` from `breakwater/testing` also drops those.
 */
export function resetConfiguration(): void {
  store.defaults = undefined;
  store.commands.clear();
  store.pools.clear();
  store.limiters.clear();
  store.clock = systemClock;
  store.keyExpiry = KEY_EXPIRY_DEFAULT;
  store.loadShedding = false;
  notifyConfigChange(CHANGED_ALL);
}
