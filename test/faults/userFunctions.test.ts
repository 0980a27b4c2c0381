import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandError, command, events, isCommandError, metricsFor, RequestContext } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

let clock: FakeClock;
const warnings: string[] = [];
const onWarning = (w: Error & { code?: string }) => {
  if (w.code === 'BW_LISTENER_ERROR') warnings.push(w.message);
};
beforeEach(() => {
  clock = useFakeClock();
  warnings.length = 0;
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

const flush = () => new Promise<void>((r) => setImmediate(r));
const never = <T>(): PromiseLike<T> => ({ then: () => undefined as never });

/** Nothing held: permits, fallback permits, running count, deadlines. */
function expectNothingHeld(key: string): void {
  const rt = existingRuntime(key)!;
  expect(rt.semaphore.inUse).toBe(0);
  expect(rt.fallbackSemaphore.inUse).toBe(0);
  expect(metricsFor(key).snapshot().concurrency.current).toBe(0);
  expect(deadlinesFor(clock).size).toBe(0);
}

describe('faults: fallbacks that throw or return garbage', () => {
  it.each([
    ['undefined', undefined],
    ['NaN', Number.NaN],
    ['an object', { weird: true }],
    ['null', null],
  ])('delivers a fallback value of %s as it is: FAILURE + FALLBACK_SUCCESS, nothing held', async (_name, value) => {
    const c = command({ key: 'FbGarbage', run: async () => { throw new Error('down'); }, fallback: () => value });
    await expect(c.execute()).resolves.toBe(value);
    const s = metricsFor('FbGarbage').snapshot();
    expect([s.cumulative.FAILURE, s.cumulative.FALLBACK_SUCCESS, s.cumulative.EXCEPTION_THROWN]).toEqual([1, 1, 0]);
    expectNothingHeld('FbGarbage');
  });

  it.each([
    ['an Error', new Error('fallback broke')],
    ['a string', 'fallback broke'],
    ['undefined', undefined],
    ['a symbol', Symbol('fallback broke')],
  ])('a fallback throwing %s gives the caller a CommandError with fallbackError = that value', async (_name, thrown) => {
    const cause = new Error('down');
    const c = command({ key: 'FbThrows', run: async () => { throw cause; }, fallback: () => { throw thrown; } });
    const error = await c.execute().then(() => undefined, (e: unknown) => e);
    expect(isCommandError(error)).toBe(true);
    expect((error as CommandError).failureType).toBe('COMMAND_EXCEPTION');
    expect((error as CommandError).cause).toBe(cause);
    expect((error as CommandError).fallbackError).toBe(thrown);
    const s = metricsFor('FbThrows').snapshot();
    expect([s.cumulative.FAILURE, s.cumulative.FALLBACK_FAILURE, s.cumulative.EXCEPTION_THROWN]).toEqual([1, 1, 1]);
    expectNothingHeld('FbThrows');
  });

  it('a fallback whose promise rejects with a non-Error is a FALLBACK_FAILURE carrying it', async () => {
    const c = command({ key: 'FbRejects', run: async () => { throw new Error('down'); }, fallback: () => Promise.reject(42) });
    await expect(c.execute()).rejects.toMatchObject({ failureType: 'COMMAND_EXCEPTION', fallbackError: 42 });
    expectNothingHeld('FbRejects');
  });

  it('fallbacks that never settle hold only their fallback permits: later fallbacks are FALLBACK_REJECTION, runs still work', async () => {
    let calls = 0;
    const c = command({
      key: 'FbNever',
      fallbackMaxConcurrent: 2,
      run: async (fail: boolean) => {
        if (fail) throw new Error('down');
        return 'ok';
      },
      fallback: () => {
        calls++;
        return never<string>();
      },
    });
    const stuck = [c.execute(true), c.execute(true)];
    let settled = 0;
    for (const p of stuck) void p.then(() => settled++, () => settled++);
    const third = c.execute(true).then(() => undefined, (e: unknown) => e);
    expect(await third).toMatchObject({ failureType: 'REJECTED_SEMAPHORE_FALLBACK' });
    await expect(c.execute(false)).resolves.toBe('ok');
    await flush();
    expect(settled).toBe(0); // the callers of never-settling fallbacks wait as long as their fallback does
    expect(calls).toBe(2);
    const rt = existingRuntime('FbNever')!;
    expect(rt.fallbackSemaphore.inUse).toBe(2);
    expect(rt.semaphore.inUse).toBe(0); // the run's permit went back when the run settled
    const s = metricsFor('FbNever').snapshot();
    expect([s.cumulative.FAILURE, s.cumulative.FALLBACK_REJECTION, s.cumulative.SUCCESS]).toEqual([3, 1, 1]);
  });
});

describe('faults: event listeners that throw', () => {
  it('a throwing listener on the command and on the global emitter breaks neither the execution nor the counts', async () => {
    const c = command({ key: 'Listen', run: async (fail: boolean) => { if (fail) throw new Error('x'); return 1; }, fallback: () => 2 });
    let after = 0;
    c.events.on('success', () => { throw new Error('listener broke'); });
    c.events.on('success', () => after++);
    c.events.on('failure', () => { throw 'not even an Error'; });
    events.on('fallbackSuccess', () => { throw new Error('global listener broke'); });
    await expect(c.execute(false)).resolves.toBe(1);
    await expect(c.execute(true)).resolves.toBe(2);
    expect(after).toBe(1); // the next listener still ran
    await flush();
    expect(warnings.length).toBe(3);
    expect(warnings.join('\n')).toContain("'success' listener threw: listener broke");
    const s = metricsFor('Listen').snapshot();
    expect([s.cumulative.SUCCESS, s.cumulative.FAILURE, s.cumulative.FALLBACK_SUCCESS]).toEqual([1, 1, 1]);
    expectNothingHeld('Listen');
  });

  it('a circuitOpen listener that throws does not stop the circuit from opening', async () => {
    const c = command({
      key: 'ListenTrip',
      circuitBreaker: { requestVolumeThreshold: 2, errorThresholdPercentage: 50 },
      metrics: { healthSnapshotInterval: 1 },
      run: async () => { throw new Error('down'); },
      fallback: () => 0,
    });
    c.events.on('circuitOpen', () => { throw new Error('pager broke'); });
    await c.execute();
    clock.advance(1);
    await c.execute();
    expect(metricsFor('ListenTrip').snapshot().circuit).toBe('OPEN');
    await c.execute();
    expect(metricsFor('ListenTrip').snapshot().cumulative.SHORT_CIRCUITED).toBe(1);
    expectNothingHeld('ListenTrip');
  });
});

describe('faults: cacheKey functions that throw or return garbage', () => {
  it('a throwing cacheKey reaches the caller before anything is acquired or counted', async () => {
    const c = command({ key: 'CkThrows', run: async () => 1, cacheKey: () => { throw new Error('bad key'); } });
    await RequestContext.run(async () => {
      await expect(c.execute()).rejects.toThrow('bad key');
      // @ts-expect-error: an async run under executeSync (the cacheKey throws before that matters)
      expect(() => c.executeSync()).toThrow('bad key');
    });
    const s = metricsFor('CkThrows').snapshot();
    expect(Object.values(s.cumulative).every((n) => n === 0)).toBe(true);
    expectNothingHeld('CkThrows');
  });

  it('a cacheKey throwing a non-Error rejects with an Error whose cause is what was thrown, in every mode', async () => {
    const thrown = 'no key for you';
    const c = command({ key: 'CkString', run: async () => 1, cacheKey: () => { throw thrown; } });
    const s = command({ key: 'CkStringSync', run: () => 1, cacheKey: () => { throw { code: 42 }; } });
    await RequestContext.run(async () => {
      const error = await c.execute().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(`breakwater: command 'CkString' cacheKey threw a non-Error: "no key for you"`);
      expect((error as Error).cause).toBe(thrown);
      const observed = await new Promise((resolve) => c.toObservable().subscribe({ error: resolve }));
      expect(observed).toBeInstanceOf(Error);
      expect((observed as Error).cause).toBe(thrown);
      let syncError: unknown;
      try {
        s.executeSync();
      } catch (e) {
        syncError = e;
      }
      expect(syncError).toBeInstanceOf(Error);
      expect((syncError as Error).cause).toEqual({ code: 42 });
    });
    expectNothingHeld('CkString');
    expectNothingHeld('CkStringSync');
  });

  it('a cacheKey returning undefined or null means "do not cache": every call runs', async () => {
    let runs = 0;
    const c = command({ key: 'CkUndef', run: async (k: string | null | undefined) => ++runs + String(k), cacheKey: (k: string | null | undefined) => k as undefined });
    await RequestContext.run(async () => {
      await c.execute(undefined);
      await c.execute(undefined);
      await c.execute(null);
    });
    expect(runs).toBe(3);
    expect(metricsFor('CkUndef').snapshot().cumulative.RESPONSE_FROM_CACHE).toBe(0);
  });

  it('a cacheKey returning NaN caches under "NaN" (calls with NaN keys share one execution)', async () => {
    let runs = 0;
    const c = command({ key: 'CkNaN', run: async () => ++runs, cacheKey: () => Number.NaN });
    await RequestContext.run(async () => {
      expect(await c.execute()).toBe(1);
      expect(await c.execute()).toBe(1);
    });
    expect(metricsFor('CkNaN').snapshot().cumulative.RESPONSE_FROM_CACHE).toBe(1);
    expectNothingHeld('CkNaN');
  });

  it('a cacheKey returning objects or a never-settling thenable is refused before anything runs: objects never share results', async () => {
    let runs = 0;
    const c = command({ key: 'CkObject', run: async (id: number) => ({ id, run: ++runs }), cacheKey: (id: number) => ({ id }) as unknown as string });
    const t = command({ key: 'CkThenable', run: async () => 1, cacheKey: () => never<string>() as unknown as string });
    await RequestContext.run(async () => {
      await expect(c.execute(1)).rejects.toThrow(TypeError);
      await expect(t.execute()).rejects.toThrow(/cacheKey/);
    });
    expect(runs).toBe(0);
    expect(metricsFor('CkObject').snapshot().cumulative.SUCCESS).toBe(0);
    expectNothingHeld('CkObject');
    expectNothingHeld('CkThenable');
  });
});
