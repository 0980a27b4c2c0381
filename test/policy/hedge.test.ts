import { beforeEach, describe, expect, it } from 'vitest';
import { command, configure, metricsFor, type RunContext } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';
import { advanceBy, settle } from './fakeTime.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const advance = (ms: number): Promise<void> => advanceBy(clock, ms);

/** A run whose attempts the test settles by hand, recording when each started and its signal. */
function manual() {
  const attempts: { at: number; signal: AbortSignal; resolve: (v: string) => void; reject: (e: unknown) => void }[] = [];
  const run = (ctx: RunContext): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      attempts.push({ at: clock.now(), signal: ctx.signal, resolve, reject });
    });
  return { attempts, run };
}

describe('hedge', () => {
  it('starts a second attempt after the fixed delay; the first success wins and the loser is aborted', async () => {
    const m = manual();
    const c = command({ key: 'H1', idempotent: true, hedge: { delay: 50 }, run: m.run });
    const result = c.execute();
    await advance(49);
    expect(m.attempts).toHaveLength(1);
    await advance(1);
    expect(m.attempts.map((a) => a.at)).toEqual([0, 50]);
    expect(m.attempts[0]!.signal).not.toBe(m.attempts[1]!.signal);
    m.attempts[1]!.resolve('from the hedge');
    await expect(result).resolves.toBe('from the hedge');
    expect(m.attempts[0]!.signal.aborted).toBe(true); // the slow first attempt is abandoned
    expect(m.attempts[1]!.signal.aborted).toBe(false);
    // the loser's permit is held until it really settles
    expect(existingRuntime('H1')!.semaphore.inUse).toBe(1);
    m.attempts[0]!.resolve('late');
    await settle();
    expect(existingRuntime('H1')!.semaphore.inUse).toBe(0);
    expect(existingRuntime('H1')!.metrics.current).toBe(0);
    expect(metricsFor('H1').snapshot().rolling).toMatchObject({ HEDGE: 1, SUCCESS: 1, FAILURE: 0 });
    expect(deadlinesFor(clock).size).toBe(0);
  });

  it("starts the hedge at the key's own latency percentile ('p95')", async () => {
    const m = manual();
    const c = command({ key: 'P95', idempotent: true, timeout: 5000, hedge: { delay: 'p95', floor: 100 }, run: m.run });
    // 20 calls of 20 ms: p95 of run latency is 20 ms (while the histogram was empty the delay was the floor, 100 ms)
    for (let i = 0; i < 20; i++) {
      const r = c.execute();
      await advance(20);
      m.attempts[m.attempts.length - 1]!.resolve('ok');
      await r;
    }
    await advance(1000); // past metrics.healthSnapshotInterval: the cached delay is read again
    const before = m.attempts.length;
    const r = c.execute();
    await advance(19);
    expect(m.attempts.length).toBe(before + 1);
    await advance(1);
    expect(m.attempts.length).toBe(before + 2); // the hedge starts at p95 = 20 ms, not at the floor
    expect(m.attempts[before + 1]!.at - m.attempts[before]!.at).toBe(20);
    m.attempts[before]!.resolve('first');
    await expect(r).resolves.toBe('first');
    expect(m.attempts[before + 1]!.signal.aborted).toBe(true);
  });

  it('uses the floor while the histogram is empty', async () => {
    const m = manual();
    const c = command({ key: 'Floor', idempotent: true, hedge: { delay: 'p99', floor: 70 }, run: m.run });
    const r = c.execute();
    await advance(70);
    expect(m.attempts.map((a) => a.at)).toEqual([0, 70]);
    m.attempts[0]!.resolve('a');
    await r;
  });

  it('skips a hedge that cannot get a permit (no rejection) and waits for the first attempt', async () => {
    const m = manual();
    const c = command({ key: 'Full', idempotent: true, maxConcurrent: 1, hedge: { delay: 10 }, run: m.run, fallback: () => 'fb' });
    const r = c.execute();
    await advance(30);
    expect(m.attempts).toHaveLength(1);
    m.attempts[0]!.resolve('first');
    await expect(r).resolves.toBe('first');
    expect(metricsFor('Full').snapshot().rolling).toMatchObject({ HEDGE: 0, SEMAPHORE_REJECTED: 0, SUCCESS: 1 });
  });

  it('waits for the other attempt when one fails, and falls back only when all have failed', async () => {
    const m = manual();
    const c = command({ key: 'BothFail', idempotent: true, hedge: { delay: 10, maxExtra: 2 }, run: m.run, fallback: (e) => `fb: ${(e as Error).message}` });
    const r = c.execute();
    await advance(20);
    expect(m.attempts.map((a) => a.at)).toEqual([0, 10, 20]);
    m.attempts[0]!.reject(new Error('one'));
    m.attempts[2]!.reject(new Error('three'));
    await settle();
    m.attempts[1]!.reject(new Error('two'));
    await expect(r).resolves.toBe('fb: two');
    expect(metricsFor('BothFail').snapshot().rolling).toMatchObject({ HEDGE: 2, FAILURE: 3, FALLBACK_SUCCESS: 1 });
    expect(existingRuntime('BothFail')!.semaphore.inUse).toBe(0);
    expect(deadlinesFor(clock).size).toBe(0);
  });

  it('aborts every attempt at the deadline', async () => {
    const m = manual();
    const c = command({ key: 'HDeadline', idempotent: true, timeout: 100, hedge: { delay: 30 }, run: m.run, fallback: () => 'fb' });
    const r = c.execute();
    await advance(100);
    await expect(r).resolves.toBe('fb');
    expect(m.attempts.every((a) => a.signal.aborted)).toBe(true);
    expect(metricsFor('HDeadline').snapshot().rolling).toMatchObject({ HEDGE: 1, TIMEOUT: 1 });
  });

  it('shares the retry budget', async () => {
    const m = manual();
    const c = command({ key: 'HBudget', idempotent: true, hedge: { delay: 5 }, retry: { budget: { ratio: 0, minPerSecond: 0.1 } }, run: m.run });
    for (let i = 0; i < 3; i++) {
      const r = c.execute();
      await advance(5);
      m.attempts[m.attempts.length - 1]!.resolve('ok');
      await r;
    }
    // the budget allows 0 × 3 + 0.1 × 10 s = 1 extra attempt
    expect(metricsFor('HBudget').snapshot().rolling.HEDGE).toBe(1);
  });

  it('requires idempotent: true, and validates its fields', () => {
    const run = async () => 1;
    expect(() => command({ key: 'NotIdem', hedge: { delay: 10 }, run })).toThrow(/`idempotent` must be true when `hedge` is set/);
    expect(() => command({ key: 'V', idempotent: true, hedge: { delay: 10, maxExtra: 4 }, run })).toThrow(/`hedge.maxExtra` must be an integer between 1 and 3, got 4/);
    expect(() => command({ key: 'V', idempotent: true, hedge: { delay: 'p97' as never }, run })).toThrow(/`hedge.delay` must be one of 'p50', 'p90', 'p95', 'p99', got "p97"/);
    expect(() => command({ key: 'V', idempotent: true, hedge: { delay: -5 }, run })).toThrow(/`hedge.delay`/);
    expect(() => command({ key: 'V', idempotent: true, hedge: {} as never, run })).toThrow(/`hedge.delay`/);
    // a per-key override is resolved on its own at configure() time, so it says `idempotent` too
    expect(() => configure({ commands: { X: { hedge: { delay: 10 } } } })).toThrow(/`commands.X.idempotent`/);
    expect(() => configure({ commands: { X: { idempotent: true, hedge: { delay: 10 } } } })).not.toThrow();
  });
});
