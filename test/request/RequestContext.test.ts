import { firstValueFrom, lastValueFrom, of, throwError, toArray, concat } from 'rxjs';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CommandError,
  command,
  circuitBreakerFor,
  metricsFor,
  observableCommand,
  RequestContext,
  requestLog,
} from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { MAX_REQUEST_LOG } from '../../src/request/RequestContext.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

/** A promise of `value` that resolves when the fake clock has moved `ms` on. */
function after<T>(ms: number, value: T): Promise<T> {
  if (ms <= 0) return Promise.resolve(value);
  return new Promise((resolve) => clock.setTimer(() => resolve(value), ms));
}

/** A command taking `ms` on the fake clock, counting its runs. */
function slow(key: string, ms: number, extra: Record<string, unknown> = {}) {
  const runs: string[] = [];
  const cmd = command({
    key,
    cacheKey: (id: string) => id,
    ...extra,
    run: (id: string) => {
      runs.push(id);
      return after(ms, `value:${id}`);
    },
  });
  return { cmd, runs };
}

/** Advances the clock in steps, letting promise callbacks run between them. */
async function tick(ms: number, step = ms): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await new Promise<void>((r) => setImmediate(r));
  }
}

describe('request cache', () => {
  it('returns the first result for the same key in the same request, recording RESPONSE_FROM_CACHE', async () => {
    const { cmd, runs } = slow('Cached', 3);
    await RequestContext.run(async () => {
      const first = cmd.execute('a');
      await tick(3);
      expect(await first).toBe('value:a');
      expect(await cmd.execute('a')).toBe('value:a');
      expect(String(requestLog())).toBe('Cached[SUCCESS][3ms], Cached[SUCCESS, RESPONSE_FROM_CACHE][0ms]');
    });
    expect(runs).toEqual(['a']);
    const m = metricsFor('Cached').snapshot();
    expect(m.rolling.RESPONSE_FROM_CACHE).toBe(1);
    expect(m.rolling.SUCCESS).toBe(1);
  });

  it('lets concurrent twins share one run', async () => {
    const { cmd, runs } = slow('Twins', 200);
    const values = await RequestContext.run(async () => {
      const calls = [cmd.execute('a'), cmd.execute('a'), cmd.execute('a'), cmd.execute('a')];
      await tick(200);
      return Promise.all(calls);
    });
    expect(values).toEqual(['value:a', 'value:a', 'value:a', 'value:a']);
    expect(runs).toEqual(['a']);
    const m = metricsFor('Twins').snapshot();
    expect(m.rolling.SUCCESS).toBe(1);
    expect(m.rolling.RESPONSE_FROM_CACHE).toBe(3);
    expect(existingRuntime('Twins')!.semaphore.inUse).toBe(0);
  });

  it('starts every request empty', async () => {
    const { cmd, runs } = slow('PerRequest', 0);
    for (let i = 0; i < 2; i++) {
      await RequestContext.run(async () => {
        await cmd.execute('a');
        await cmd.execute('a');
      });
    }
    expect(runs).toEqual(['a', 'a']);
    expect(metricsFor('PerRequest').snapshot().rolling.RESPONSE_FROM_CACHE).toBe(2);
  });

  it('caches nothing outside a request context, and does not fail', async () => {
    const { cmd, runs } = slow('NoContext', 0);
    expect(await cmd.execute('a')).toBe('value:a');
    expect(await cmd.execute('a')).toBe('value:a');
    expect(runs).toEqual(['a', 'a']);
    expect(String(requestLog())).toBe('');
    expect(requestLog()).toHaveLength(0);
  });

  it('keeps command keys apart, and skips calls whose cache key is undefined', async () => {
    const a = slow('NsA', 0);
    const b = slow('NsB', 0);
    const maybe = slow('Maybe', 0, { cacheKey: (id: string) => (id === 'skip' ? undefined : id) });
    await RequestContext.run(async () => {
      await a.cmd.execute('x');
      await b.cmd.execute('x');
      await maybe.cmd.execute('skip');
      await maybe.cmd.execute('skip');
    });
    expect([a.runs, b.runs, maybe.runs]).toEqual([['x'], ['x'], ['skip', 'skip']]);
  });

  it('does not cache with requestCache: false', async () => {
    const { cmd, runs } = slow('CacheOff', 0, { requestCache: false });
    await RequestContext.run(async () => {
      await cmd.execute('a');
      await cmd.execute('a');
    });
    expect(runs).toEqual(['a', 'a']);
  });

  it('replays a cached failure to later twins, as Hystrix caches errors', async () => {
    let runs = 0;
    const cmd = command({
      key: 'CachedFailure',
      cacheKey: () => 'k',
      run: async () => {
        runs++;
        throw new Error('down');
      },
    });
    const [first, second, log] = await RequestContext.run(async () => {
      const e1 = await cmd.execute().catch((e: unknown) => e);
      const e2 = await cmd.execute().catch((e: unknown) => e);
      return [e1, e2, String(requestLog())];
    });
    expect(runs).toBe(1);
    expect(second).toBe(first);
    expect(first).toBeInstanceOf(CommandError);
    expect(log).toBe('CachedFailure[FAILURE, FALLBACK_MISSING][0ms], CachedFailure[FAILURE, FALLBACK_MISSING, RESPONSE_FROM_CACHE][0ms]');
  });

  it('hands a throwing cacheKey’s error to the caller in every mode, and leaks nothing', async () => {
    const boom = new Error('bad key');
    let runs = 0;
    const cmd = command({
      key: 'BadKey',
      cacheKey: () => {
        throw boom;
      },
      run: (_x: number) => ++runs,
    });
    await RequestContext.run(async () => {
      await expect(cmd.execute(1)).rejects.toBe(boom);
      expect(() => cmd.executeSync(1)).toThrow(boom);
      await expect(firstValueFrom(cmd.toObservable(1))).rejects.toBe(boom);
      expect(requestLog()).toHaveLength(0);
    });
    expect(runs).toBe(0);
    const m = metricsFor('BadKey').snapshot();
    expect(Object.values(m.cumulative).every((n) => n === 0)).toBe(true);
    expect(existingRuntime('BadKey')!.semaphore.inUse).toBe(0);
    expect(deadlinesFor(clock).size).toBe(0);
  });
});

describe('request log', () => {
  it('prints each execution as Hystrix does: Key[events][Nms]', async () => {
    const getUser = command({ key: 'GetUser', run: () => after(3, 'user') });
    const getOrder = command({
      key: 'GetOrder',
      run: async () => {
        await after(12, null);
        throw new Error('no order');
      },
      fallback: () => 'none',
    });
    const log = await RequestContext.run(async () => {
      const u = getUser.execute();
      await tick(3);
      await u;
      const o = getOrder.execute();
      await tick(12);
      await o;
      return requestLog();
    });
    expect(String(log)).toBe('GetUser[SUCCESS][3ms], GetOrder[FAILURE, FALLBACK_SUCCESS][12ms]');
    expect(log.map((e) => [e.key, e.events, e.latency])).toEqual([
      ['GetUser', ['SUCCESS'], 3],
      ['GetOrder', ['FAILURE', 'FALLBACK_SUCCESS'], 12],
    ]);
  });

  it('folds cache hits as Hystrix: TestCommand[SUCCESS][12ms], TestCommand[SUCCESS, RESPONSE_FROM_CACHE][0ms]x4', async () => {
    const { cmd } = slow('TestCommand', 12);
    const text = await RequestContext.run(async () => {
      const calls = [0, 1, 2, 3, 4].map(() => cmd.execute('a'));
      await tick(12);
      await Promise.all(calls);
      return String(requestLog());
    });
    expect(text).toBe('TestCommand[SUCCESS][12ms], TestCommand[SUCCESS, RESPONSE_FROM_CACHE][0ms]x4');
  });

  it('merges identical entries wherever they appear, in first-appearance order, summing their times', async () => {
    const a = command({ key: 'A', run: (ms: number) => after(ms, 'a') });
    const b = command({ key: 'B', run: () => after(1, 'b') });
    const text = await RequestContext.run(async () => {
      for (const p of [() => a.execute(5), () => b.execute(), () => a.execute(3)]) {
        const pending = p();
        await tick(5, 1);
        await pending;
      }
      return String(requestLog());
    });
    expect(text).toBe('A[SUCCESS][8ms]x2, B[SUCCESS][1ms]');
  });

  it('shows a running execution as Key[Executed][0ms]', async () => {
    const cmd = command({ key: 'Running', run: () => after(10, 'done') });
    await RequestContext.run(async () => {
      const pending = cmd.execute();
      expect(String(requestLog())).toBe('Running[Executed][0ms]');
      expect(requestLog()[0]).toMatchObject({ key: 'Running', events: [], latency: -1 });
      await tick(10);
      await pending;
      expect(String(requestLog())).toBe('Running[SUCCESS][10ms]');
    });
  });

  it('logs timeouts, rejections and short-circuits with their events', async () => {
    const timesOut = command({ key: 'TestCommand', timeout: 500, run: () => after(10_000, 'late') });
    const open = command({ key: 'Open', circuitBreaker: { forceOpen: true }, run: () => 'x', fallback: () => 'fb' });
    const busy = command({ key: 'Busy', maxConcurrent: 1, run: () => after(1, 'x') });
    const text = await RequestContext.run(async () => {
      const t = timesOut.execute().catch(() => undefined);
      await tick(500);
      await t;
      await open.execute();
      const first = busy.execute();
      await busy.execute().catch(() => undefined);
      await tick(1);
      await first;
      return String(requestLog());
    });
    expect(text).toBe(
      'TestCommand[TIMEOUT, FALLBACK_MISSING][500ms], Open[SHORT_CIRCUITED, FALLBACK_SUCCESS][0ms], Busy[SUCCESS][1ms], Busy[SEMAPHORE_REJECTED, FALLBACK_MISSING][0ms]',
    );
    expect(circuitBreakerFor('Open').state).toBe('OPEN');
  });

  it('matches Hystrix’s mixed example, in first-appearance order', async () => {
    const mk = (key: string, fail = false) =>
      command({
        key,
        cacheKey: (k: string) => k,
        run: async (_k: string) => {
          if (fail) throw new Error('x');
          return key;
        },
        fallback: fail
          ? () => {
              throw new Error('fallback failed');
            }
          : undefined,
      });
    const [getData, putData, getValues, test] = [mk('GetData'), mk('PutData'), mk('GetValues'), mk('TestCommand', true)];
    const text = await RequestContext.run(async () => {
      await getData.execute('a');
      await putData.execute('a');
      await getValues.execute('a');
      await getValues.execute('a');
      await test.execute('a').catch(() => undefined);
      await test.execute('a').catch(() => undefined);
      return String(requestLog());
    });
    expect(text).toBe(
      'GetData[SUCCESS][0ms], PutData[SUCCESS][0ms], GetValues[SUCCESS][0ms], GetValues[SUCCESS, RESPONSE_FROM_CACHE][0ms], TestCommand[FAILURE, FALLBACK_FAILURE][0ms], TestCommand[FAILURE, FALLBACK_FAILURE, RESPONSE_FROM_CACHE][0ms]',
    );
  });

  it('counts emissions of observable commands: EMITx3 and FALLBACK_EMITx2', async () => {
    const prices = observableCommand({ key: 'Prices', construct: () => of(1, 2, 3) });
    const partial = observableCommand({
      key: 'Partial',
      construct: () => concat(of(1), throwError(() => new Error('cut'))),
      resumeWithFallback: () => of(8, 9),
    });
    const single = observableCommand({ key: 'Single', construct: () => of(1) });
    const text = await RequestContext.run(async () => {
      await lastValueFrom(prices.toObservable().pipe(toArray()));
      await lastValueFrom(partial.toObservable().pipe(toArray()));
      await lastValueFrom(single.toObservable().pipe(toArray()));
      return String(requestLog());
    });
    expect(text).toBe('Prices[EMITx3, SUCCESS][0ms], Partial[EMIT, FAILURE, FALLBACK_EMITx2, FALLBACK_SUCCESS][0ms], Single[EMIT, SUCCESS][0ms]');
  });

  it('keeps Hystrix’s ordinal order for a cache hit of a rate-limited call', async () => {
    const cmd = command({ key: 'LimitedHit', cacheKey: () => 'k', rateLimit: { capacity: 1, refillPerSecond: 1 }, run: () => 1, fallback: () => 0 });
    const text = await RequestContext.run(async () => {
      await command({ key: 'LimitedHit', rateLimit: { capacity: 1, refillPerSecond: 1 }, run: () => 1 }).execute();
      await cmd.execute();
      await cmd.execute();
      return String(requestLog());
    });
    expect(text).toBe('LimitedHit[SUCCESS][0ms], LimitedHit[FALLBACK_SUCCESS, RATE_LIMITED][0ms], LimitedHit[FALLBACK_SUCCESS, RESPONSE_FROM_CACHE, RATE_LIMITED][0ms]');
  });

  it('logs nothing for a command with requestLog: false', async () => {
    const quiet = command({ key: 'Quiet', requestLog: false, run: () => 1 });
    const loud = command({ key: 'Loud', run: () => 1 });
    const text = await RequestContext.run(async () => {
      await quiet.execute();
      await loud.execute();
      return String(requestLog());
    });
    expect(text).toBe('Loud[SUCCESS][0ms]');
  });

  it('holds at most 1000 executions per request, as Hystrix', async () => {
    const cmd = command({ key: 'Many', run: () => 1 });
    const count = await RequestContext.run(async () => {
      for (let i = 0; i < MAX_REQUEST_LOG + 10; i++) await cmd.execute();
      return requestLog().length;
    });
    expect(count).toBe(1000);
    expect(metricsFor('Many').snapshot().rolling.SUCCESS).toBe(1010);
  });

  it('gives a snapshot: later executions do not change an array already read', async () => {
    const cmd = command({ key: 'Snap', run: () => 1 });
    await RequestContext.run(async () => {
      await cmd.execute();
      const before = requestLog();
      await cmd.execute();
      expect(before).toHaveLength(1);
      expect(requestLog()).toHaveLength(2);
      expect(String(requestLog())).toBe('Snap[SUCCESS][0ms]x2');
    });
  });
});

describe('RequestContext', () => {
  it('follows awaits and timers, and is absent outside', async () => {
    expect(RequestContext.active).toBe(false);
    expect(RequestContext.current()).toBeUndefined();
    await RequestContext.run(async () => {
      const ctx = RequestContext.current();
      expect(RequestContext.active).toBe(true);
      await new Promise<void>((r) => setTimeout(r, 0));
      expect(RequestContext.current()).toBe(ctx);
      const nested = RequestContext.run(() => RequestContext.current());
      expect(nested).not.toBe(ctx);
      expect(RequestContext.current()).toBe(ctx);
    });
  });

  it('returns what its function returns', () => {
    expect(RequestContext.run(() => 42)).toBe(42);
  });
});
