import { beforeEach, describe, expect, it } from 'vitest';
import { command, dashboardEvents, isConfigError, registerCollapserSource, type HystrixDashboardObject } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

describe('dashboardEvents', () => {
  it('emits one object per command, pool and collapser every interval, driven by the clock', async () => {
    await command({ key: 'Ev.A', run: async () => 1 }).execute();
    await command({ key: 'Ev.B', isolation: 'pool', pool: 'EvPool', run: async () => 1 }).execute();
    const remove = registerCollapserSource(() => [
      {
        collapserKey: 'EvBatch',
        rollingBatches: 0,
        rollingRequestsBatched: 0,
        rollingResponsesFromCache: 0,
        batchSize: { mean: 0, percentiles: { '0': 0, '25': 0, '50': 0, '75': 0, '90': 0, '95': 0, '99': 0, '99.5': 0, '100': 0 } },
        shardSize: { mean: 0, percentiles: { '0': 0, '25': 0, '50': 0, '75': 0, '90': 0, '95': 0, '99': 0, '99.5': 0, '100': 0 } },
        maxRequestsInBatch: 100,
        timerDelayInMilliseconds: 10,
        requestCacheEnabled: true,
        rollingWindow: 10000,
        percentileWindow: 60000,
      },
    ]);
    const seen: HystrixDashboardObject[] = [];
    const sub = dashboardEvents({ intervalMs: 250 }).subscribe((o) => seen.push(o));
    try {
      expect(seen).toHaveLength(0);
      clock.advance(249);
      expect(seen).toHaveLength(0);
      clock.advance(1);
      expect(seen.map((o) => `${o.type}:${o.name}`)).toEqual(['HystrixCommand:Ev.A', 'HystrixCommand:Ev.B', 'HystrixThreadPool:EvPool', 'HystrixCollapser:EvBatch']);
      clock.advance(500);
      expect(seen).toHaveLength(12);
      expect(seen[8]!.currentTime).toBe(clock.wallTime());
    } finally {
      sub.unsubscribe();
      remove();
    }
  });

  it('stops its timer on unsubscribe and is cold (each subscriber has its own timer)', () => {
    const before = clock.pendingTimers;
    const events = dashboardEvents();
    const a = events.subscribe();
    const b = events.subscribe();
    expect(clock.pendingTimers).toBe(before + 2);
    clock.advance(1500);
    expect(clock.pendingTimers).toBe(before + 2);
    a.unsubscribe();
    expect(clock.pendingTimers).toBe(before + 1);
    b.unsubscribe();
    expect(clock.pendingTimers).toBe(before);
  });

  it('stops mid-sample when the subscriber unsubscribes from inside next', async () => {
    await command({ key: 'Ev.1', run: async () => 1 }).execute();
    await command({ key: 'Ev.2', run: async () => 1 }).execute();
    const before = clock.pendingTimers;
    const seen: string[] = [];
    const sub = dashboardEvents({ intervalMs: 100 }).subscribe((o) => {
      seen.push(o.name);
      sub.unsubscribe();
    });
    clock.advance(1000);
    expect(seen).toEqual(['Ev.1']);
    expect(clock.pendingTimers).toBe(before);
  });

  it('refuses a bad interval naming the option', () => {
    for (const intervalMs of [0, -1, 2.5, Number.NaN, '500', 2 ** 31]) {
      let error: unknown;
      try {
        dashboardEvents({ intervalMs: intervalMs as number });
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error), String(intervalMs)).toBe(true);
      expect((error as { option: string }).option).toBe('dashboardEvents.intervalMs');
    }
  });
});
