import { beforeEach, describe, expect, it } from 'vitest';
import {
  Command,
  CommandError,
  circuitBreakerFor,
  command,
  configure,
  metricsFor,
  RequestContext,
  requestLog,
  resetConfiguration,
  sharedLimiter,
  type RateLimitOptions,
  type RunContext,
} from '../../src/index.js';
import { limiterFor } from '../../src/limiter/registry.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const flush = () => new Promise<void>((r) => setImmediate(r));

/** No limiter timer or deadline is left once things settle (the breaker's health timer runs out within 1 s). */
function expectNoTimersLeft(): void {
  expect(deadlinesFor(clock).size).toBe(0);
  clock.advance(1000);
  expect(clock.pendingTimers).toBe(0);
}

function rateLimited(key: string, rateLimit: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const runs: number[] = [];
  const cmd = command({
    key,
    rateLimit: rateLimit as never,
    ...extra,
    run: async (n: number) => {
      runs.push(n);
      return n;
    },
  });
  return { cmd, runs };
}

describe('rateLimit on a command', () => {
  it('records RATE_LIMITED → fallback once the bucket is empty, and it is not a health error', async () => {
    const cmd = command({
      key: 'Limited',
      rateLimit: { capacity: 2, refillPerSecond: 1 },
      run: async () => 'ran',
      fallback: (e: unknown) => `fallback:${(e as CommandError).failureType}`,
    });
    expect(await cmd.execute()).toBe('ran');
    expect(await cmd.execute()).toBe('ran');
    expect(await cmd.execute()).toBe('fallback:RATE_LIMITED');
    clock.advance(1000);
    expect(await cmd.execute()).toBe('ran');
    const m = metricsFor('Limited').snapshot();
    expect(m.rolling.RATE_LIMITED).toBe(1);
    expect(m.rolling.FALLBACK_SUCCESS).toBe(1);
    expect(m.rolling.SUCCESS).toBe(3);
    expect(m.health).toMatchObject({ requestCount: 3, errorCount: 0 });
  });

  it('gives CommandError RATE_LIMITED without a fallback', async () => {
    const { cmd, runs } = rateLimited('LimitedNoFb', { capacity: 1, refillPerSecond: 1 });
    await cmd.execute(1);
    const error = await cmd.execute(2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ failureType: 'RATE_LIMITED', commandKey: 'LimitedNoFb' });
    expect((error as Error).message).toBe('LimitedNoFb was rate-limited and no fallback available.');
    expect(runs).toEqual([1]);
  });

  it('releases a half-open trial that was rate-limited, so the next call can be the trial', async () => {
    const cmd = command({
      key: 'LimitedTrial',
      rateLimit: { capacity: 21, refillPerSecond: 1 },
      circuitBreaker: { sleepWindow: 100 },
      run: async (fail: boolean) => {
        if (fail) throw new Error('down');
        return 'ok';
      },
      fallback: (e: unknown) => (e instanceof CommandError ? e.failureType : 'failed'),
    });
    for (let i = 0; i < 20; i++) await cmd.execute(true);
    clock.advance(500);
    expect(circuitBreakerFor('LimitedTrial').state).toBe('OPEN');
    const bucket = limiterFor('LimitedTrial', cmd.config.rateLimit as RateLimitOptions);
    while (bucket.tryTake());
    clock.advance(101); // the sleep window has passed (strictly); 0.6 tokens
    expect(await cmd.execute(false)).toBe('RATE_LIMITED');
    expect(circuitBreakerFor('LimitedTrial').state).toBe('OPEN');
    clock.advance(399); // a whole token
    expect(await cmd.execute(false)).toBe('ok');
    expect(circuitBreakerFor('LimitedTrial').state).toBe('CLOSED');
  });

  it('lets an async call wait up to maxWait for its token, FIFO; a token due later is RATE_LIMITED at once', async () => {
    const { cmd, runs } = rateLimited('Waits', { capacity: 1, refillPerSecond: 10, maxWait: 150 }, { timeout: 1000 });
    const first = cmd.execute(1);
    const second = cmd.execute(2); // due at 100
    const third = cmd.execute(3).catch((e: CommandError) => e.failureType); // due at 200 > 150
    expect(await third).toBe('RATE_LIMITED');
    expect(await first).toBe(1);
    await flush();
    expect(runs).toEqual([1]);
    clock.advance(100);
    expect(await second).toBe(2);
    expect(runs).toEqual([1, 2]);
    const m = metricsFor('Waits').snapshot();
    expect(m.rolling.SUCCESS).toBe(2);
    expect(m.rolling.RATE_LIMITED).toBe(1);
    expectNoTimersLeft();
    expect(deadlinesFor(clock).size).toBe(0);
  });

  it('waits no longer than its own timeout: a token due after the deadline is RATE_LIMITED at once', async () => {
    const { cmd, runs } = rateLimited('WaitTimeout', { capacity: 1, refillPerSecond: 10, maxWait: 1000 }, { timeout: 50 });
    await cmd.execute(1);
    await expect(cmd.execute(2)).rejects.toMatchObject({ failureType: 'RATE_LIMITED' });
    expect(runs).toEqual([1]);
    expectNoTimersLeft();
  });

  it('counts time waiting for a token against the timeout', async () => {
    const started: number[] = [];
    const cmd = command({
      key: 'WaitThenTimeout',
      rateLimit: { capacity: 1, refillPerSecond: 10, maxWait: 500 },
      timeout: 150,
      run: (_n: number, { signal }: RunContext) =>
        new Promise((_resolve, reject) => {
          started.push(clock.now());
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      fallback: (e: unknown) => (e as CommandError).failureType,
    });
    const first = cmd.execute(1);
    const second = cmd.execute(2);
    clock.advance(100);
    expect(started).toEqual([0, 100]);
    clock.advance(50);
    expect(await first).toBe('TIMEOUT');
    expect(await second).toBe('TIMEOUT'); // started at 100, but its deadline is 150
    expect(metricsFor('WaitThenTimeout').snapshot().rolling.TIMEOUT).toBe(2);
  });

  it('is RATE_LIMITED, not TIMEOUT, when the deadline passes while it still waits for its token', async () => {
    // 3 tokens/s: the next token is due at 333.3 ms; timers fire on whole ms, at 334, the deadline's instant.
    const { cmd, runs } = rateLimited('WaitEdge', { capacity: 1, refillPerSecond: 3, maxWait: 1000 }, { timeout: 334 });
    await cmd.execute(1);
    const waiting = cmd.execute(2).catch((e: CommandError) => e.failureType);
    clock.advance(334);
    expect(await waiting).toBe('RATE_LIMITED');
    expect(runs).toEqual([1]);
    const m = metricsFor('WaitEdge').snapshot();
    expect(m.rolling.TIMEOUT).toBe(0);
    expect(m.rolling.RATE_LIMITED).toBe(1);
    expectNoTimersLeft();
  });

  it('leaves the limiter queue when a waiting observable is unsubscribed: CANCELLED, the next waiter moves up', async () => {
    const { cmd, runs } = rateLimited('WaitCancel', { capacity: 1, refillPerSecond: 10, maxWait: 250 });
    await cmd.execute(1);
    const values: unknown[] = [];
    const subscription = cmd.toObservable(2).subscribe((v) => values.push(v));
    const third = cmd.execute(3);
    const bucket = limiterFor('WaitCancel', cmd.config.rateLimit as RateLimitOptions);
    expect(bucket.waiting).toBe(2);
    subscription.unsubscribe();
    expect(bucket.waiting).toBe(1);
    clock.advance(100);
    expect(await third).toBe(3);
    expect(runs).toEqual([1, 3]);
    expect(values).toEqual([]);
    const m = metricsFor('WaitCancel').snapshot();
    expect(m.rolling.CANCELLED).toBe(1);
    expectNoTimersLeft();
    expect(deadlinesFor(clock).size).toBe(0);
  });

  it('never waits in sync mode', () => {
    const cmd = command({ key: 'SyncLimited', rateLimit: { capacity: 1, refillPerSecond: 10, maxWait: 1000 }, run: () => 'ran', fallback: () => 'limited' });
    expect(cmd.executeSync()).toBe('ran');
    expect(cmd.executeSync()).toBe('limited');
    expectNoTimersLeft();
  });

  it('starts a call that waited for its token in its own caller’s request context', async () => {
    let seen: RequestContext | undefined;
    const cmd = command({
      key: 'WaitCtx',
      rateLimit: { capacity: 1, refillPerSecond: 10, maxWait: 500 },
      run: async (n: number) => {
        if (n === 2) seen = RequestContext.current();
        return n;
      },
    });
    await cmd.execute(1);
    let mine: RequestContext | undefined;
    const pending = RequestContext.run(() => {
      mine = RequestContext.current();
      return cmd.execute(2);
    });
    clock.advance(100);
    expect(await pending).toBe(2);
    expect(seen).toBe(mine);
  });
});

describe('shared limiters', () => {
  it('shares one bucket between commands naming it, and with sharedLimiter()', async () => {
    configure({ limiters: { partner: { capacity: 3, refillPerSecond: 1 } } });
    const a = rateLimited('PartnerA', { limiter: 'partner' });
    const b = rateLimited('PartnerB', { limiter: 'partner' });
    expect(sharedLimiter('partner').tryTake()).toBe(true);
    await a.cmd.execute(1);
    await b.cmd.execute(2);
    await expect(a.cmd.execute(3)).rejects.toMatchObject({ failureType: 'RATE_LIMITED' });
    expect(sharedLimiter('partner').available()).toBe(0);
  });

  it('re-creates a shared limiter re-declared with new settings, and keeps it when they are the same', () => {
    configure({ limiters: { api: { capacity: 2, refillPerSecond: 1 } } });
    const first = sharedLimiter('api');
    first.tryTake();
    configure({ limiters: { api: { capacity: 2, refillPerSecond: 1 } } });
    expect(sharedLimiter('api')).toBe(first);
    configure({ limiters: { api: { capacity: 5, refillPerSecond: 1 } } });
    expect(sharedLimiter('api')).not.toBe(first);
    expect(sharedLimiter('api').available()).toBe(5);
  });

  it('names an undeclared limiter in the error', () => {
    expect(() => sharedLimiter('nope')).toThrow(/`rateLimit\.limiter` must be a limiter declared with configure\(\{ limiters \}\), got "nope"/);
  });

  it('lets waiting callers of a shared limiter wait with their own maxWait', async () => {
    configure({ limiters: { slow: { capacity: 1, refillPerSecond: 10 } } });
    const patient = rateLimited('Patient', { limiter: 'slow', maxWait: 500 });
    const hasty = rateLimited('Hasty', { limiter: 'slow' });
    await patient.cmd.execute(1);
    const waiting = patient.cmd.execute(2);
    await expect(hasty.cmd.execute(3)).rejects.toMatchObject({ failureType: 'RATE_LIMITED' });
    clock.advance(100);
    expect(await waiting).toBe(2);
  });
});

describe('class-style commands', () => {
  it('share their key’s bucket across instances (each instance resolves its own options)', async () => {
    class Ping extends Command<string> {
      constructor() {
        super({ key: 'Ping', rateLimit: { capacity: 2, refillPerSecond: 1 } });
      }
      protected run(): string {
        return 'pong';
      }
      protected override fallback(): string {
        return 'limited';
      }
    }
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await new Ping().execute());
    expect(results).toEqual(['pong', 'pong', 'limited', 'limited']);
  });
});

describe('rateLimit options', () => {
  it.each([
    [{ capacity: 0, refillPerSecond: 1 }, /`rateLimit\.capacity` must be a finite number/],
    [{ capacity: 1 }, /`rateLimit\.refillPerSecond` must be a finite number .*got undefined/],
    [{ capacity: 1, refillPerSecond: 1, maxWait: -1 }, /`rateLimit\.maxWait` must be a finite number between 0 and 2147483647 \(ms\), got -1/],
    [{ limiter: 'x', capacity: 1 }, /`rateLimit\.capacity` must be absent when `limiter` names a shared limiter/],
    [{ limiter: '' }, /`rateLimit\.limiter` must be a non-empty string/],
    [{ capacity: 1, refillPerSecond: 1, maxwait: 5 }, /`rateLimit\.maxwait` must be one of the known options/],
    [true, /`rateLimit` must be an object/],
  ])('refuses %o with a message naming the option', (rateLimit, message) => {
    expect(() => command({ key: 'Bad', rateLimit: rateLimit as never, run: () => 1 })).toThrow(message);
  });

  it('refuses bad limiters in configure() and changes nothing', () => {
    expect(() => configure({ limiters: { ok: { capacity: 1, refillPerSecond: 1 }, bad: { capacity: -1, refillPerSecond: 1 } } })).toThrow(
      /`limiters\.bad\.capacity`/,
    );
    expect(() => sharedLimiter('ok')).toThrow(/declared with configure/);
  });
});


describe('an undeclared shared limiter', () => {
  it('is an error naming it, thrown before the call takes anything (no log entry, no half-open trial)', async () => {
    const cmd = command({
      key: 'Undeclared',
      rateLimit: { limiter: 'missing' },
      circuitBreaker: { sleepWindow: 100 },
      run: async (fail: boolean) => {
        if (fail) throw new Error('down');
        return 'ok';
      },
      fallback: () => 'fallback',
    });
    configure({ limiters: { missing: { capacity: 100, refillPerSecond: 100 } } });
    for (let i = 0; i < 20; i++) await cmd.execute(true);
    clock.advance(500);
    expect(circuitBreakerFor('Undeclared').state).toBe('OPEN');
    resetConfiguration(); // forgets the limiter declaration (and the clock: put it back)
    configure({ clock });
    clock.advance(101);
    await RequestContext.run(async () => {
      expect(() => cmd.execute(false)).toThrow(/`rateLimit\.limiter` must be a limiter declared with configure\(\{ limiters \}\), got "missing"/);
      expect(String(requestLog())).toBe('');
    });
    expect(circuitBreakerFor('Undeclared').state).toBe('OPEN'); // no trial was claimed
    configure({ limiters: { missing: { capacity: 1, refillPerSecond: 1 } } });
    expect(await cmd.execute(false)).toBe('ok');
    expect(circuitBreakerFor('Undeclared').state).toBe('CLOSED');
  });
});
