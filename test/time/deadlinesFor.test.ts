import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../src/time/Deadlines.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';
import { FakeClock } from '../../src/time/FakeClock.js';

describe('deadlinesFor', () => {
  it('gives one Deadlines per clock, made on first use, also when calls alternate between clocks', () => {
    const a = new FakeClock();
    const b = new FakeClock();
    const da = deadlinesFor(a);
    expect(da).toBeInstanceOf(Deadlines);
    expect(da.clock).toBe(a);
    expect(deadlinesFor(a)).toBe(da); // the remembered clock
    const db = deadlinesFor(b);
    expect(db).not.toBe(da);
    expect(db.clock).toBe(b);
    expect(deadlinesFor(a)).toBe(da); // looked up again after another clock
    expect(deadlinesFor(b)).toBe(db);
    expect(deadlinesFor(b)).toBe(db);
  });

  it("fires a deadline armed through it on that clock's timer", () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    deadlinesFor(new FakeClock()); // another clock was used last
    deadlinesFor(clock).add({ deadlineAt: 0, dlPrev: null, dlNext: null, dlList: null, onDeadline: () => fired.push(clock.now()) }, clock.now(), 250);
    clock.advance(249);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([250]);
    expect(deadlinesFor(clock).size).toBe(0);
  });
});
