import { beforeEach, describe, expect, it } from 'vitest';
import { allPools, command, metricsFor } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

const N = 10_000;
let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

/** N runs that settle when the test says: half succeed, half fail. */
function heldWork() {
  const settle: (() => void)[] = [];
  const run = (i: number) =>
    new Promise<number>((resolve, reject) => {
      settle.push(() => (i % 2 === 0 ? resolve(i) : reject(new Error(`fail ${i}`))));
    });
  return { settle, run };
}

describe(`faults: ${N.toLocaleString('en')} calls in flight`, () => {
  it('semaphore isolation (maxConcurrent 10,000): all run at once, all settle, every permit comes back', async () => {
    const work = heldWork();
    const c = command({ key: 'ManySem', timeout: 5000, maxConcurrent: N, circuitBreaker: { enabled: false }, run: work.run, fallback: () => -1 });
    const calls = Array.from({ length: N }, (_, i) => c.execute(i));
    const rt = existingRuntime('ManySem')!;
    expect(rt.semaphore.inUse).toBe(N);
    expect(metricsFor('ManySem').snapshot().concurrency.current).toBe(N);
    expect(deadlinesFor(clock).size).toBe(N);
    await expect(c.execute(-1)).resolves.toBe(-1); // the 10,001st is rejected
    clock.advance(1000);
    for (const s of work.settle) s();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === -1).length).toBe(N / 2);
    expect(rt.semaphore.inUse).toBe(0);
    expect(deadlinesFor(clock).size).toBe(0);
    const s = metricsFor('ManySem').snapshot();
    expect(s.concurrency).toEqual({ current: 0, rollingMax: N });
    expect([s.cumulative.SUCCESS, s.cumulative.FAILURE, s.cumulative.SEMAPHORE_REJECTED, s.cumulative.FALLBACK_SUCCESS]).toEqual([N / 2, N / 2, 1, N / 2 + 1]);
  });

  it('semaphore isolation: 10,000 in flight all time out together, are freed, and the permits come back when the work settles', async () => {
    const work = heldWork();
    const c = command({ key: 'ManyTimeout', timeout: 100, maxConcurrent: N, circuitBreaker: { enabled: false }, run: work.run, fallback: () => -1 });
    const calls = Array.from({ length: N }, (_, i) => c.execute(i));
    clock.advance(100);
    expect((await Promise.all(calls)).every((r) => r === -1)).toBe(true);
    expect(existingRuntime('ManyTimeout')!.semaphore.inUse).toBe(N);
    expect(deadlinesFor(clock).size).toBe(0);
    for (const s of work.settle) s();
    await new Promise<void>((r) => setImmediate(r));
    expect(existingRuntime('ManyTimeout')!.semaphore.inUse).toBe(0);
    expect(metricsFor('ManyTimeout').snapshot().cumulative.TIMEOUT).toBe(N);
  });

  it('pool isolation (coreSize 1,000, queue 9,000): the queue drains in order as slots free up, and everything is returned', async () => {
    const work = heldWork();
    const c = command({
      key: 'ManyPool',
      timeout: false,
      isolation: 'pool',
      pool: { key: 'ManyPool', coreSize: 1_000, maxQueueSize: 9_000, queueSizeRejectionThreshold: 9_000 },
      circuitBreaker: { enabled: false },
      run: work.run,
      fallback: () => -1,
    });
    const calls = Array.from({ length: N }, (_, i) => c.execute(i));
    const pool = allPools().find((p) => p.key === 'ManyPool')!;
    expect([pool.activeCount, pool.queueSize]).toEqual([1_000, 9_000]);
    await expect(c.execute(-1)).resolves.toBe(-1); // queue full: THREAD_POOL_REJECTED
    let started = 1_000;
    while (started <= N && work.settle.length > 0) {
      const batch = work.settle.splice(0);
      for (const s of batch) s();
      await new Promise<void>((r) => setImmediate(r));
      started += batch.length;
      expect(pool.activeCount).toBeLessThanOrEqual(1_000);
    }
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === -1).length).toBe(N / 2);
    expect([pool.activeCount, pool.queueSize]).toEqual([0, 0]);
    const snap = pool.snapshot(clock.now());
    expect(snap.largest).toBe(1_000);
    expect(snap.cumulativeRejected).toBe(1);
    const s = metricsFor('ManyPool').snapshot();
    expect(s.concurrency.current).toBe(0);
    expect([s.cumulative.SUCCESS, s.cumulative.FAILURE, s.cumulative.THREAD_POOL_REJECTED]).toEqual([N / 2, N / 2, 1]);
  });
});
