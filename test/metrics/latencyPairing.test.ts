/**
 * One copy of a key's latencies (issue 13 item 4): a lean success records its latency once for both kinds
 * (CommandMetrics.recordRun), the full flow records `run`'s and the total separately, and a read merges them. Every
 * read must stay exactly what two separate histograms gave: checked here against every value recorded one by one into
 * an HDR histogram (hdr-histogram-js, 2 significant digits) per kind, over the values in the window.
 */
import * as hdr from 'hdr-histogram-js';
import { beforeEach, describe, expect, it } from 'vitest';
import { command, events, metricsFor } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { CommandMetrics } from '../../src/metrics/CommandMetrics.js';
import { PERCENTILE_KEYS, RollingPercentile, type LatencySnapshot } from '../../src/metrics/RollingPercentile.js';
import { METRICS_DEFAULTS } from '../../src/config/defaults.js';
import { useFakeClock } from '../../src/testing.js';
import { seededRandom } from '../support/seededRandom.js';

/** The reference: the values of the window ending at `now`, recorded one by one into one HDR histogram. */
function reference(values: readonly { v: number; at: number }[], now: number, bucketMs: number, buckets: number): LatencySnapshot {
  const newest = Math.floor(now / bucketMs);
  const inWindow = values.filter((x) => {
    const b = Math.floor(x.at / bucketMs);
    return b <= newest && b > newest - buckets;
  });
  if (inWindow.length === 0) return { mean: 0, percentiles: Object.fromEntries(PERCENTILE_KEYS.map((k) => [k, 0])) as LatencySnapshot['percentiles'] };
  const h = hdr.build({ bitBucketSize: 'packed', numberOfSignificantValueDigits: 2, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, autoResize: false, useWebAssembly: false });
  for (const { v } of inWindow) h.recordValue(v < 0 ? 0 : v > 3_600_000 ? 3_600_000 : Math.round(v));
  const percentiles: Record<string, number> = {};
  for (const key of PERCENTILE_KEYS) percentiles[key] = Math.round(h.getValueAtPercentile(Number(key)));
  return { mean: Math.round(h.mean), percentiles: percentiles as LatencySnapshot['percentiles'] };
}

interface Insides {
  latencyRun: unknown;
  latencyExecute: unknown;
  latencyTotal: unknown;
}

describe('latencies recorded once for both kinds (lean successes) and separately (the full flow)', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`reads exactly what recording each kind one by one gives, through shared, split and mixed records (seed ${seed})`, () => {
      const random = seededRandom(seed);
      const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS); // 60 s window, 6 buckets
      const bucketMs = METRICS_DEFAULTS.percentileWindow / METRICS_DEFAULTS.percentileBuckets;
      const execute: { v: number; at: number }[] = [];
      const total: { v: number; at: number }[] = [];
      let now = 0;
      let previous: readonly [LatencySnapshot, LatencySnapshot] | null = null;
      // seed 1 starts lean only (the shared histogram alone), seed 2 full flow only, the others mixed from the start
      const leanShare = seed === 1 ? 1 : seed === 2 ? 0 : 0.6;
      for (let step = 0; step < 3000; step++) {
        const r = random();
        now += r < 0.02 ? 40_000 + random() * 50_000 : random() * 300; // now and then more than a bucket or a window
        const v = random() < 0.9 ? random() * 60 : random() < 0.5 ? 200 + random() * 5000 : -random();
        const share = step < 1500 ? leanShare : 0.5; // the second half mixes in every case
        const kind = random();
        if (kind < share) {
          m.recordRun(v, now);
          execute.push({ v, at: now });
          total.push({ v, at: now });
        } else if (kind < share + (1 - share) * 0.8) {
          const extra = random() < 0.5 ? 0 : random() * 20; // the full flow: total = run (+ queueing, fallback)
          m.recordExecute(v, now);
          m.recordTotal(v + extra, now);
          execute.push({ v, at: now });
          total.push({ v: v + extra, at: now });
        } else {
          m.recordTotal(v, now); // a short-circuit's fallback: a total only
          total.push({ v, at: now });
        }
        if (random() < 0.1) {
          const s = m.snapshot(now);
          expect(s.latencyExecute).toEqual(reference(execute, now, bucketMs, 6));
          expect(s.latencyTotal).toEqual(reference(total, now, bucketMs, 6));
          // a read with nothing new in between returns the same objects (readers compare identities)
          const again = m.snapshot(now);
          expect(again.latencyExecute).toBe(s.latencyExecute);
          expect(again.latencyTotal).toBe(s.latencyTotal);
          previous = [s.latencyExecute, s.latencyTotal];
        }
      }
      expect(previous).not.toBeNull();
      const later = now + 30_000;
      expect(m.snapshot(later).latencyExecute).toEqual(reference(execute, later, bucketMs, 6));
      expect(m.snapshot(later).latencyTotal).toEqual(reference(total, later, bucketMs, 6));
      expect(m.snapshot(now + 61_000).latencyTotal.mean).toBe(0);
    });
  }

  it('keeps the same objects between percentile reads of the stream (not fresh) and fresh reads alike', () => {
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS);
    m.recordRun(10, 100);
    m.recordExecute(20, 200);
    m.recordTotal(30, 200);
    const first = m.latencySnapshots(300, true);
    expect(m.latencySnapshots(400, true)).toBe(first);
    expect(first[0].percentiles['100']).toBe(20);
    expect(first[1].percentiles['100']).toBe(30);
    expect(first[0].percentiles['0']).toBe(10);
  });
});

describe('which histograms a key holds', () => {
  beforeEach(() => {
    useFakeClock();
  });

  /** Which histograms the key's metrics hold (made ones: a kind not made yet holds a small stand-in or nothing). */
  function insides(key: string): Record<keyof Insides, boolean> {
    const m = existingRuntime(key)!.metrics as unknown as Insides;
    return {
      latencyRun: m.latencyRun instanceof RollingPercentile,
      latencyExecute: m.latencyExecute instanceof RollingPercentile,
      latencyTotal: m.latencyTotal instanceof RollingPercentile,
    };
  }

  it('a key whose calls all run lean holds one histogram; a watched call (the full flow) adds the two kinds', async () => {
    const cmd = command({ key: 'Lean', run: () => 'ok' });
    expect(insides('Lean')).toEqual({ latencyRun: false, latencyExecute: false, latencyTotal: false });
    cmd.executeSync();
    await cmd.execute();
    expect(insides('Lean')).toEqual({ latencyRun: true, latencyExecute: false, latencyTotal: false });
    const listener = (): void => undefined;
    events.on('success', listener); // somebody listens: the full flow
    try {
      cmd.executeSync();
    } finally {
      events.off('success', listener);
    }
    expect(insides('Lean')).toEqual({ latencyRun: true, latencyExecute: true, latencyTotal: true });
    const s = metricsFor('Lean').snapshot();
    expect(s.latencyExecute.percentiles['50']).toBe(0);
  });

  it('a key with percentiles off holds none, whatever its calls', async () => {
    const cmd = command({ key: 'NoPct', run: () => 'ok', metrics: { percentileEnabled: false } });
    cmd.executeSync();
    await cmd.execute();
    const listener = (): void => undefined;
    events.on('success', listener);
    try {
      cmd.executeSync();
    } finally {
      events.off('success', listener);
    }
    expect(insides('NoPct')).toEqual({ latencyRun: false, latencyExecute: false, latencyTotal: false });
    expect(existingRuntime('NoPct')!.metrics as unknown as Insides).toMatchObject({ latencyRun: null, latencyExecute: null, latencyTotal: null });
    expect(metricsFor('NoPct').snapshot().latencyTotal.mean).toBe(0);
  });
});
