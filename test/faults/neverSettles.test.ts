import { beforeEach, describe, expect, it } from 'vitest';
import { allPools, command, metricsFor, type RunContext } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Work that settles only when the test says so (or never). */
function stuckWork() {
  const settlers: (() => void)[] = [];
  const signals: AbortSignal[] = [];
  const run = (_id: number, { signal }: RunContext) =>
    new Promise<string>((resolve) => {
      signals.push(signal);
      settlers.push(() => resolve('late'));
    });
  return { run, settlers, signals };
}

describe('faults: a run that never settles', () => {
  it('with a timeout: the caller is freed at the deadline, the permit stays held until the work settles', async () => {
    const work = stuckWork();
    const c = command({ key: 'Stuck', timeout: 100, maxConcurrent: 2, run: work.run, fallback: () => 'fallback' });
    const first = c.execute(1);
    clock.advance(100);
    await expect(first).resolves.toBe('fallback'); // freed at the deadline: TIMEOUT → fallback
    expect(work.signals[0]!.aborted).toBe(true); // and told to stop
    const rt = existingRuntime('Stuck')!;
    expect(rt.semaphore.inUse).toBe(1); // but the work ignored the signal: its permit is held
    expect(metricsFor('Stuck').snapshot().concurrency.current).toBe(1);
    expect(deadlinesFor(clock).size).toBe(0); // no timer is kept for it

    // The permit is the only thing held: one more call fits, the next is rejected.
    const second = c.execute(2);
    await expect(c.execute(3)).resolves.toBe('fallback');
    expect(metricsFor('Stuck').snapshot().cumulative.SEMAPHORE_REJECTED).toBe(1);

    // When the work finally settles, the permit comes back; its late value goes nowhere.
    work.settlers[0]!();
    await flush();
    expect(rt.semaphore.inUse).toBe(1); // only the second call's
    clock.advance(100);
    await expect(second).resolves.toBe('fallback');
    work.settlers[1]!();
    await flush();
    expect(rt.semaphore.inUse).toBe(0);
    expect(metricsFor('Stuck').snapshot().concurrency.current).toBe(0);
    const s = metricsFor('Stuck').snapshot().cumulative;
    expect([s.TIMEOUT, s.SEMAPHORE_REJECTED, s.SUCCESS, s.FALLBACK_SUCCESS]).toEqual([2, 1, 0, 3]);
    clock.advance(1000); // the one health-snapshot timer fires
    expect(clock.pendingTimers).toBe(0);
  });

  it('without a timeout: the caller waits as long as the work, and maxConcurrent such runs reject everything after', async () => {
    const work = stuckWork();
    const c = command({ key: 'StuckForever', timeout: false, maxConcurrent: 3, run: work.run, fallback: () => 'fallback' });
    let settled = 0;
    for (let i = 0; i < 3; i++) void c.execute(i).then(() => settled++);
    clock.advance(24 * 3600 * 1000);
    await flush();
    expect(settled).toBe(0);
    expect(existingRuntime('StuckForever')!.semaphore.inUse).toBe(3);
    await expect(c.execute(9)).resolves.toBe('fallback');
    expect(metricsFor('StuckForever').snapshot().cumulative.SEMAPHORE_REJECTED).toBe(1);
    expect(clock.pendingTimers).toBe(0); // nothing ticks for stuck work
    for (const settle of work.settlers) settle();
    await flush();
    expect(settled).toBe(3);
    expect(existingRuntime('StuckForever')!.semaphore.inUse).toBe(0);
  });

  it('under pool isolation: a stuck run holds its slot; queued calls time out in the queue and never run late', async () => {
    const work = stuckWork();
    const c = command({
      key: 'StuckPool',
      timeout: 100,
      isolation: 'pool',
      pool: { key: 'StuckPool', coreSize: 1, maxQueueSize: 5, queueSizeRejectionThreshold: 5 },
      run: work.run,
      fallback: () => 'fallback',
    });
    const calls = [c.execute(1), c.execute(2), c.execute(3)];
    const pool = allPools().find((p) => p.key === 'StuckPool')!;
    expect([pool.activeCount, pool.queueSize]).toEqual([1, 2]);
    clock.advance(100);
    await expect(Promise.all(calls)).resolves.toEqual(['fallback', 'fallback', 'fallback']);
    expect([pool.activeCount, pool.queueSize]).toEqual([1, 0]); // the queue is empty; the stuck run keeps its slot
    expect(work.settlers.length).toBe(1); // the queued calls never started
    work.settlers[0]!();
    await flush();
    expect([pool.activeCount, pool.queueSize]).toEqual([0, 0]);
    expect(work.settlers.length).toBe(1);
    expect(metricsFor('StuckPool').snapshot().cumulative.TIMEOUT).toBe(3);
  });

  it('a cancelled caller frees itself at once; the permit again waits for the work', async () => {
    const work = stuckWork();
    const c = command({ key: 'StuckCancel', timeout: false, run: work.run });
    const sub = c.toObservable(1).subscribe({});
    sub.unsubscribe();
    expect(work.signals[0]!.aborted).toBe(true);
    expect(existingRuntime('StuckCancel')!.semaphore.inUse).toBe(1);
    expect(metricsFor('StuckCancel').snapshot().cumulative.CANCELLED).toBe(1);
    work.settlers[0]!();
    await flush();
    expect(existingRuntime('StuckCancel')!.semaphore.inUse).toBe(0);
    expect(metricsFor('StuckCancel').snapshot().cumulative.SUCCESS).toBe(0); // a late value records nothing
  });
});
