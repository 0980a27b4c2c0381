import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  allCollapsers,
  CommandError,
  collapser,
  configure,
  hystrixDashboardSample,
  metricsFor,
  RequestContext,
  requestLog,
  type RunContext,
} from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Advances the fake clock one ms at a time, letting promise callbacks run in between. */
async function tick(ms: number): Promise<void> {
  for (let t = 0; t < ms; t++) {
    clock.advance(1);
    await flush();
  }
}

/** A collapser doubling numbers, recording each batch it runs. */
function doubler(key: string, extra: Record<string, unknown> = {}) {
  const batches: number[][] = [];
  const c = collapser({
    key,
    batch: async (args: number[]) => {
      batches.push([...args]);
      return args.map((n) => n * 2);
    },
    ...extra,
  });
  return { c, batches };
}

function settleAll<T>(promises: Promise<T>[]): Promise<(T | string)[]> {
  return Promise.all(promises.map((p) => p.catch((e: unknown) => (e instanceof CommandError ? e.failureType : String(e)))));
}

describe('collapser: batching', () => {
  it('gathers calls within delay into one batch run as one command; each caller gets its own result', async () => {
    const { c, batches } = doubler('GetValue');
    const [results, log] = await RequestContext.run(async () => {
      const calls = [c.execute(1), c.execute(2)];
      await tick(10);
      return [await Promise.all(calls), String(requestLog())];
    });
    expect(results).toEqual([2, 4]);
    expect(batches).toEqual([[1, 2]]);
    expect(c.commandKey).toBe('GetValueBatch');
    expect(log).toBe('GetValueBatch[SUCCESS, COLLAPSED][0ms]');
    const m = metricsFor('GetValueBatch').snapshot();
    expect(m.rolling.SUCCESS).toBe(1);
    expect(m.rolling.COLLAPSED).toBe(2);
    expect(requestLogEntries(log)).toBe(1);
  });

  it('opens a new batch for a call after the first batch has gone', async () => {
    const { c, batches } = doubler('Later');
    await RequestContext.run(async () => {
      const first = [c.execute(1), c.execute(2)];
      await tick(10);
      const third = c.execute(3);
      await tick(10);
      expect(await Promise.all([...first, third])).toEqual([2, 4, 6]);
    });
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('closes each batch delay ms after its first call', async () => {
    const { c, batches } = doubler('OverTime');
    await RequestContext.run(async () => {
      const calls = [c.execute(1)];
      await tick(5);
      calls.push(c.execute(2));
      await tick(8); // t=13: the first batch closed at 10
      calls.push(c.execute(3));
      await tick(6); // t=19
      calls.push(c.execute(4));
      await tick(8); // t=27: the second closed at 23
      calls.push(c.execute(5));
      await tick(10);
      await Promise.all(calls);
    });
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('runs a full batch at once and opens the next one (maxBatchSize)', async () => {
    const { c, batches } = doubler('Split', { maxBatchSize: 2 });
    await RequestContext.run(async () => {
      const calls = [1, 2, 3].map((n) => c.execute(n));
      await flush();
      expect(batches).toEqual([[1, 2]]); // no time has passed
      await tick(10);
      expect(await Promise.all(calls)).toEqual([2, 4, 6]);
    });
    expect(batches).toEqual([[1, 2], [3]]);
    expect(metricsFor('SplitBatch').snapshot().rolling.COLLAPSED).toBe(3);
  });

  it('keeps duplicate arguments as separate requests without a cacheKey', async () => {
    const { c, batches } = doubler('Dupes');
    await RequestContext.run(async () => {
      const calls = [c.execute(5), c.execute(5)];
      await tick(10);
      expect(await Promise.all(calls)).toEqual([10, 10]);
    });
    expect(batches).toEqual([[5, 5]]);
  });

  it('sets no timer while no batch is open', async () => {
    const { c } = doubler('Quiet');
    expect(clock.pendingTimers).toBe(0);
    await RequestContext.run(async () => {
      const p = c.execute(1);
      expect(clock.pendingTimers).toBe(1);
      await tick(10);
      await p;
    });
    clock.advance(1000); // the batch command's health timer runs out too
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('collapser: errors', () => {
  it('rejects only the caller whose result is an Error', async () => {
    const c = collapser({
      key: 'PartlyBad',
      batch: async (ids: string[]) => ids.map((id) => (id === 'b' ? new Error(`no ${id}`) : id.toUpperCase())),
    });
    const results = await RequestContext.run(async () => {
      const settled = settleAll(['a', 'b', 'c'].map((id) => c.execute(id))); // handlers attached before the batch runs
      await tick(10);
      return settled;
    });
    expect(results).toEqual(['A', 'Error: no b', 'C']);
  });

  it('fails every caller of a batch that returns the wrong number of results, as a FAILURE of the batch command', async () => {
    const c = collapser({ key: 'Short', batch: async (ids: string[]) => ids.slice(1) });
    const errors = await RequestContext.run(async () => {
      const calls = ['a', 'b', 'c'].map((id) => c.execute(id).catch((e: unknown) => e));
      await tick(10);
      return Promise.all(calls);
    });
    expect(new Set(errors).size).toBe(1);
    const error = errors[0] as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.failureType).toBe('COMMAND_EXCEPTION');
    expect((error.cause as Error).message).toBe(
      "breakwater: collapser 'Short' batch returned 2 results for 3 requests; it must return an array with one result per request, in order",
    );
    expect((error.cause as { code: string }).code).toBe('BW_BATCH_RESULTS');
    expect(metricsFor('ShortBatch').snapshot().rolling.FAILURE).toBe(1);
  });

  it('refuses a batch result that is not an array', async () => {
    const c = collapser({ key: 'NotArray', batch: async () => ({ a: 1 }) as never });
    const error = (await RequestContext.run(async () => {
      const p = c.execute('a').catch((e: unknown) => e);
      await tick(10);
      return p;
    })) as CommandError;
    expect((error.cause as Error).message).toMatch(/batch returned object for 1 requests/);
  });

  it('gives every caller the batch command’s error when the batch throws', async () => {
    const c = collapser({
      key: 'Throws',
      batch: async () => {
        throw new Error('service down');
      },
    });
    const errors = (await RequestContext.run(async () => {
      const calls = [c.execute(1), c.execute(2)].map((p) => p.catch((e: unknown) => e));
      await tick(10);
      return Promise.all(calls);
    })) as CommandError[];
    expect(errors.map((e) => [e.failureType, (e.cause as Error).message])).toEqual([
      ['COMMAND_EXCEPTION', 'service down'],
      ['COMMAND_EXCEPTION', 'service down'],
    ]);
  });
});

describe('collapser: the batch runs as a command', () => {
  it('times the batch out with the command timeout, aborting its signal', async () => {
    let signal: AbortSignal | undefined;
    const c = collapser({
      key: 'SlowBatch',
      timeout: 50,
      batch: (ids: string[], ctx: RunContext) => {
        signal = ctx.signal;
        return new Promise<string[]>(() => undefined);
      },
    });
    const results = await RequestContext.run(async () => {
      const settled = settleAll([c.execute('a'), c.execute('b')]);
      await tick(60);
      return settled;
    });
    expect(results).toEqual(['TIMEOUT', 'TIMEOUT']);
    expect(signal?.aborted).toBe(true);
  });

  it('short-circuits batches when the batch command’s circuit is open, still recording COLLAPSED', async () => {
    const { c, batches } = doubler('OpenBatch', { circuitBreaker: { forceOpen: true } });
    const [results, log] = await RequestContext.run(async () => {
      const settled = settleAll([c.execute(1), c.execute(2)]);
      await tick(10);
      return [await settled, String(requestLog())];
    });
    expect(results).toEqual(['SHORT_CIRCUIT', 'SHORT_CIRCUIT']);
    expect(batches).toEqual([]);
    expect(log).toBe('OpenBatchBatch[SHORT_CIRCUITED, FALLBACK_MISSING, COLLAPSED][0ms]');
    expect(metricsFor('OpenBatchBatch').snapshot().rolling.COLLAPSED).toBe(2);
  });

  it('rejects a batch that finds the bulkhead full', async () => {
    let release!: () => void;
    const c = collapser({
      key: 'Bulk',
      maxConcurrent: 1,
      timeout: false,
      batch: (ids: string[]) => new Promise<string[]>((resolve) => (release = () => resolve(ids))),
    });
    const results = await RequestContext.run(async () => {
      const first = c.execute('a');
      await tick(10);
      const settled = settleAll([first, c.execute('b')]);
      await tick(10);
      release();
      return settled;
    });
    expect(results).toEqual(['a', 'REJECTED_SEMAPHORE_EXECUTION']);
  });

  it('follows configure({ commands }) for the batch command key', async () => {
    configure({ commands: { ConfiguredBatch: { circuitBreaker: { forceOpen: true } } } });
    const { c } = doubler('Configured');
    const result = await RequestContext.run(async () => {
      const p = c.execute(1).catch((e: CommandError) => e.failureType);
      await tick(10);
      return p;
    });
    expect(result).toBe('SHORT_CIRCUIT');
  });
});

describe('collapser: scope', () => {
  it('batches per request context by default, running the batch in that request', async () => {
    const seen: (RequestContext | undefined)[] = [];
    const c = collapser({
      key: 'PerRequest',
      batch: async (ids: string[]) => {
        seen.push(RequestContext.current());
        return ids;
      },
    });
    const contexts: RequestContext[] = [];
    const calls = [0, 1].flatMap(() =>
      RequestContext.run(() => {
        contexts.push(RequestContext.current()!);
        return [c.execute('a'), c.execute('b')];
      }),
    );
    await tick(10);
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'a', 'b']);
    expect(seen).toEqual(contexts);
  });

  it('refuses a request-scoped call outside a request context, naming the fix', async () => {
    const { c } = doubler('NoContext');
    await expect(c.execute(1)).rejects.toThrow(
      "breakwater: collapser 'NoContext' has scope 'request' but was called outside a request context; run the request inside RequestContext.run(), or use scope: 'global'",
    );
    await expect(c.execute(1)).rejects.toMatchObject({ code: 'BW_NO_REQUEST_CONTEXT' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('batches calls from every request together with scope: global, outside any request', async () => {
    const seen: (RequestContext | undefined)[] = [];
    const c = collapser({
      key: 'Global',
      scope: 'global',
      batch: async (ids: string[]) => {
        seen.push(RequestContext.current());
        return ids;
      },
    });
    const calls = [
      ...RequestContext.run(() => [c.execute('a'), c.execute('b')]),
      ...RequestContext.run(() => [c.execute('c'), c.execute('d')]),
      c.execute('e'),
    ];
    await tick(10);
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(seen).toEqual([undefined]);
    expect(allCollapsers().find((s) => s.collapserKey === 'Global')).toMatchObject({ rollingBatches: 1, rollingRequestsBatched: 5 });
  });

  it('runs a full global batch outside the caller’s request too', async () => {
    const seen: (RequestContext | undefined)[] = [];
    const c = collapser({
      key: 'GlobalFull',
      scope: 'global',
      maxBatchSize: 1,
      batch: async (ids: string[]) => {
        seen.push(RequestContext.current());
        return ids;
      },
    });
    expect(await RequestContext.run(() => c.execute('a'))).toBe('a');
    expect(seen).toEqual([undefined]);
  });
});

describe('collapser: request cache', () => {
  it('shares one result between calls with the same cacheKey in a request; they never join a batch', async () => {
    const { c, batches } = doubler('CachedCollapser', { cacheKey: (n: number) => n });
    await RequestContext.run(async () => {
      const calls = [c.execute(1), c.execute(2), c.execute(1)];
      await tick(10);
      expect(await Promise.all(calls)).toEqual([2, 4, 2]);
      expect(await c.execute(2)).toBe(4); // answered from the cache after the batch, too
    });
    await RequestContext.run(async () => {
      const p = c.execute(1);
      await tick(10);
      await p;
    });
    expect(batches).toEqual([[1, 2], [1]]);
    expect(allCollapsers().find((s) => s.collapserKey === 'CachedCollapser')).toMatchObject({
      rollingBatches: 2,
      rollingRequestsBatched: 3,
      rollingResponsesFromCache: 2,
      requestCacheEnabled: true,
    });
  });

  it('hands a throwing cacheKey’s error to its caller only', async () => {
    const { c, batches } = doubler('BadCacheKey', {
      cacheKey: (n: number) => {
        if (n < 0) throw new Error('negative');
        return n;
      },
    });
    const results = await RequestContext.run(async () => {
      const settled = settleAll([c.execute(-1), c.execute(1)]);
      await tick(10);
      return settled;
    });
    expect(results).toEqual(['Error: negative', 2]);
    expect(batches).toEqual([[1]]);
  });
});

describe('collapser: metrics', () => {
  it('reports batches, requests batched and batch-size percentiles, and reaches the stream', async () => {
    const { c } = doubler('Sizes', { delay: 5 });
    await RequestContext.run(async () => {
      for (const size of [1, 2, 3, 4]) {
        const calls = Array.from({ length: size }, (_, i) => c.execute(i));
        await tick(5);
        await Promise.all(calls);
      }
    });
    const snapshot = allCollapsers().find((s) => s.collapserKey === 'Sizes')!;
    expect(snapshot).toMatchObject({
      rollingBatches: 4,
      rollingRequestsBatched: 10,
      rollingResponsesFromCache: 0,
      maxRequestsInBatch: 2_147_483_647,
      timerDelayInMilliseconds: 5,
      requestCacheEnabled: false,
      rollingWindow: 10_000,
      percentileWindow: 60_000,
    });
    expect(snapshot.batchSize.percentiles['0']).toBe(1);
    expect(snapshot.batchSize.percentiles['100']).toBe(4);
    expect(snapshot.batchSize.mean).toBeGreaterThanOrEqual(2);
    expect(snapshot.batchSize.mean).toBeLessThanOrEqual(3);
    const json = hystrixDashboardSample().find((o) => o.type === 'HystrixCollapser' && o.name === 'Sizes');
    expect(json).toMatchObject({ rollingCountBatches: 4, rollingCountRequestsBatched: 10, propertyValue_timerDelayInMilliseconds: 5 });
    clock.advance(10_000);
    expect(allCollapsers().find((s) => s.collapserKey === 'Sizes')).toMatchObject({ rollingBatches: 0, rollingRequestsBatched: 0 });
  });

  it('shares metrics between collapsers with the same key', async () => {
    const a = doubler('SameKey');
    const b = doubler('SameKey', { maxBatchSize: 7 });
    await RequestContext.run(async () => {
      const calls = [a.c.execute(1), b.c.execute(2)];
      await tick(10);
      await Promise.all(calls);
    });
    const snapshots = allCollapsers().filter((s) => s.collapserKey === 'SameKey');
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatchObject({ rollingBatches: 2, maxRequestsInBatch: 7 });
  });
});

describe('collapser: options', () => {
  const batch = async (xs: number[]) => xs;
  it.each([
    [{ batch }, /`collapser\.key` must be a non-empty string, got undefined/],
    [{ key: 'K' }, /`collapser\.batch` must be a function, got undefined/],
    [{ key: 'K', batch, delay: -1 }, /`collapser\.delay` must be a finite number between 0 and 2147483647 \(ms\), got -1/],
    [{ key: 'K', batch, maxBatchSize: 0 }, /`collapser\.maxBatchSize` must be an integer >= 1 \(or Infinity\), got 0/],
    [{ key: 'K', batch, maxBatchSize: 1.5 }, /`collapser\.maxBatchSize`/],
    [{ key: 'K', batch, scope: 'session' }, /`collapser\.scope` must be one of 'request', 'global', got "session"/],
    [{ key: 'K', batch, cacheKey: 'id' }, /`collapser\.cacheKey` must be a function/],
    [{ key: 'K', batch, timeout: -1 }, /`collapser\.timeout` must be/],
    [{ key: 'K', batch, fallback: () => [] }, /`collapser\.fallback` must be absent/],
    [{ key: 'K', batch, run: () => [] }, /`collapser\.run` must be absent/],
    [{ key: 'K', batch, dealy: 5 }, /`collapser\.dealy` must be one of the known options/],
    ['K', /`collapser` must be an object/],
  ])('refuses %o with a message naming the option', (options, message) => {
    expect(() => collapser(options as never)).toThrow(message);
  });
});

function requestLogEntries(log: string): number {
  return log.split('], ').length;
}

describe('collapser: types', () => {
  it('infers the argument and result types from batch', () => {
    const users = collapser({ key: 'Typed', batch: async (ids: string[]) => ids.map((id) => ({ id })) });
    expectTypeOf(users.execute).parameters.toEqualTypeOf<[string]>();
    // Type-level only: the calls run outside a request context and reject; that is caught here.
    const one = users.execute('1');
    one.catch(() => undefined);
    expectTypeOf(one).toEqualTypeOf<Promise<{ id: string }>>();
    const mixed = collapser({ key: 'TypedMixed', batch: (ids: number[]) => ids.map((n) => (n < 0 ? new Error('neg') : n)) });
    const two = mixed.execute(1);
    two.catch(() => undefined);
    expectTypeOf(two).toEqualTypeOf<Promise<number>>();
  });
});

describe('collapser: misuse', () => {
  it('refuses a cacheKey that returns an object, which would make different arguments share a result', async () => {
    const { c, batches } = doubler('ObjectKey', { cacheKey: (n: number) => ({ n }) as never });
    const result = await RequestContext.run(() => c.execute(1).catch((e: unknown) => e));
    expect(result).toBeInstanceOf(TypeError);
    expect((result as Error).message).toBe(
      "breakwater: collapser 'ObjectKey' cacheKey must return a string or a number (undefined: no caching), got an object",
    );
    expect(batches).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('hands every caller the error when the batch command cannot even start (an undeclared limiter)', async () => {
    const { c, batches } = doubler('NoLimiter', { rateLimit: { limiter: 'undeclared' } });
    const results = await RequestContext.run(async () => {
      const calls = [c.execute(1), c.execute(2)].map((p) => p.catch((e: unknown) => (e as Error).message));
      await tick(10);
      return Promise.all(calls);
    });
    expect(results).toEqual([expect.stringMatching(/`rateLimit\.limiter` must be a limiter declared/), expect.stringMatching(/`rateLimit\.limiter`/)]);
    expect(batches).toEqual([]);
  });
});
