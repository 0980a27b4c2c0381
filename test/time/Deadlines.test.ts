import { describe, expect, it } from 'vitest';
import { Deadlines, type DeadlineList, type DeadlineNode } from '../../src/time/Deadlines.js';
import { FakeClock } from '../../src/time/FakeClock.js';

function node(fired: string[], name: string): DeadlineNode & { name: string } {
  return { name, deadlineAt: 0, dlPrev: null, dlNext: null, dlList: null, onDeadline: () => fired.push(name) };
}

describe('Deadlines', () => {
  it('fires nodes in deadline order across delays, from one timer', () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    d.add(node(fired, 'a300'), clock.now(), 300);
    d.add(node(fired, 'b100'), clock.now(), 100);
    clock.advance(50);
    d.add(node(fired, 'c100'), clock.now(), 100);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(60);
    expect(fired).toEqual(['b100']);
    clock.advance(40);
    expect(fired).toEqual(['b100', 'c100']);
    clock.advance(150);
    expect(fired).toEqual(['b100', 'c100', 'a300']);
    expect(d.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('arms a deadline after the list of its delay emptied and was dropped (the remembered list is not reused)', () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    d.add(node(fired, 'first'), clock.now(), 100);
    clock.advance(100); // fires and drops the list of delay 100
    expect(fired).toEqual(['first']);
    d.add(node(fired, 'second'), clock.now(), 100);
    d.add(node(fired, 'other'), clock.now(), 50);
    d.add(node(fired, 'third'), clock.now(), 100);
    clock.advance(100);
    expect(fired).toEqual(['first', 'other', 'second', 'third']);
    expect(d.size).toBe(0);
  });

  it('removes a node in O(1) and drops the timer when nothing is armed', () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    const nodes = Array.from({ length: 5 }, (_, i) => node(fired, `n${i}`));
    for (const n of nodes) d.add(n, clock.now(), 100);
    d.remove(nodes[2]!);
    d.remove(nodes[2]!); // twice is harmless
    d.remove(nodes[0]!);
    d.remove(nodes[4]!);
    expect(d.size).toBe(2);
    clock.advance(100);
    expect(fired).toEqual(['n1', 'n3']);
    for (const n of nodes) d.add(n, clock.now(), 100);
    for (const n of nodes) d.remove(n);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps firing others when a handler throws, and re-arms for later deadlines', () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    const bad: DeadlineNode = { deadlineAt: 0, dlPrev: null, dlNext: null, dlList: null, onDeadline: () => { throw new Error('x'); } };
    d.add(bad, 0, 10);
    d.add(node(fired, 'ok'), 0, 10);
    d.add(node(fired, 'later'), 0, 1000);
    clock.advance(10);
    expect(fired).toEqual(['ok']);
    clock.advance(990);
    expect(fired).toEqual(['ok', 'later']);
  });

  it('orders correctly when the clock went backwards between adds of the same delay', () => {
    const clock = new FakeClock(1000);
    const d = new Deadlines(clock);
    const fired: string[] = [];
    d.add(node(fired, 'first'), clock.now(), 100);
    clock.jump(-500);
    d.add(node(fired, 'earlier'), clock.now(), 100);
    clock.advance(100);
    expect(fired).toEqual(['earlier']);
    clock.advance(500);
    expect(fired).toEqual(['earlier', 'first']);
  });
});

describe('Deadlines: the circular list of a delay', () => {
  it('inserts a deadline between two others, and removing the first, a middle or the last keeps the order', () => {
    const clock = new FakeClock(1000);
    const d = new Deadlines(clock);
    const fired: string[] = [];
    const at = (name: string, t: number) => {
      const n = node(fired, name);
      clock.jump(t - clock.now());
      d.add(n, clock.now(), 100);
      return n;
    };
    const a = at('a', 1000);
    at('c', 1020);
    at('e', 1040);
    at('b', 1010); // the clock went back: between a and c
    const d2 = at('d', 1030); // between c and e
    at('f', 1050); // the new last again
    at('a0', 990); // before the first
    const z = at('z', 1060);
    d.remove(a); // a first-but-one
    d.remove(d2); // a middle one
    d.remove(z); // the last
    expect(d.size).toBe(5);
    clock.jump(1060 - clock.now());
    clock.advance(100);
    expect(fired).toEqual(['a0', 'b', 'c', 'e', 'f']);
    expect(d.size).toBe(0);
  });

  it('empties and refills a list one node at a time (one call in flight)', () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    for (let i = 0; i < 3; i++) {
      const n = node(fired, `n${i}`);
      d.add(n, clock.now(), 100);
      expect(n.dlNext).toBe(n);
      d.remove(n);
      expect(n.dlNext).toBeNull();
    }
    d.add(node(fired, 'last'), clock.now(), 100);
    clock.advance(100);
    expect(fired).toEqual(['last']);
  });
});

describe('FakeClock', () => {
  it('fires timers in time order, ties in creation order, including timers scheduled while advancing', () => {
    const clock = new FakeClock();
    const order: string[] = [];
    clock.setTimer(() => order.push('b'), 20);
    clock.setTimer(() => order.push('a'), 10);
    clock.setTimer(() => {
      order.push('c');
      clock.setTimer(() => order.push('d'), 5);
    }, 20);
    const cancelled = clock.setTimer(() => order.push('never'), 15);
    cancelled.cancel();
    clock.advance(30);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(clock.now()).toBe(30);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it('keeps the order across renewals of the holder of its last node (every 256 adds), removing the last one too', () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    const kept: string[] = [];
    const holders = new Set<unknown>();
    let list: DeadlineList | null = null;
    for (let i = 0; i < 700; i++) {
      const n = node(fired, `n${i}`);
      d.add(n, clock.now(), 100);
      list = n.dlList;
      expect(list!.last.node).toBe(n); // the holder of the day holds the new last node
      expect(list!.head!.dlPrev).toBe(n);
      holders.add(list!.last);
      // around each renewal (adds 256, 512): the new last node leaves at once, the holder falls back to the one before
      if (i % 256 === 255 || i % 256 === 0) {
        d.remove(n);
        expect(list!.last.node).toBe(kept.length === 0 ? null : list!.head!.dlPrev);
      } else kept.push(`n${i}`);
      clock.advance(0.01);
    }
    expect(holders.size).toBe(3); // the first holder and two renewals
    expect(d.size).toBe(kept.length);
    clock.advance(100);
    expect(fired).toEqual(kept);
    expect(d.size).toBe(0);
  });

  it('inserts a deadline of a clock that went back right after a renewal', () => {
    const clock = new FakeClock(10_000);
    const d = new Deadlines(clock);
    const fired: string[] = [];
    for (let i = 0; i < 255; i++) d.add(node(fired, `n${i}`), clock.now(), 100);
    clock.jump(-5);
    const early = node(fired, 'early');
    d.add(early, clock.now(), 100); // the 256th add renews the holder, then walks back to be first
    expect(early.dlList!.head).toBe(early);
    expect(early.dlList!.last.node).not.toBe(early);
    clock.advance(100);
    expect(fired[0]).toBe('early');
    expect(fired).toHaveLength(1);
    clock.advance(5);
    expect(fired).toHaveLength(256);
  });
});
