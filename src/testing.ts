/**
 * Test helpers: `import { FakeClock, resetBreakwater } from 'breakwater/testing'`.
 * @module
 */
import { clearPools } from './bulkhead/registry.js';
import { clearRuntimes } from './command/CommandRuntime.js';
import { events } from './command/globalEvents.js';
import { configure, resetConfiguration } from './config/configure.js';
import { clearLimiters } from './limiter/registry.js';
import { clearCollapsers } from './request/collapser.js';
import { shedder } from './shedding/loadShedding.js';
import { FakeClock } from './time/FakeClock.js';

export { FakeClock } from './time/FakeClock.js';

/**
 * Forgets every command key's breaker, metrics and semaphores, every pool, limiter and collapser, every `configure()` layer
 * and every global listener, and restores the system clock. For test isolation only: live commands keep their
 * old runtime objects.
 */
export function resetBreakwater(): void {
  clearRuntimes();
  clearPools();
  clearLimiters();
  clearCollapsers();
  events.removeAllListeners();
  resetConfiguration();
  shedder.useSource(null);
}

/**
 * Replaces the event-loop delay that load shedding samples (`configure({ loadShedding })`) with `delayMs()`, read
 * once per sample interval on the configured clock — with a {@link FakeClock}, `clock.advance()` drives the
 * samples. `resetBreakwater()` restores the real `perf_hooks` monitor.
 *
 * @example
 * ```ts
 * const clock = useFakeClock();
 * let delay = 0;
 * useEventLoopDelay(() => delay);
 * configure({ loadShedding: { maxEventLoopDelay: 100 } });
 * delay = 250;
 * clock.advance(100);  // one sample: shedding
 * ```
 */
export function useEventLoopDelay(delayMs: () => number): void {
  shedder.useSource({ start() {}, read: delayMs, stop() {} });
}

/** Resets breakwater and installs a new {@link FakeClock}, which it returns. */
export function useFakeClock(start = 0): FakeClock {
  resetBreakwater();
  const clock = new FakeClock(start);
  configure({ clock });
  return clock;
}
