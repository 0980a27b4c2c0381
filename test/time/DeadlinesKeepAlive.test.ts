import { describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '../../src/time/Clock.js';
import { Deadlines, type DeadlineList, type DeadlineNode } from '../../src/time/Deadlines.js';

/** A clock whose timers the test inspects: when each is due and whether it keeps the process alive. */
function recordingClock() {
  let now = 0;
  const timers: { at: number; keepAlive: boolean; cancelled: boolean }[] = [];
  const clock: Clock = {
    now: () => now,
    wallTime: () => now,
    setTimer(_fn, delayMs, keepAlive): TimerHandle {
      const t = { at: now + delayMs, keepAlive: keepAlive === true, cancelled: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
  };
  return { clock, timers, live: () => timers.filter((t) => !t.cancelled), setNow: (ms: number) => void (now = ms) };
}

function node(keepAlive: boolean): DeadlineNode & { readonly keepAlive: boolean } {
  const n: DeadlineNode & { readonly keepAlive: boolean; fired: number } = {
    deadlineAt: 0,
    dlPrev: null,
    dlNext: null,
    dlList: null as DeadlineList | null,
    keepAlive,
    fired: 0,
    onDeadline() {
      n.fired++;
    },
  };
  return n;
}

describe('Deadlines: keepAlive nodes', () => {
  it('arms an unref’d timer for ordinary deadlines and a referenced one while a keepAlive node is armed', () => {
    const { clock, live } = recordingClock();
    const deadlines = new Deadlines(clock, false);
    const plain = node(false);
    deadlines.add(plain, 0, 1000);
    expect(live()).toEqual([{ at: 1000, keepAlive: false, cancelled: false }]);
    // a later keepAlive node re-arms the same earliest time, now referenced
    const backoff = node(true) as DeadlineNode & { readonly keepAlive: true };
    deadlines.addKeepAlive(backoff, 0, 2000);
    expect(live()).toEqual([{ at: 1000, keepAlive: true, cancelled: false }]);
    deadlines.remove(backoff);
    deadlines.remove(plain);
    expect(live()).toEqual([]);
    expect(deadlines.size).toBe(0);
  });

  it('arms a referenced timer when a keepAlive node is the first one', () => {
    const { clock, live } = recordingClock();
    const deadlines = new Deadlines(clock, false);
    deadlines.addKeepAlive(node(true) as DeadlineNode & { readonly keepAlive: true }, 0, 50);
    expect(live()).toEqual([{ at: 50, keepAlive: true, cancelled: false }]);
  });
});
