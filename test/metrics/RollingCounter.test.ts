import { describe, expect, it } from 'vitest';
import { RollingCounter } from '../../src/metrics/RollingCounter.js';
import { RollingPercentile } from '../../src/metrics/RollingPercentile.js';
import { CommandMetrics } from '../../src/metrics/CommandMetrics.js';
import { METRICS_DEFAULTS } from '../../src/config/defaults.js';
import { EV, EVENT_TYPES } from '../../src/metrics/eventType.js';
import { seededRandom } from '../support/seededRandom.js';
import { CollapserMetrics } from '../../src/request/CollapserMetrics.js';

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
    c.addMany(0, 0, 2);
    c.addMany(1, 0, 3);
    c.addMany(1, 500, 4);
    c.addMany(2, 900, 5);
    c.resetCounter(1);
    expect([c.sum(0, 900), c.sum(1, 900), c.sum(2, 900)]).toEqual([2, 0, 5]);
    c.add(1, 950);
    expect(c.sum(1, 950)).toBe(1);
  });

  it('zeroes skipped buckets after a long gap and after a large backwards jump', () => {
    const c = new RollingCounter(1, 1000, 10);
    c.addMany(0, 0, 5);
    expect(c.sum(0, 50_000)).toBe(0);
    c.addMany(0, 50_000, 3);
    c.addMany(0, 10, 1); // far in the past: start over
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
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS);
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
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS);
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
    c.addMany(5, 0, 2);
    c.max(7, 0);
    c.addMany(1, 150, 3);
    c.addMany(21, 250, 4);
    c.addMany(0, 250, 1);
    c.addMany(5, 350, 1);
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
    expect([c.total(5), c.total(1), c.total(9), c.totalOf((1 << 5) | (1 << 1) | (1 << 21))]).toEqual([3, 3, 0, 10]); // totals keep what was zeroed
    // the bucket of t=0 leaves the window at t=1000: its maximum and counts go with it
    expect(c.windowMax(1000)).toBe(3);
    expect(c.sum(1, 1099)).toBe(3);
    expect(c.sum(1, 1100)).toBe(0);
  });
});

describe('CommandMetrics: one write per event (health and totals read from the event counters)', () => {
  const HEALTH = [EV.SUCCESS, EV.FAILURE, EV.TIMEOUT, EV.THREAD_POOL_REJECTED, EV.SEMAPHORE_REJECTED];
  const ERRORS = HEALTH.slice(1);

  it('a column added mid-bucket moves the newest bucket’s shortcut with it (counts and maximum)', () => {
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS);
    m.mark(EV.SUCCESS, 0);
    m.startRun(0);
    m.endRun();
    m.mark(EV.EMIT, 10); // a counter with a lower index: SUCCESS's column moves right
    m.mark(EV.SUCCESS, 20);
    m.startRun(20);
    m.startRun(20);
    m.mark(EV.LOAD_SHED, 30); // a higher one: the maxima move
    m.startRun(30);
    m.endRun();
    m.endRun();
    m.endRun();
    expect([m.rollingCount('SUCCESS', 30), m.rollingCount('EMIT', 30), m.rollingCount('LOAD_SHED', 30)]).toEqual([2, 1, 1]);
    expect([m.cumulativeCount('SUCCESS'), m.cumulativeCount('EMIT'), m.cumulativeCount('LOAD_SHED')]).toEqual([2, 1, 1]);
    expect(m.rollingMaxConcurrency(30)).toBe(3);
    expect(m.takeHealthSnapshot(30)).toEqual({ requestCount: 2, errorCount: 0, errorPercentage: 0 });
  });

  it('counts at a bucket’s last moment and at the next one’s first go to their own buckets', () => {
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS); // 10 s window, 1 s buckets
    m.mark(EV.FAILURE, 999.999);
    m.mark(EV.FAILURE, 1000);
    m.mark(EV.SUCCESS, 1999.5);
    expect(m.rollingCount('FAILURE', 10_999.9)).toBe(1); // [0, 1000) left at 10 000; [1000, 2000) is still in
    expect(m.rollingCount('FAILURE', 11_000)).toBe(0);
    expect(m.rollingCount('SUCCESS', 11_000)).toBe(0);
    expect(m.cumulativeCount('FAILURE')).toBe(2);
    expect(m.cumulativeCount('SUCCESS')).toBe(1);
    expect(m.eventTotal()).toBe(3);
  });

  it('keeps the cumulative counts when buckets rotate out, the window restarts after a jump back, or health resets', () => {
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS);
    for (let t = 0; t < 60_000; t += 250) m.mark(t % 1000 === 0 ? EV.FAILURE : EV.SUCCESS, t);
    expect(m.cumulativeCount('SUCCESS')).toBe(180);
    expect(m.cumulativeCount('FAILURE')).toBe(60);
    expect(m.rollingCount('SUCCESS', 60_000)).toBe(27); // [51 000, 60 000) of the window's 10 buckets
    m.resetHealth();
    m.mark(EV.SUCCESS, 5_000); // more than a window back: the ring starts over, the totals stay
    expect(m.rollingCount('SUCCESS', 5_000)).toBe(1);
    expect(m.rollingCount('FAILURE', 5_000)).toBe(0);
    expect(m.takeHealthSnapshot(5_000)).toEqual({ requestCount: 1, errorCount: 0, errorPercentage: 0 });
    expect(m.cumulativeCount('SUCCESS')).toBe(181);
    expect(m.cumulativeCount('FAILURE')).toBe(60);
    expect(m.eventTotal()).toBe(241);
    expect(m.snapshot(5_000).cumulative.SUCCESS).toBe(181);
  });

  it('after a health reset, a bucket that rotates out takes its baseline with it, and a step back is counted', () => {
    const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS);
    m.mark(EV.FAILURE, 0);
    m.mark(EV.SUCCESS, 4_000);
    m.mark(EV.TIMEOUT, 4_500);
    m.resetHealth();
    m.mark(EV.SUCCESS, 4_600); // same bucket as the reset's baseline
    expect(m.takeHealthSnapshot(4_600)).toEqual({ requestCount: 1, errorCount: 0, errorPercentage: 0 });
    m.mark(EV.FAILURE, 3_000); // a small step back: into the bucket it belongs to, after the reset
    expect(m.takeHealthSnapshot(4_600)).toEqual({ requestCount: 2, errorCount: 1, errorPercentage: 50 });
    // [4000, 5000) rotates out at 14 000 with its baseline: no negative health
    m.mark(EV.SEMAPHORE_REJECTED, 13_500);
    expect(m.takeHealthSnapshot(14_000)).toEqual({ requestCount: 1, errorCount: 1, errorPercentage: 100 });
    expect(m.rollingCount('SUCCESS', 14_000)).toBe(0);
    expect(m.cumulativeCount('SUCCESS')).toBe(2);
  });

  it('agrees with a list of every event, through rotations, health resets and clock steps (seeded)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const m = new CommandMetrics('K', 'G', METRICS_DEFAULTS);
      const bucketMs = (METRICS_DEFAULTS.rollingWindow as number) / METRICS_DEFAULTS.rollingBuckets;
      const log: { bucket: number; event: number; n: number }[] = [];
      const total = new Array<number>(EVENT_TYPES.length).fill(0);
      let resetAt = -Infinity; // health counts events recorded after the last reset only
      let order = 0;
      const seen: { bucket: number; event: number; n: number; order: number }[] = [];
      let head = -Infinity;
      let t = 0;
      for (let step = 0; step < 3000; step++) {
        const r = random();
        t += r < 0.02 ? 3_000 + random() * 9_000 : r < 0.03 ? -random() * 3 * bucketMs : random() * 40; // gaps, steps back
        if (t < 0) t = 0;
        const bucket = Math.floor(t / bucketMs);
        if (random() < 0.01) {
          m.resetHealth();
          resetAt = order++;
          continue;
        }
        const event = random() < 0.6 ? EV.SUCCESS : Math.floor(random() * EVENT_TYPES.length);
        const n = random() < 0.1 ? 3 : 1;
        m.markMany(event, t, n);
        if (bucket > head) head = bucket;
        if (head - bucket >= METRICS_DEFAULTS.rollingBuckets) {
          // more than a window back: the ring starts over at this bucket (totals kept)
          seen.length = 0;
          head = bucket;
        }
        log.push({ bucket, event, n });
        seen.push({ bucket, event, n, order: order++ });
        total[event]! += n;
        const live = seen.filter((e) => e.bucket > head - METRICS_DEFAULTS.rollingBuckets);
        const at = head * bucketMs;
        const sumOf = (events: number[], fromOrder: number) =>
          live.filter((e) => events.includes(e.event) && e.order > fromOrder).reduce((a, e) => a + e.n, 0);
        const context = `seed ${seed} step ${step}`;
        if (step % 7 === 0 || step > 2990) {
          for (let i = 0; i < EVENT_TYPES.length; i++) {
            expect(m.rollingCount(EVENT_TYPES[i]!, at), `${context} rolling ${EVENT_TYPES[i]}`).toBe(sumOf([i], -Infinity));
            expect(m.cumulativeCount(EVENT_TYPES[i]!), `${context} cumulative ${EVENT_TYPES[i]}`).toBe(total[i]);
          }
          const requests = sumOf(HEALTH, resetAt);
          const errors = sumOf(ERRORS, resetAt);
          expect(m.takeHealthSnapshot(at), context).toEqual({
            requestCount: requests,
            errorCount: errors,
            errorPercentage: requests === 0 ? 0 : Math.floor((errors * 100) / requests),
          });
          expect(m.eventTotal(), context).toBe(total.reduce((a, b) => a + b, 0));
        }
      }
      expect(log.length).toBeGreaterThan(2500);
    }
  });
});

describe('CollapserMetrics totals (read from its rolling counter)', () => {
  it('counts every batch, batched request and cache response since the key was first used, across rotations', () => {
    const m = new CollapserMetrics('C', METRICS_DEFAULTS);
    m.batchExecuted(3, 0);
    m.responseFromCache(500);
    m.batchExecuted(5, 15_000); // the first bucket left the window
    m.batchExecuted(2, 60_000);
    expect(m.totals).toEqual({ batches: 3, requestsBatched: 10, responsesFromCache: 1 });
    expect(m.snapshot(60_000, { maxBatchSize: 10, delay: 10, requestCacheEnabled: true }).rollingBatches).toBe(1);
  });
});
