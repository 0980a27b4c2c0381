import { describe, expect, it } from 'vitest';
import { RollingCounter } from '../../src/metrics/RollingCounter.js';
import { RollingPercentile } from '../../src/metrics/RollingPercentile.js';
import { CommandMetrics } from '../../src/metrics/CommandMetrics.js';
import { METRICS_DEFAULTS } from '../../src/config/defaults.js';
import { EV, EVENT_TYPES } from '../../src/metrics/eventType.js';

describe('RollingCounter', () => {
  it('sums the buckets of the window, including the one filling now', () => {
    const c = new RollingCounter(2, 1000, 10);
    c.add(0, 0);
    c.add(0, 150);
    c.add(1, 999);
    expect(c.sum(0, 999)).toBe(2);
    expect(c.sum(1, 999)).toBe(1);
    // At t=1000 the bucket [0,100) left the window.
    expect(c.sum(0, 1000)).toBe(1);
    expect(c.sum(0, 1150)).toBe(0);
    expect(c.sum(1, 1899)).toBe(1);
    expect(c.sum(1, 1900)).toBe(0);
  });

  it('resetCounter zeroes one counter in every bucket and keeps the others', () => {
    const c = new RollingCounter(3, 1000, 10);
    c.add(0, 0, 2);
    c.add(1, 0, 3);
    c.add(1, 500, 4);
    c.add(2, 900, 5);
    c.resetCounter(1);
    expect([c.sum(0, 900), c.sum(1, 900), c.sum(2, 900)]).toEqual([2, 0, 5]);
    c.add(1, 950);
    expect(c.sum(1, 950)).toBe(1);
  });

  it('zeroes skipped buckets after a long gap and after a large backwards jump', () => {
    const c = new RollingCounter(1, 1000, 10);
    c.add(0, 0, 5);
    expect(c.sum(0, 50_000)).toBe(0);
    c.add(0, 50_000, 3);
    c.add(0, 10, 1); // far in the past: start over
    expect(c.sum(0, 10)).toBe(1);
  });

  it('tracks the per-bucket maximum over the window', () => {
    const c = new RollingCounter(1, 1000, 10);
    c.max(3, 0);
    c.max(7, 500);
    c.max(2, 900);
    expect(c.windowMax(900)).toBe(7);
    expect(c.windowMax(1550)).toBe(2);
    expect(c.windowMax(5000)).toBe(0);
  });
});

describe('RollingPercentile', () => {
  it('reports Hystrix percentiles and mean over the window, and forgets old buckets', () => {
    const p = new RollingPercentile(60_000, 6);
    for (let i = 1; i <= 100; i++) p.record(i, 1000);
    const s = p.snapshot(1000);
    expect(s.mean).toBe(51);
    expect(s.percentiles['0']).toBe(1);
    expect(s.percentiles['50']).toBe(50);
    expect(s.percentiles['99']).toBe(99);
    expect(s.percentiles['100']).toBe(100);
    expect(p.snapshot(70_000).percentiles['100']).toBe(0);
    expect(p.footprintBytes).toBeLessThan(16 * 1024);
  });
});

describe('CommandMetrics.snapshot', () => {
  it('is a plain JSON-serialisable object with every event type present', () => {
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS, () => 'CLOSED');
    m.mark(EV.SUCCESS, 0);
    m.mark(EV.FAILURE, 0);
    m.takeHealthSnapshot(0);
    const s = m.snapshot(0);
    const round = JSON.parse(JSON.stringify(s));
    expect(round).toEqual(s);
    expect(Object.keys(s.rolling)).toEqual([...EVENT_TYPES]);
    expect(Object.keys(s.cumulative)).toEqual([...EVENT_TYPES]);
    expect(s.health).toEqual({ requestCount: 2, errorCount: 1, errorPercentage: 50 });
    expect(Object.keys(s.latencyExecute.percentiles).sort()).toEqual(['0', '25', '50', '75', '90', '95', '99', '99.5', '100'].sort());
    expect(m.footprintBytes).toBeLessThan(64 * 1024);
  });

  it('resetHealth forgets the health window but keeps the rolling and cumulative event counts', () => {
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS, () => 'CLOSED');
    m.mark(EV.SUCCESS, 0);
    m.mark(EV.FAILURE, 100);
    m.mark(EV.TIMEOUT, 200);
    m.mark(EV.SHORT_CIRCUITED, 300); // no health effect
    expect(m.takeHealthSnapshot(300)).toEqual({ requestCount: 3, errorCount: 2, errorPercentage: 66 }); // truncated, as Hystrix
    m.resetHealth();
    expect(m.takeHealthSnapshot(300)).toEqual({ requestCount: 0, errorCount: 0, errorPercentage: 0 });
    expect([m.rollingCount('SUCCESS', 300), m.rollingCount('FAILURE', 300), m.rollingCount('TIMEOUT', 300)]).toEqual([1, 1, 1]);
    expect(m.cumulativeCount('FAILURE')).toBe(1);
    m.mark(EV.SUCCESS, 400);
    expect(m.takeHealthSnapshot(400)).toEqual({ requestCount: 1, errorCount: 0, errorPercentage: 0 });
  });
});

describe('RollingCounter sparse columns', () => {
  it('gives a counter its column on first use and keeps every other count and maximum when it does', () => {
    const c = new RollingCounter(22, 1000, 10);
    c.add(5, 0, 2);
    c.max(7, 0);
    c.add(1, 150, 3);
    c.add(21, 250, 4);
    c.add(0, 250, 1);
    c.add(5, 350, 1);
    c.max(3, 350);
    expect([c.sum(0, 400), c.sum(1, 400), c.sum(5, 400), c.sum(21, 400), c.sum(9, 400)]).toEqual([1, 3, 3, 4, 0]);
    expect(c.windowMax(400)).toBe(7);
    const sums = c.sums(400);
    expect([...sums].filter((v) => v !== 0)).toEqual([1, 3, 3, 4]);
    expect(sums[21]).toBe(4);
    c.resetCounter(5);
    c.resetCounter(9); // no column: nothing to do
    expect(c.sum(5, 400)).toBe(0);
    expect(c.sum(1, 400)).toBe(3);
    // the bucket of t=0 leaves the window at t=1000: its maximum and counts go with it
    expect(c.windowMax(1000)).toBe(3);
    expect(c.sum(1, 1099)).toBe(3);
    expect(c.sum(1, 1100)).toBe(0);
  });
});
