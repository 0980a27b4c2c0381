import { describe, expect, it } from 'vitest';
import { Deadlines, type DeadlineNode } from '../../src/time/Deadlines.js';
import { FakeClock } from '../../src/time/FakeClock.js';

function node(fired: string[], name: string): DeadlineNode {
  return { deadlineAt: 0, dlPrev: null, dlNext: null, dlList: null, onDeadline: () => fired.push(name) };
}

describe('Deadlines with keepIdleTimer (the system clock’s mode)', () => {
  it('serves calls that run one at a time from one timer instead of one timer per call', () => {
    const clock = new FakeClock();
    let created = 0;
    const setTimer = clock.setTimer.bind(clock);
    clock.setTimer = (fn, ms) => {
      created++;
      return setTimer(fn, ms);
    };
    const d = new Deadlines(clock, true);
    const fired: string[] = [];
    for (let i = 0; i < 100; i++) {
      const n = node(fired, `n${i}`);
      d.add(n, clock.now(), 1000);
      clock.jump(1); // time passes while the call runs …
      d.remove(n); // … and it settles in time
    }
    expect(created).toBe(1);
    expect(d.size).toBe(0);
    expect(fired).toEqual([]);
  });

  it('still fires every deadline on time, and lets the idle timer expire without re-arming it', () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock, true);
    const fired: string[] = [];
    const early = node(fired, 'early');
    d.add(early, 0, 100);
    d.remove(early);
    clock.advance(50);
    d.add(node(fired, 'late'), clock.now(), 100); // due at 150, after the idle timer (100)
    clock.advance(50); // the idle timer fires at 100, finds nothing due, re-arms for 150
    expect(fired).toEqual([]);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(50);
    expect(fired).toEqual(['late']);
    expect(clock.pendingTimers).toBe(0);
    const short = node(fired, 'short');
    d.add(node(fired, 'long'), clock.now(), 1000);
    d.add(short, clock.now(), 10); // earlier than the armed timer: re-armed for it
    clock.advance(10);
    expect(fired).toEqual(['late', 'short']);
    clock.advance(990);
    expect(fired).toEqual(['late', 'short', 'long']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('is off for other clocks: the timer is cancelled as soon as nothing is armed', () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const n = node([], 'n');
    d.add(n, 0, 100);
    d.remove(n);
    expect(clock.pendingTimers).toBe(0);
  });
});
