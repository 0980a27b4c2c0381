import { systemClock, type Clock } from '../time/Clock.js';
import { KEY_EXPIRY_DEFAULT } from './defaults.js';
import type { LoadSheddingConfig, PoolOptions, SharedLimiterOptions } from './options.js';
import type { SettingsLayer } from './resolve.js';

/**
 * @internal what one `configure()` call changed, so each registry revisits only the objects it touched: a per-key
 * override re-resolves that key's runtime, not every key's (`configure()` costs O(keys it touches)).
 */
export interface ConfigChange {
  /** Everything may have changed (`resetConfiguration()`): revisit every live object. */
  readonly all: boolean;
  /** `defaults` changed: every command key is touched. */
  readonly defaults: boolean;
  /** Command keys whose override changed. */
  readonly commands: readonly string[];
  /** Pool keys whose settings changed. */
  readonly pools: readonly string[];
  /** Shared limiters (re)declared. */
  readonly limiters: readonly string[];
  /** The clock was replaced. */
  readonly clock: boolean;
  /** `keyExpiry` was set. */
  readonly keyExpiry: boolean;
}

/** @internal a change of everything (after `resetConfiguration()`). */
export const CHANGED_ALL: ConfigChange = Object.freeze({
  all: true,
  defaults: true,
  commands: [],
  pools: [],
  limiters: [],
  clock: true,
  keyExpiry: true,
});

/**
 * @internal the process-wide configuration written by `configure()`: layers, the clock, and a version number
 * that live objects compare against to notice a change without re-resolving on every call.
 */
export const store = {
  clock: systemClock as Clock,
  defaults: undefined as SettingsLayer | undefined,
  commands: new Map<string, SettingsLayer>(),
  pools: new Map<string, PoolOptions>(),
  limiters: new Map<string, SharedLimiterOptions>(),
  /** Idle command keys are released after this many ms (at least their longest metrics window), or never. */
  keyExpiry: KEY_EXPIRY_DEFAULT as number | false,
  /** `configure({ loadShedding })`; the shedder (src/shedding) follows it. */
  loadShedding: false as LoadSheddingConfig | false,
  /** Bumped by every `configure()`; config caches compare it. */
  version: 0,
  listeners: [] as ((change: ConfigChange) => void)[],
};

/** @internal the current clock. */
export function getClock(): Clock {
  return store.clock;
}

/** @internal subscribe to configuration changes (registries push new settings into the live objects touched). */
export function onConfigChange(listener: (change: ConfigChange) => void): void {
  store.listeners.push(listener);
}

/** @internal */
export function notifyConfigChange(change: ConfigChange): void {
  store.version++;
  for (const listener of store.listeners) listener(change);
}
