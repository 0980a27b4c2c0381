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
}

/** Resets breakwater and installs a new {@link FakeClock}, which it returns. */
export function useFakeClock(start = 0): FakeClock {
  resetBreakwater();
  const clock = new FakeClock(start);
  configure({ clock });
  return clock;
}
