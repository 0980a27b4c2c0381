import { beforeEach, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  Command,
  CommandError,
  command,
  events,
  metricsFor,
  type RunContext,
} from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { deferred, flush } from '../support/deferred.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});



function semaphoreInUse(key: string): number {
  return existingRuntime(key)!.semaphore.inUse;
}

describe('executor: basic outcomes', () => {
  it('returns the value of a successful run and records SUCCESS once', async () => {
    const c = command({ key: 'Ok', run: async (a: number, b: number) => a + b });
    await expect(c.execute(2, 3)).resolves.toBe(5);
    const s = metricsFor('Ok').snapshot();
    expect(s.rolling.SUCCESS).toBe(1);
    expect(s.cumulative.SUCCESS).toBe(1);
    expect(s.rolling.FAILURE).toBe(0);
    expect(s.health).toEqual({ requestCount: 1, errorCount: 0, errorPercentage: 0 });
    expect(s.concurrency.current).toBe(0);
    expect(semaphoreInUse('Ok')).toBe(0);
  });

  it('passes the caller arguments and then the RunContext to run', async () => {
    let seen: unknown[] = [];
    const c = command({
      key: 'Args',
      run: (a: string, b: number, ctx: RunContext) => {
        seen = [a, b, ctx.commandKey, ctx.signal instanceof AbortSignal];
        return 'ok';
      },
    });
    await c.execute('x', 1);
    expect(seen).toEqual(['x', 1, 'Args', true]);
  });

  it('uses the fallback when run fails: FAILURE + FALLBACK_SUCCESS, fallback gets (error, ...args)', async () => {
    const boom = new Error('boom');
    let fallbackArgs: unknown[] = [];
    const c = command({
      key: 'FailFb',
      run: async (_id: string): Promise<string> => {
        throw boom;
      },
      fallback: (error, id) => {
        fallbackArgs = [error, id];
        return 'fallback';
      },
    });
    await expect(c.execute('42')).resolves.toBe('fallback');
    expect(fallbackArgs).toEqual([boom, '42']);
    const s = metricsFor('FailFb').snapshot();
    expect(s.rolling.FAILURE).toBe(1);
    expect(s.rolling.FALLBACK_SUCCESS).toBe(1);
    expect(s.rolling.EXCEPTION_THROWN).toBe(0);
  });

  it('rejects with CommandError COMMAND_EXCEPTION and FALLBACK_MISSING when there is no fallback', async () => {
    const boom = new Error('boom');
    const c = command({
      key: 'FailNoFb',
      run: async () => {
        throw boom;
      },
    });
    const error = await c.execute().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ failureType: 'COMMAND_EXCEPTION', commandKey: 'FailNoFb', cause: boom });
    expect((error as CommandError).message).toBe('FailNoFb failed and no fallback available.');
    const s = metricsFor('FailNoFb').snapshot();
    expect(s.rolling.FALLBACK_MISSING).toBe(1);
    expect(s.rolling.EXCEPTION_THROWN).toBe(1);
  });

  it('rejects with the fallback error attached when the fallback fails: FALLBACK_FAILURE', async () => {
    const boom = new Error('boom');
    const fbErr = new Error('fallback broke');
    const c = command({
      key: 'FbFails',
      run: async () => {
        throw boom;
      },
      fallback: async () => {
        throw fbErr;
      },
    });
    const error = (await c.execute().catch((e: unknown) => e)) as CommandError;
    expect(error.failureType).toBe('COMMAND_EXCEPTION');
    expect(error.cause).toBe(boom);
    expect(error.fallbackError).toBe(fbErr);
    expect(error.message).toBe('FbFails failed and fallback failed.');
    expect(metricsFor('FbFails').snapshot().rolling.FALLBACK_FAILURE).toBe(1);
    expect(existingRuntime('FbFails')!.fallbackSemaphore.inUse).toBe(0);
  });

  it('does not call a fallback that is disabled, and records no fallback event (as Hystrix)', async () => {
    let called = false;
    const c = command({
      key: 'FbOff',
      fallbackEnabled: false,
      run: async () => {
        throw new Error('x');
      },
      fallback: () => {
        called = true;
        return 1;
      },
    });
    const error = (await c.execute().catch((e: unknown) => e)) as CommandError;
    expect(error.message).toBe('FbOff failed and fallback disabled.');
    expect(called).toBe(false);
    const s = metricsFor('FbOff').snapshot().rolling;
    expect([s.FAILURE, s.FALLBACK_SUCCESS, s.FALLBACK_MISSING, s.EXCEPTION_THROWN]).toEqual([1, 0, 0, 1]);
  });

  it('wraps non-Error throwables as the cause', async () => {
    for (const thrown of ['a string', undefined, { code: 42 }, 7]) {
      const c = command({
        key: `Throw-${typeof thrown}`,
        run: () => {
          throw thrown;
        },
      });
      const error = (await c.execute().catch((e: unknown) => e)) as CommandError;
      expect(error).toBeInstanceOf(CommandError);
      expect(error.cause).toBe(thrown);
    }
  });

  it('treats a synchronous throw in run like a rejection', async () => {
    const c = command({
      key: 'SyncThrow',
      run: () => {
        throw new Error('sync');
      },
      fallback: () => 'fb',
    });
    await expect(c.execute()).resolves.toBe('fb');
    expect(semaphoreInUse('SyncThrow')).toBe(0);
  });
});

describe('executor: bad requests', () => {
  it('passes a BadRequestError through untouched, with no fallback and no health effect', async () => {
    const bad = new BadRequestError('id is required');
    let fallbackCalled = false;
    const c = command({
      key: 'Bad',
      run: async () => {
        throw bad;
      },
      fallback: () => {
        fallbackCalled = true;
        return 0;
      },
    });
    await expect(c.execute()).rejects.toBe(bad);
    expect(fallbackCalled).toBe(false);
    clock.advance(500);
    const s = metricsFor('Bad').snapshot();
    expect(s.rolling.BAD_REQUEST).toBe(1);
    expect(s.rolling.EXCEPTION_THROWN).toBe(1);
    expect(s.health.requestCount).toBe(0);
    expect(s.concurrency.current).toBe(0);
  });

  it('keeps the error percentage as it was (Hystrix testBadRequestsDoNotAffectErrorPercentage)', async () => {
    const outcomes: ('S' | 'F' | 'B')[] = [];
    const c = command({
      key: 'BadPct',
      circuitBreaker: { requestVolumeThreshold: 100 },
      metrics: { healthSnapshotInterval: 100 },
      run: async () => {
        const o = outcomes.shift();
        if (o === 'F') throw new Error('f');
        if (o === 'B') throw new BadRequestError('b');
        return 1;
      },
      fallback: () => 0,
    });
    const step = async (...os: ('S' | 'F' | 'B')[]) => {
      for (const o of os) {
        outcomes.push(o);
        await c.execute().catch(() => undefined);
      }
      clock.advance(100);
      return metricsFor('BadPct').snapshot().health.errorPercentage;
    };
    expect(await step('S', 'F')).toBe(50);
    expect(await step('B', 'B')).toBe(50);
    expect(await step('F', 'F')).toBe(75);
  });
});

describe('executor: timeouts', () => {
  it('gives the caller TIMEOUT → fallback at the deadline and aborts the signal', async () => {
    let signal: AbortSignal | undefined;
    const work = deferred<string>();
    let fallbackError: unknown;
    const c = command({
      key: 'T1',
      timeout: 100,
      run: (ctx: RunContext) => {
        signal = ctx.signal;
        return work.promise;
      },
      fallback: (error) => {
        fallbackError = error;
        return 'late';
      },
    });
    const p = c.execute();
    clock.advance(99);
    await flush();
    expect(signal!.aborted).toBe(false);
    clock.advance(1);
    await expect(p).resolves.toBe('late');
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toMatchObject({ name: 'TimeoutError' });
    expect(fallbackError).toBeInstanceOf(CommandError);
    expect((fallbackError as CommandError).failureType).toBe('TIMEOUT');
    const s = metricsFor('T1').snapshot();
    expect(s.rolling.TIMEOUT).toBe(1);
    expect(s.rolling.FALLBACK_SUCCESS).toBe(1);
    // The permit is held until the work really settles.
    expect(semaphoreInUse('T1')).toBe(1);
    expect(s.concurrency.current).toBe(1);
    work.resolve('too late');
    await flush();
    expect(semaphoreInUse('T1')).toBe(0);
    const after = metricsFor('T1').snapshot();
    expect(after.rolling.SUCCESS).toBe(0); // the late success is never recorded
    expect(after.concurrency.current).toBe(0);
  });

  it('hands an already-aborted signal to a run that reads it only after its deadline', async () => {
    const gate = deferred<void>();
    let lateSignal: AbortSignal | undefined;
    const c = command({
      key: 'LateSignal',
      timeout: 10,
      run: async (ctx: RunContext) => {
        await gate.promise;
        lateSignal = ctx.signal;
        return 1;
      },
      fallback: () => 0,
    });
    const p = c.execute();
    clock.advance(10);
    await expect(p).resolves.toBe(0);
    gate.resolve();
    await flush();
    expect(lateSignal!.aborted).toBe(true);
    expect(lateSignal!.reason).toMatchObject({ name: 'TimeoutError' });
  });

  it('rejects with CommandError TIMEOUT whose cause is a TimeoutError when there is no fallback', async () => {
    const c = command({ key: 'T2', timeout: 50, run: () => new Promise(() => undefined) });
    const p = c.execute().catch((e: unknown) => e);
    clock.advance(50);
    const error = (await p) as CommandError;
    expect(error.failureType).toBe('TIMEOUT');
    expect(error.message).toBe('T2 timed-out and no fallback available.');
    expect(error.cause).toMatchObject({ name: 'TimeoutError', timeout: 50 });
  });

  it('never times out with timeout: false', async () => {
    const work = deferred<number>();
    const c = command({ key: 'T3', timeout: false, run: () => work.promise });
    const p = c.execute();
    clock.advance(10 * 60_000);
    work.resolve(9);
    await expect(p).resolves.toBe(9);
    expect(metricsFor('T3').snapshot().rolling.TIMEOUT).toBe(0);
  });

  it('does not put the fallback under the timeout', async () => {
    const slowFallback = deferred<string>();
    const c = command({
      key: 'T4',
      timeout: 10,
      run: async () => {
        throw new Error('x');
      },
      fallback: () => slowFallback.promise,
    });
    const p = c.execute();
    await flush();
    clock.advance(5000);
    slowFallback.resolve('slow but fine');
    await expect(p).resolves.toBe('slow but fine');
  });

  it('starts no timer per call: deadlines share one timer that is dropped when idle', async () => {
    const c = command({ key: 'T5', timeout: 1000, maxConcurrent: 100, run: async () => 1 });
    await Promise.all(Array.from({ length: 50 }, () => c.execute()));
    expect(deadlinesFor(clock).size).toBe(0);
    expect(clock.pendingTimers).toBeLessThanOrEqual(1); // at most the breaker's one health timer
    const pending = Array.from({ length: 5 }, () => deferred<number>());
    let i = 0;
    const slow = command({ key: 'T6', timeout: 1000, maxConcurrent: 10, run: () => pending[i++]!.promise });
    const calls = pending.map(() => slow.execute());
    expect(deadlinesFor(clock).size).toBe(5);
    const timersWithWork = clock.pendingTimers;
    expect(timersWithWork).toBeLessThanOrEqual(2);
    pending.forEach((d, n) => d.resolve(n));
    await Promise.all(calls);
    expect(deadlinesFor(clock).size).toBe(0);
  });
});

describe('executor: bulkheads', () => {
  it('rejects past maxConcurrent with SEMAPHORE_REJECTED → fallback, and frees permits', async () => {
    const work = deferred<string>();
    const c = command({ key: 'Sem', maxConcurrent: 2, run: () => work.promise, fallback: () => 'rejected' });
    const a = c.execute();
    const b = c.execute();
    await expect(c.execute()).resolves.toBe('rejected');
    expect(semaphoreInUse('Sem')).toBe(2);
    work.resolve('ok');
    await expect(Promise.all([a, b])).resolves.toEqual(['ok', 'ok']);
    expect(semaphoreInUse('Sem')).toBe(0);
    const s = metricsFor('Sem').snapshot();
    expect(s.rolling.SEMAPHORE_REJECTED).toBe(1);
    expect(s.concurrency.rollingMax).toBe(2);
  });

  it('gives REJECTED_SEMAPHORE_EXECUTION without a fallback', async () => {
    const work = deferred<string>();
    const c = command({ key: 'Sem2', maxConcurrent: 1, run: () => work.promise });
    const a = c.execute();
    const error = (await c.execute().catch((e: unknown) => e)) as CommandError;
    expect(error.failureType).toBe('REJECTED_SEMAPHORE_EXECUTION');
    work.resolve('x');
    await a;
  });

  it('rejects fallbacks past fallbackMaxConcurrent with FALLBACK_REJECTION, keeping the original cause', async () => {
    const slowFallback = deferred<string>();
    const boom = new Error('boom');
    const c = command({
      key: 'FbSem',
      fallbackMaxConcurrent: 1,
      run: async () => {
        throw boom;
      },
      fallback: () => slowFallback.promise,
    });
    const first = c.execute();
    await flush();
    const error = (await c.execute().catch((e: unknown) => e)) as CommandError;
    expect(error.failureType).toBe('REJECTED_SEMAPHORE_FALLBACK');
    expect(error.cause).toBe(boom);
    slowFallback.resolve('fb');
    await expect(first).resolves.toBe('fb');
    expect(metricsFor('FbSem').snapshot().rolling.FALLBACK_REJECTION).toBe(1);
    expect(existingRuntime('FbSem')!.fallbackSemaphore.inUse).toBe(0);
  });
});

describe('executor: events', () => {
  it('emits per-command and global events with the key, and survives a throwing listener', async () => {
    const c = command({
      key: 'Ev',
      run: async (ok: boolean) => {
        if (!ok) throw new Error('no');
        return 1;
      },
      fallback: () => 0,
    });
    const seen: string[] = [];
    c.events.on('success', (e) => seen.push(`local:${e.eventType}:${e.commandKey}`));
    events.on('failure', (e) => seen.push(`global:${e.eventType}:${e.commandKey}`));
    c.events.on('fallbackSuccess', () => {
      throw new Error('listener bug');
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await expect(c.execute(true)).resolves.toBe(1);
      await expect(c.execute(false)).resolves.toBe(0);
      await flush();
    } finally {
      process.off('warning', onWarning);
    }
    expect(seen).toEqual(['local:SUCCESS:Ev', 'global:FAILURE:Ev']);
    expect(warnings.some((w) => w.includes('listener bug'))).toBe(true);
    expect(semaphoreInUse('Ev')).toBe(0);
    expect(existingRuntime('Ev')!.fallbackSemaphore.inUse).toBe(0);
  });

  it('builds no payload when nobody listens', async () => {
    const c = command({ key: 'Quiet', run: async () => 1 });
    let emitted = 0;
    // With no listener, emit must not be called at all (so no payload object is built).
    const emitter = c.events as unknown as { emit: (...a: unknown[]) => boolean };
    const emit = emitter.emit.bind(emitter);
    emitter.emit = (...a: unknown[]) => {
      emitted++;
      return emit(...a);
    };
    await c.execute();
    expect(emitted).toBe(0);
    c.events.on('success', () => undefined);
    await c.execute();
    expect(emitted).toBe(1);
  });
});

describe('class style', () => {
  class GetUser extends Command<string> {
    calls = 0;
    constructor(private readonly id: string, private readonly fail = false) {
      super({ key: 'GetUserClass', group: 'Users' });
    }
    protected run({ signal }: RunContext): Promise<string> {
      this.calls++;
      if (this.fail) return Promise.reject(new Error('down'));
      return Promise.resolve(`user-${this.id}-${signal.aborted}`);
    }
    protected override fallback(): string {
      return `anon-${this.id}`;
    }
  }

  it('executes once per instance; a second execution is a BAD_REQUEST_EXCEPTION CommandError', async () => {
    const cmd = new GetUser('1');
    await expect(cmd.execute()).resolves.toBe('user-1-false');
    expect(cmd.executionEvents).toEqual(['SUCCESS']);
    const error = (await cmd.execute().catch((e: unknown) => e)) as CommandError;
    expect(error.failureType).toBe('BAD_REQUEST_EXCEPTION');
    expect(error.message).toBe('GetUserClass command executed multiple times - this is not permitted.');
    expect(cmd.calls).toBe(1);
    expect(() => new GetUser('2').executeSync()).toThrow(TypeError);
  });

  it('uses an overridden fallback and reports its events', async () => {
    const cmd = new GetUser('7', true);
    await expect(cmd.execute()).resolves.toBe('anon-7');
    expect(cmd.executionEvents).toEqual(['FAILURE', 'FALLBACK_SUCCESS']);
  });

  it('has no fallback unless one is overridden', async () => {
    class NoFb extends Command<number> {
      constructor() {
        super({ key: 'NoFbClass' });
      }
      protected run(): number {
        throw new Error('x');
      }
    }
    const cmd = new NoFb();
    const error = (await cmd.execute().catch((e: unknown) => e)) as CommandError;
    expect(error.failureType).toBe('COMMAND_EXCEPTION');
    expect(cmd.executionEvents).toEqual(['FAILURE', 'FALLBACK_MISSING']);
  });
});

describe('executor: async context', () => {
  it('runs a timeout fallback in its own caller request context, not in the one that armed the shared timer', async () => {
    const { RequestContext, requestLog } = await import('../../src/index.js');
    const inner = command({ key: 'CtxInner', run: async () => 'inner' });
    const c = command({
      key: 'CtxTimeout',
      maxConcurrent: 10,
      run: (_label: string) => new Promise<string>(() => undefined),
      fallback: async (_e, label) => `${label}:${await inner.execute()}:${requestLog().length}`,
    });
    // Request A arms the shared deadline timer first; request B's deadline fires from the same timer.
    const a = RequestContext.run(() => c.execute('A'));
    const b = RequestContext.run(async () => {
      const result = await c.execute('B');
      return [result, String(requestLog())];
    });
    clock.advance(1000);
    await expect(a).resolves.toBe('A:inner:2');
    const [resultB, logB] = await b;
    expect(resultB).toBe('B:inner:2');
    expect(logB).toMatch(/^CtxTimeout\[TIMEOUT, FALLBACK_SUCCESS\]\[1000ms\], CtxInner\[SUCCESS\]\[0ms\]$/);
  });

  it('does not let an executeSync call replace a cache entry that async twins share', async () => {
    const { RequestContext } = await import('../../src/index.js');
    let runs = 0;
    const gate = deferred<void>();
    const c = command({
      key: 'CacheMix',
      cacheKey: (id: string) => id,
      run: (id: string) => {
        runs++;
        return runs === 1 ? gate.promise.then(() => id) : id;
      },
    });
    await RequestContext.run(async () => {
      const first = c.execute('x');
      expect(c.executeSync('x')).toBe('x'); // a sync twin cannot wait for the in-flight promise: it runs itself
      const twin = c.execute('x');
      gate.resolve();
      await expect(Promise.all([first, twin])).resolves.toEqual(['x', 'x']);
    });
    expect(runs).toBe(2);
  });
});
