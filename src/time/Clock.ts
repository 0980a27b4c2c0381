import { AsyncResource } from 'node:async_hooks';
// Imported rather than the global: Node 20's global `performance` is a lazy getter, paid on each of the two
// clock reads per execution (~15% of a sync-mode call).
import { performance } from 'node:perf_hooks';

/**
 * A cancellable handle returned by {@link Clock.setTimer}.
 */
export interface TimerHandle {
  /** Cancels the timer; calling it twice, or after it fired, does nothing. */
  cancel(): void;
}

/**
 * The source of time for everything in breakwater. The executor, deadlines and the health snapshot timer ask it
 * for the time; pure state machines receive `now` as an argument. Tests swap in a {@link testing!FakeClock | FakeClock}.
 *
 * @example
 * ```ts
 * import { configure } from 'breakwater';
 * import { FakeClock } from 'breakwater/testing';
 * const clock = new FakeClock();
 * configure({ clock });
 * clock.advance(1000); // fires every deadline due within the next second, in order
 * ```
 */
export interface Clock {
  /** Monotonic milliseconds (arbitrary origin). Never goes backwards for the system clock. */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for reports such as the stream's `currentTime`. */
  wallTime(): number;
  /**
   * Runs `fn` once after `delayMs`. The system clock's timers are `unref`'d: a pending breakwater timer never
   * keeps a process alive, unless `keepAlive` is true (a caller is waiting on it: a collapser batch, a rate-limiter
   * queue), so `await` on it works in a script with nothing else to do.
   */
  setTimer(fn: () => void, delayMs: number, keepAlive?: boolean): TimerHandle;
}

/**
 * Timers are started in this resource's (empty) async context, not in the context of whichever call happened to
 * arm them: the shared deadline timer must not carry one request's AsyncLocalStorage values into another
 * request's timeout handling.
 */
const neutralScope = new AsyncResource('breakwater.timer');

const housekeeping = new WeakSet<() => void>();

/**
 * @internal marks a timer callback as breakwater's own housekeeping, always scheduled while keys exist (the
 * key-expiry sweep): `FakeClock.pendingTimers`, a leak check, leaves such timers out.
 */
export function markHousekeeping<F extends () => void>(fn: F): F {
  housekeeping.add(fn);
  return fn;
}

/** @internal */
export function isHousekeeping(fn: () => void): boolean {
  return housekeeping.has(fn);
}

class SystemTimer implements TimerHandle {
  constructor(private readonly handle: ReturnType<typeof setTimeout>) {}
  cancel(): void {
    clearTimeout(this.handle);
  }
}

/**
 * The real clock: `performance.now()` for monotonic time, `Date.now()` for wall time, Node timers (unref'd).
 */
export const systemClock: Clock = {
  // bound rather than an arrow around it: a call inlines straight into performance.now, one function less of the
  // bytecode V8 weighs when it inlines (two clock reads per execution)
  now: performance.now.bind(performance),
  wallTime: () => Date.now(),
  setTimer(fn, delayMs, keepAlive) {
    const handle = neutralScope.runInAsyncScope(() => setTimeout(fn, Math.max(0, delayMs)));
    if (keepAlive !== true) handle.unref();
    return new SystemTimer(handle);
  },
};
