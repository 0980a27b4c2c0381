import { systemClock, type Clock } from '../time/Clock.js';
import type { PoolOptions, SharedLimiterOptions } from './options.js';
import type { SettingsLayer } from './resolve.js';

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
  /** Bumped by every `configure()`; config caches compare it. */
  version: 0,
  listeners: [] as (() => void)[],
};

/** @internal the current clock. */
export function getClock(): Clock {
  return store.clock;
}

/** @internal subscribe to configuration changes (registries push new settings into live pools and limiters). */
export function onConfigChange(listener: () => void): void {
  store.listeners.push(listener);
}

/** @internal */
export function notifyConfigChange(): void {
  store.version++;
  for (const listener of store.listeners) listener();
}
