import { isHousekeeping, type Clock, type TimerHandle } from './Clock.js';

interface FakeTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A deterministic {@link Clock} for tests: time stands still until {@link FakeClock.advance} moves it, and timers
 * fire in deadline order (ties in creation order) as time passes them.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * configure({ clock });
 * const pending = slowCommand.execute();   // timeout 1000 ms
 * clock.advance(1000);                     // the deadline fires: TIMEOUT → fallback
 * await pending;
 * ```
 */
export class FakeClock implements Clock {
  private current: number;
  private wallOffset: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  /** @param start - the initial monotonic time in ms (default 0); wall time starts at 2020-01-01T00:00:00Z. */
  constructor(start = 0) {
    this.current = start;
    this.wallOffset = Date.UTC(2020, 0, 1) - start;
  }

  now(): number {
    return this.current;
  }

  wallTime(): number {
    return this.current + this.wallOffset;
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const timer: FakeTimer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /**
   * How many timers are scheduled and not cancelled: a leak check for tests. The key-expiry sweep, which is always
   * scheduled while command keys exist, is not counted.
   */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled && !isHousekeeping(t.fn)).length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, each at its own time (so a timer
   * that schedules another within the span sees that one fire too).
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (next === undefined) break;
      this.current = Math.max(this.current, next.at);
      next.cancelled = true;
      this.timers = this.timers.filter((t) => !t.cancelled);
      next.fn();
    }
    this.current = target;
  }

  /**
   * Moves time by `ms` without firing anything: a clock jump (negative moves it backwards). Timers stay at their
   * absolute times.
   */
  jump(ms: number): void {
    this.current += ms;
  }

  /** Sets the wall-clock time without moving monotonic time. */
  setWallTime(epochMs: number): void {
    this.wallOffset = epochMs - this.current;
  }

  private nextDue(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (t.cancelled || t.at > target) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
