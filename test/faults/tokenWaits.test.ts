import { beforeEach, describe, expect, it } from 'vitest';
import { command, configure, metricsFor, sharedLimiter } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('faults: calls waiting for a rate-limiter token (rateLimit.maxWait)', () => {
  it('200 callers of a one-token bucket: those due within the timeout wait, the rest are refused; cancelling half leaves no waiter, deadline or timer', async () => {
    configure({ limiters: { L: { capacity: 1, refillPerSecond: 10 } } }); // a token every 100 ms
    const c = command({ key: 'Waits', timeout: 1000, maxConcurrent: 1000, rateLimit: { limiter: 'L', maxWait: 5000 }, run: (i: number) => i, fallback: () => -1 });
    const results: number[] = [];
    const subs = Array.from({ length: 200 }, (_, i) => c.toObservable(i).subscribe({ next: (v) => results.push(v as number) }));
    const bucket = sharedLimiter('L');
    // The first takes the only token; the next 9 are due before the 1000 ms deadline (waiting counts against it)
    // and wait; the others are refused at once (RATE_LIMITED): call 10's token would come exactly at its deadline.
    expect(bucket.waiting).toBe(9);
    for (let i = 0; i < 200; i += 2) subs[i]!.unsubscribe();
    clock.advance(2000);
    await flush();
    expect(bucket.waiting).toBe(0);
    expect(deadlinesFor(clock).size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(existingRuntime('Waits')!.semaphore.inUse).toBe(0);
    const s = metricsFor('Waits').snapshot().cumulative;
    // Every call has exactly one outcome: SUCCESS, RATE_LIMITED or CANCELLED (the even waiters cancelled).
    expect(s.SUCCESS + s.RATE_LIMITED + s.CANCELLED + s.TIMEOUT).toBe(200);
    expect(s.TIMEOUT).toBe(0);
    expect(s.CANCELLED).toBe(4); // calls 2, 4, 6, 8 were waiting; 0 had already run, 10 was refused
    expect(s.SUCCESS).toBe(1 + 5); // call 0, then the odd waiters 1, 3, 5, 7, 9
    expect(results.filter((r) => r >= 0).sort((a, b) => a - b)).toEqual([0, 1, 3, 5, 7, 9]);
  });

  it('a call whose token would come after its deadline is RATE_LIMITED at once, never run late', async () => {
    configure({ limiters: { Slow: { capacity: 1, refillPerSecond: 1 } } }); // a token per second
    let runs = 0;
    const c = command({ key: 'WaitsLate', timeout: 500, rateLimit: { limiter: 'Slow', maxWait: 5000 }, run: async () => ++runs, fallback: () => -1 });
    await c.execute();
    const late = c.execute(); // its token is 1000 ms away, past the 500 ms timeout: refused now
    await expect(late).resolves.toBe(-1);
    expect(runs).toBe(1);
    expect(metricsFor('WaitsLate').snapshot().cumulative.RATE_LIMITED).toBe(1);
    expect(sharedLimiter('Slow').waiting).toBe(0);
    clock.advance(5000);
    expect(runs).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });
});
