import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { PERCENTILE_KEYS, RollingPercentile } from '../../src/metrics/RollingPercentile.js';

/** The reference: every value recorded one by one into one HDR histogram of the same precision (2 digits). */
function oneByOne(values: number[]) {
  const h = hdr.build({ bitBucketSize: 'packed', numberOfSignificantValueDigits: 2, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, autoResize: false, useWebAssembly: false });
  for (const v of values) h.recordValue(v < 0 ? 0 : v > 3_600_000 ? 3_600_000 : Math.round(v));
  const percentiles: Record<string, number> = {};
  for (const key of PERCENTILE_KEYS) percentiles[key] = Math.round(h.getValueAtPercentile(Number(key)));
  return { mean: Math.round(h.mean), percentiles };
}

describe('RollingPercentile', () => {
  it('reports exactly what recording every value one by one reports, small, large, negative and fractional alike', () => {
    const values: number[] = [];
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const r = seed / 2 ** 31;
      values.push(r < 0.8 ? r * 40 : r < 0.95 ? 200 + r * 100 : r < 0.99 ? r * 90_000 : -r);
    }
    values.push(255.4, 255.5, 256, 4_000_000);
    const p = new RollingPercentile(60_000, 6);
    for (const v of values) p.record(v, 1000);
    expect(p.snapshot(1000)).toEqual(oneByOne(values));
  });

  it('keeps values in the bucket of the time they were recorded, across bucket changes and snapshots', () => {
    const p = new RollingPercentile(60_000, 6);
    for (let i = 0; i < 300; i++) p.record(5, 0);
    for (let i = 0; i < 100; i++) p.record(500, 10_000);
    expect(p.snapshot(10_000).percentiles['50']).toBe(5);
    for (let i = 0; i < 400; i++) p.record(300, 20_000);
    // At 60 s the first bucket (0–10 s) has left the window: 100 × 500 ms and 400 × 300 ms remain.
    const s = p.snapshot(60_000);
    // Two significant digits: within 1 % of the recorded values.
    expect(Math.abs(s.percentiles['0'] - 300)).toBeLessThanOrEqual(3);
    expect(Math.abs(s.percentiles['100'] - 500)).toBeLessThanOrEqual(5);
    expect(Math.abs(s.mean - 340)).toBeLessThanOrEqual(4);
    expect(p.snapshot(90_000).percentiles['100']).toBe(0);
  });
});

describe('RollingPercentile snapshots', () => {
  it('returns the cached snapshot while nothing changed, and a new one after a record or an expiry', () => {
    const p = new RollingPercentile(60_000, 6);
    p.record(10, 0);
    const a = p.snapshot(0);
    expect(p.snapshot(5_000)).toBe(a);
    p.record(20, 5_000);
    const b = p.snapshot(5_000);
    expect(b).not.toBe(a);
    expect(b.percentiles['100']).toBe(20);
    // At 60 s the bucket [0, 10 s) expires: both values leave the window.
    expect(p.snapshot(60_000).percentiles['100']).toBe(0);
  });

  it('keeps the window consistent when the clock goes back past a whole window', () => {
    const p = new RollingPercentile(60_000, 6);
    p.record(10, 500_000);
    p.record(30, 100);
    const s = p.snapshot(100);
    expect(s.percentiles['100']).toBe(30);
    expect(s.percentiles['0']).toBe(30);
  });
});

describe('RollingPercentile repeated values', () => {
  it('counts runs of one value right while other buckets and bins move the entries (the repeat shortcut)', () => {
    const p = new RollingPercentile(60_000, 6);
    const recorded: [number, number][] = [];
    let seed = 11;
    let bucket = 5;
    // runs of a repeated latency, interleaved with new bins, time jumps of one or two buckets (the skipped slot keeps
    // an expired bucket) and snapshots in the middle of a bucket (which drop that bucket), so the shared entries array
    // shifts under the remembered position again and again
    for (let step = 0; step < 600; step++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      if (step % 30 === 29) bucket += 1 + (seed % 2);
      const now = bucket * 10_000 + (step % 30);
      const value = seed % 7 === 0 ? seed % 1000 : 3 + (seed % 3);
      const run = 1 + (seed % 5);
      for (let k = 0; k < run; k++) {
        p.record(value, now);
        recorded.push([value, now]);
      }
      if (seed % 11 === 0) p.snapshot(now);
    }
    const end = bucket * 10_000 + 29;
    const oldest = (bucket - 5) * 10_000;
    expect(p.snapshot(end)).toEqual(oneByOne(recorded.filter(([, at]) => at >= oldest).map(([v]) => v)));
  });

  it('repeats a value right after a snapshot dropped an expired bucket stored before it', () => {
    const p = new RollingPercentile(60_000, 6);
    p.record(7, 0); // bucket 0, slot 0
    p.record(5, 70_000); // bucket 7, slot 1: stored after slot 0's entry
    p.snapshot(70_000); // bucket 0 left the window: its entry leaves the shared array
    p.record(5, 70_000);
    p.record(5, 70_000);
    p.record(50, 70_000);
    expect(p.snapshot(70_000)).toEqual(oneByOne([5, 5, 5, 50]));
  });
});

describe('RollingPercentile: the same-bin shortcut (a pending count per latest entry)', () => {
  it('puts raw latencies at the edges of rounding and of wide bins where rounding them one by one would', () => {
    const edges = [-3, -0, 0, 0.49999999999999994, 0.5, 1.4999, 1.5, 127.5, 255.49, 255.5, 256, 257.49, 257.5, 511.5, 512, 515.5, 3_599_999.4, 3_600_000, 3_600_000.4, 4e6];
    const p = new RollingPercentile(60_000, 6);
    const recorded: number[] = [];
    let seed = 5;
    for (let i = 0; i < 4000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // runs of one edge value, then a neighbour: the shortcut's range is tested from both sides
      const v = edges[Math.floor(i / 3) % edges.length]! + (seed % 4 === 0 ? 0.5 : seed % 4 === 1 ? -0.5 : 0);
      p.record(v, 1000 + (i % 7));
      recorded.push(v);
      if (seed % 97 === 0) expect(p.snapshot(1000 + (i % 7))).toEqual(oneByOne(recorded)); // pending joins its entry
    }
    expect(p.snapshot(2000)).toEqual(oneByOne(recorded));
  });

  it('keeps a pending run in its own bucket when the next record, a snapshot or an expiry moves on', () => {
    const p = new RollingPercentile(60_000, 6);
    for (let i = 0; i < 5; i++) p.record(9.2, 9_999);
    for (let i = 0; i < 3; i++) p.record(9.2, 10_000); // the next bucket: not the same entry
    expect(p.snapshot(10_000)).toEqual(oneByOne([9, 9, 9, 9, 9, 9, 9, 9]));
    for (let i = 0; i < 4; i++) p.record(40, 10_001);
    // bucket [0, 10 s) leaves at 60 s: only the 3 + 4 of [10 s, 20 s) stay
    expect(p.snapshot(60_000)).toEqual(oneByOne([9, 9, 9, 40, 40, 40, 40]));
    for (let i = 0; i < 6; i++) p.record(40, 60_000); // a run right after the expiry moved the entries
    expect(p.snapshot(60_000)).toEqual(oneByOne([9, 9, 9, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40]));
    expect(p.snapshot(70_000)).toEqual(oneByOne([40, 40, 40, 40, 40, 40]));
  });
});
