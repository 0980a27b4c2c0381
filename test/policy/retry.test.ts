import { beforeEach, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  Command,
  command,
  configure,
  isCommandError,
  metricsFor,
  RequestContext,
  requestLog,
  toHystrixCommand,
  type RunContext,
} from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';
import { advanceBy } from './fakeTime.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const flush = () => new Promise<void>((r) => setImmediate(r));

const advance = (ms: number): Promise<void> => advanceBy(clock, ms);

function noLeaks(key: string): void {
  const rt = existingRuntime(key)!;
  expect(rt.semaphore.inUse).toBe(0);
  expect(rt.metrics.current).toBe(0);
  expect(deadlinesFor(clock).size).toBe(0);
}

/** A run failing its first `failures` calls, recording when each attempt started and its signal. */
function flaky(failures: number) {
  const starts: number[] = [];
  const signals: AbortSignal[] = [];
  const run = async (ctx: RunContext): Promise<string> => {
    starts.push(clock.now());
    signals.push(ctx.signal);
    if (starts.length <= failures) throw new Error(`attempt ${starts.length} failed`);
    return `ok after ${starts.length}`;
  };
  return { starts, signals, run };
}

describe('retry: attempts inside one execution', () => {
  it('retries a failure after the backoff and counts each attempt as its own event', async () => {
    const f = flaky(1);
    const c = command({ key: 'R1', retry: { maxAttempts: 3, backoff: { initial: 100, jitter: 'none' } }, run: f.run });
    let result!: Promise<string>;
    const log = RequestContext.run(async () => {
      result = c.execute();
      await advance(100);
      await result;
      return String(requestLog());
    });
    await expect(result!).resolves.toBe('ok after 2');
    expect(f.starts).toEqual([0, 100]);
    const s = metricsFor('R1').snapshot();
    expect(s.rolling).toMatchObject({ FAILURE: 1, RETRY: 1, SUCCESS: 1, FALLBACK_MISSING: 0, EXCEPTION_THROWN: 0 });
    // the breaker sees both attempts (health counts are re-read every healthSnapshotInterval; read them now)
    expect(existingRuntime('R1')!.metrics.takeHealthSnapshot(clock.now())).toMatchObject({ requestCount: 2, errorCount: 1 });
    // the request log: FAILURE, RETRY and SUCCESS, in the log's usual (Hystrix ordinal) order
    expect(await log).toBe('R1[SUCCESS, FAILURE, RETRY][100ms]');
    noLeaks('R1');
  });

  it('gives every attempt its own signal and aborts the abandoned one', async () => {
    const f = flaky(2);
    const c = command({ key: 'Signals', retry: { maxAttempts: 3, backoff: { initial: 10, jitter: 'none' } }, run: f.run });
    const result = c.execute();
    await advance(30);
    await expect(result).resolves.toBe('ok after 3');
    expect(new Set(f.signals).size).toBe(3);
    expect(f.signals[0]!.aborted).toBe(false); // the first attempt's is the execution's own (it settled by itself)
    expect(f.signals[1]!.aborted).toBe(true); // a retry attempt replaced by the next is abandoned
    expect(f.signals[2]!.aborted).toBe(false);
  });

  it('waits initial × multiplier^(n−1), capped at max (jitter none)', async () => {
    const f = flaky(4);
    const c = command({
      key: 'Waits',
      timeout: 10_000,
      retry: { maxAttempts: 5, backoff: { initial: 100, multiplier: 3, max: 500, jitter: 'none' } },
      run: f.run,
    });
    const result = c.execute();
    await advance(1500);
    await expect(result).resolves.toBe('ok after 5');
    expect(f.starts).toEqual([0, 100, 400, 900, 1400]);
    expect(metricsFor('Waits').snapshot().rolling.RETRY).toBe(4);
  });

  for (const [jitter, lower, upper] of [
    ['full', 0, 100],
    ['equal', 50, 100],
    ['decorrelated', 100, 200],
  ] as const) {
    it(`waits within the bounds of jitter '${jitter}'`, async () => {
      const waits: number[] = [];
      for (let i = 0; i < 20; i++) {
        const f = flaky(1);
        const c = command({ key: `J-${jitter}`, circuitBreaker: { enabled: false }, retry: { maxAttempts: 2, backoff: { initial: 100, jitter }, budget: false }, run: f.run });
        const result = c.execute();
        await advance(250);
        await expect(result).resolves.toBe('ok after 2');
        waits.push(f.starts[1]! - f.starts[0]!);
      }
      for (const wait of waits) {
        expect(wait).toBeGreaterThanOrEqual(lower);
        expect(wait).toBeLessThanOrEqual(upper);
      }
      expect(new Set(waits).size).toBeGreaterThan(1); // jittered, not constant
    });
  }

  it('does not start a backoff that would end past the deadline: the fallback gets the last failure, not a TIMEOUT', async () => {
    const f = flaky(10);
    let seen: unknown;
    const c = command({
      key: 'Cut',
      timeout: 250,
      retry: { maxAttempts: 5, backoff: { initial: 100, multiplier: 2, jitter: 'none' } },
      run: f.run,
      fallback: (error) => {
        seen = error;
        return 'fallback';
      },
    });
    const result = c.execute();
    await advance(300);
    await expect(result).resolves.toBe('fallback');
    expect(f.starts).toEqual([0, 100]); // the next wait (200 ms from 100) would end at 300 > 250
    expect((seen as Error).message).toBe('attempt 2 failed');
    const s = metricsFor('Cut').snapshot();
    expect(s.rolling).toMatchObject({ FAILURE: 2, RETRY: 1, TIMEOUT: 0, FALLBACK_SUCCESS: 1 });
    noLeaks('Cut');
  });

  it('aborts the running attempt at the deadline, which covers all attempts', async () => {
    let second: AbortSignal | undefined;
    let calls = 0;
    const c = command({
      key: 'Deadline',
      timeout: 300,
      retry: { maxAttempts: 3, backoff: { initial: 100, jitter: 'none' } },
      run: (ctx: RunContext) => {
        calls++;
        if (calls === 1) return Promise.reject(new Error('first'));
        second = ctx.signal;
        return new Promise<string>(() => undefined);
      },
      fallback: (error) => (isCommandError(error) ? error.failureType : 'other'),
    });
    const result = c.execute();
    await advance(300);
    await expect(result).resolves.toBe('TIMEOUT');
    expect(second!.aborted).toBe(true);
    expect(metricsFor('Deadline').snapshot().rolling).toMatchObject({ FAILURE: 1, RETRY: 1, TIMEOUT: 1 });
  });
});

describe('retry: what is never retried', () => {
  const retry = { maxAttempts: 3, backoff: { initial: 10, jitter: 'none' as const } };

  it('a BadRequestError', async () => {
    let calls = 0;
    const c = command({
      key: 'Bad',
      retry,
      run: async () => {
        calls++;
        throw new BadRequestError('no');
      },
    });
    await expect(c.execute()).rejects.toBeInstanceOf(BadRequestError);
    expect(calls).toBe(1);
    expect(metricsFor('Bad').snapshot().rolling.RETRY).toBe(0);
    noLeaks('Bad');
  });

  it('a short-circuit, a semaphore rejection and a rate limit', async () => {
    let calls = 0;
    const run = async () => {
      calls++;
      return 'x';
    };
    const open = command({ key: 'Open', retry, circuitBreaker: { forceOpen: true }, run, fallback: () => 'fb' });
    await expect(open.execute()).resolves.toBe('fb');
    const full = command({ key: 'Full', retry, maxConcurrent: 1, run: () => new Promise<string>(() => undefined), fallback: () => 'fb' });
    void full.execute();
    await expect(full.execute()).resolves.toBe('fb');
    const limited = command({ key: 'Limited', retry, rateLimit: { capacity: 1, refillPerSecond: 0.001 }, run, fallback: () => 'fb' });
    await limited.execute();
    await expect(limited.execute()).resolves.toBe('fb');
    expect(calls).toBe(1);
    for (const key of ['Open', 'Full', 'Limited']) expect(metricsFor(key).snapshot().rolling.RETRY).toBe(0);
  });

  it('a failure retryOn refuses (it sees the error and the attempts so far), or when retryOn throws', async () => {
    const seen: unknown[] = [];
    let calls = 0;
    const c = command({
      key: 'RetryOn',
      retry: { ...retry, retryOn: (error, attempt) => (seen.push([(error as Error).message, attempt]), attempt < 2) },
      run: async () => {
        calls++;
        throw new Error(`e${calls}`);
      },
      fallback: () => 'fb',
    });
    const result = c.execute();
    await advance(20);
    await expect(result).resolves.toBe('fb');
    expect(seen).toEqual([
      ['e1', 1],
      ['e2', 2],
    ]);
    const throwing = command({
      key: 'RetryOnThrows',
      retry: {
        ...retry,
        retryOn: () => {
          throw new Error('predicate bug');
        },
      },
      run: async () => {
        throw new Error('x');
      },
      fallback: (error) => (error as Error).message,
    });
    await expect(throwing.execute()).resolves.toBe('x');
  });

  it('an attempt that finds the circuit open ends the execution with SHORT_CIRCUIT', async () => {
    let calls = 0;
    const c = command({
      key: 'OpensBetween',
      retry: { maxAttempts: 3, backoff: { initial: 100, jitter: 'none' } },
      run: async () => {
        calls++;
        throw new Error('down');
      },
      fallback: (error) => (isCommandError(error) ? error.failureType : (error as Error).message),
    });
    const result = c.execute();
    await flush();
    configure({ commands: { OpensBetween: { circuitBreaker: { forceOpen: true } } } });
    await advance(100);
    await expect(result).resolves.toBe('SHORT_CIRCUIT');
    expect(calls).toBe(1);
    expect(metricsFor('OpensBetween').snapshot().rolling).toMatchObject({ FAILURE: 1, RETRY: 1, SHORT_CIRCUITED: 1, FALLBACK_SUCCESS: 1 });
    noLeaks('OpensBetween');
  });

  it('a cancelled execution stops its backoff', async () => {
    const f = flaky(5);
    const c = command({ key: 'CancelBackoff', retry: { maxAttempts: 3, backoff: { initial: 100, jitter: 'none' } }, run: f.run });
    const sub = c.toObservable().subscribe({ error: () => undefined });
    await flush();
    sub.unsubscribe();
    await advance(300);
    expect(f.starts).toEqual([0]);
    expect(metricsFor('CancelBackoff').snapshot().rolling).toMatchObject({ FAILURE: 1, RETRY: 1, CANCELLED: 1 });
    noLeaks('CancelBackoff');
  });
});

describe('retry: the budget', () => {
  it('caps retries during a 100 % failure at ratio × first attempts + minPerSecond × window', async () => {
    let attempts = 0;
    const c = command({
      key: 'Outage',
      circuitBreaker: { enabled: false },
      retry: { maxAttempts: 3, backoff: { initial: 1, jitter: 'none' }, budget: { ratio: 0.5, minPerSecond: 0.1 } },
      run: async () => {
        attempts++;
        throw new Error('down');
      },
      fallback: () => 'fb',
    });
    for (let i = 0; i < 20; i++) {
      const result = c.execute();
      await advance(3);
      await expect(result).resolves.toBe('fb');
    }
    // 20 first attempts: 0.5 × 20 + 0.1 × 10 s = 11 retries, not the 40 that maxAttempts alone would allow
    const s = metricsFor('Outage').snapshot();
    expect(s.rolling.RETRY).toBe(11);
    expect(attempts).toBe(31);
    expect(s.rolling.FAILURE).toBe(31);
    expect(s.rolling.FALLBACK_SUCCESS).toBe(20);
  });

  it('is on by default (20 %, 10 per second)', () => {
    const c = command({ key: 'DefaultBudget', retry: {}, run: async () => 1 });
    void c;
    expect(existingRuntime('DefaultBudget')?.config.retry).toMatchObject({ maxAttempts: 3, budget: { ratio: 0.2, minPerSecond: 10 } });
  });
});

describe('retry: configuration', () => {
  it('is validated with errors naming the option and the value', () => {
    const run = async () => 1;
    expect(() => command({ key: 'V', retry: { maxAttempts: 0 }, run })).toThrow(/`retry.maxAttempts` must be an integer between 1 and 100, got 0/);
    expect(() => command({ key: 'V', retry: { maxAttempts: 1.5 }, run })).toThrow(RangeError);
    expect(() => command({ key: 'V', retry: { backoff: { jitter: 'random' as never } }, run })).toThrow(/`retry.backoff.jitter` must be one of 'full', 'equal', 'decorrelated', 'none', got "random"/);
    expect(() => command({ key: 'V', retry: { backoff: { initial: -1 } }, run })).toThrow(/`retry.backoff.initial`/);
    expect(() => command({ key: 'V', retry: { backoff: { initial: Infinity } }, run })).toThrow(/`retry.backoff.initial`/);
    expect(() => command({ key: 'V', retry: { backoff: { initial: 500, max: 100 } }, run })).toThrow(/`retry.backoff.max` must be >= retry.backoff.initial \(500\), got 100/);
    expect(() => command({ key: 'V', retry: { backoff: { multiplier: 0.5 } }, run })).toThrow(/`retry.backoff.multiplier`/);
    expect(() => command({ key: 'V', retry: { budget: { ratio: -1 } }, run })).toThrow(/`retry.budget.ratio`/);
    expect(() => command({ key: 'V', retry: { retryOn: 'yes' as never }, run })).toThrow(/`retry.retryOn` must be a function/);
    expect(() => command({ key: 'V', retry: { tries: 3 } as never, run })).toThrow(/`retry.tries`/);
    expect(() => configure({ defaults: { retry: { maxAttempts: -2 } } })).toThrow(/`defaults.retry.maxAttempts`/);
  });

  it('changes live through configure()', async () => {
    const f = flaky(1);
    const c = command({ key: 'Live', retry: { maxAttempts: 2, backoff: { initial: 10, jitter: 'none' } }, run: f.run, fallback: () => 'fb' });
    configure({ commands: { Live: { retry: false } } });
    await expect(c.execute()).resolves.toBe('fb');
    configure({ commands: { Live: { retry: { maxAttempts: 2 } } } });
    const result = c.execute();
    await advance(20);
    await expect(result).resolves.toBe('ok after 2');
    expect(existingRuntime('Live')!.config.retry).toMatchObject({ maxAttempts: 2, backoff: { initial: 10, jitter: 'none' } });
  });

  it('works on class commands', async () => {
    let calls = 0;
    class Flaky extends Command<string> {
      constructor() {
        super({ key: 'ClassRetry', retry: { maxAttempts: 2, backoff: { initial: 5, jitter: 'none' } } });
      }
      protected run(): Promise<string> {
        calls++;
        return calls === 1 ? Promise.reject(new Error('once')) : Promise.resolve('ok');
      }
    }
    const result = new Flaky().execute();
    await advance(5);
    await expect(result).resolves.toBe('ok');
    expect(metricsFor('ClassRetry').snapshot().rolling.RETRY).toBe(1);
  });
});

describe('retry: observability', () => {
  it('shows RETRY on the stream as rollingCountRetry', async () => {
    const f = flaky(1);
    const c = command({ key: 'Stream', retry: { backoff: { initial: 5, jitter: 'none' } }, run: f.run });
    const result = c.execute();
    await advance(5);
    await result;
    const rt = existingRuntime('Stream')!;
    const json = toHystrixCommand({ snapshot: rt.metrics.snapshot(clock.now()), config: rt.config, isCircuitBreakerOpen: false }, 0);
    expect(json.rollingCountRetry).toBe(1);
    expect(json.rollingCountHedge).toBe(0);
  });
});

describe('retry: decorated methods', () => {
  it('retries a @HystrixCommand method', async () => {
    const { HystrixCommand } = await import('../../src/index.js');
    let calls = 0;
    class Client {
      @HystrixCommand({ key: 'DecoratedRetry', retry: { maxAttempts: 2, backoff: { initial: 5, jitter: 'none' } } })
      async get(id: string): Promise<string> {
        calls++;
        if (calls === 1) throw new Error('once');
        return `user ${id}`;
      }
    }
    const result = new Client().get('7');
    await advance(5);
    await expect(result).resolves.toBe('user 7');
    expect(calls).toBe(2);
    expect(metricsFor('DecoratedRetry').snapshot().rolling).toMatchObject({ FAILURE: 1, RETRY: 1, SUCCESS: 1 });
  });
});
