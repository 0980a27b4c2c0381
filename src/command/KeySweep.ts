import { store } from '../config/store.js';
import { markHousekeeping, type Clock, type TimerHandle } from '../time/Clock.js';

/** Something the sweep can release once it is idle. */
export interface Expirable {
  /** True when it may be released at `now` under `keyExpiry` = `expiry`. */
  isIdle(now: number, expiry: number): boolean;
}

/** Keys looked at per event-loop turn: with 200,000 keys a sweep is 100 short turns, never one long block. */
export const SWEEP_SLICE = 2000;

/** How often the keys are swept for a given `keyExpiry`: a quarter of it, between 1 s and 1 min. */
export function sweepInterval(expiry: number): number {
  return Math.min(60_000, Math.max(1000, Math.floor(expiry / 4)));
}

/**
 * @internal the one key-expiry sweep of a registry: a single timer on the configured clock (unref'd by the system
 * clock, so it never keeps a process alive), armed only while keys exist and `keyExpiry` is not `false`. Each
 * sweep walks the keys in slices of {@link SWEEP_SLICE}, one slice per turn, and releases the idle ones; nothing
 * is timed per key and a call pays nothing for it.
 */
export class KeySweep<T extends Expirable> {
  private timer: TimerHandle | null = null;
  private cursor: Iterator<T> | null = null;

  constructor(
    private readonly keys: { values(): IterableIterator<T>; readonly size: number },
    private readonly release: (item: T) => void,
  ) {}

  /** Makes sure a sweep is scheduled (a key was created). */
  arm(): void {
    if (this.timer === null) this.schedule(false);
  }

  /** Starts over on the current clock with the current `keyExpiry` (configuration changed). */
  restart(): void {
    this.stop();
    this.schedule(false);
  }

  /** Cancels the sweep (every key was dropped). */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.cursor = null;
  }

  private schedule(nextSlice: boolean): void {
    const expiry = store.keyExpiry;
    if (expiry === false || this.keys.size === 0) return;
    const clock: Clock = store.clock;
    this.timer = clock.setTimer(this.sweep, nextSlice ? 0 : sweepInterval(expiry));
  }

  private readonly sweep = markHousekeeping((): void => {
    this.timer = null;
    const expiry = store.keyExpiry;
    if (expiry === false) {
      this.cursor = null;
      return;
    }
    const now = store.clock.now();
    const cursor = (this.cursor ??= this.keys.values());
    for (let n = 0; n < SWEEP_SLICE; n++) {
      const next = cursor.next();
      if (next.done === true) {
        this.cursor = null;
        break;
      }
      // deleting the entry just visited is safe for a Map iterator
      if (next.value.isIdle(now, expiry)) this.release(next.value);
    }
    this.schedule(this.cursor !== null);
  });
}
