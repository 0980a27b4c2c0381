import { beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, NEVER, Observable, of, Subject, take, toArray } from 'rxjs';
import {
  captureExecution,
  Command,
  command,
  CommandError,
  HystrixCommand,
  isCommandError,
  metricsFor,
  observableCommand,
  ObservableCommand,
  RequestContext,
  requestLog,
  TimeoutError,
  type RunContext,
} from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});
const flush = () => new Promise<void>((r) => setImmediate(r));

/** A class command whose run and fallback are given per instance. */
class Probe<R> extends Command<R> {
  constructor(
    options: ConstructorParameters<typeof Command>[0],
    private readonly work: (ctx: RunContext) => R | PromiseLike<R>,
    private readonly fb?: (error: unknown) => R,
    private readonly key?: string,
  ) {
    super(options);
  }
  protected run(ctx: RunContext): R | PromiseLike<R> {
    return this.work(ctx);
  }
  protected override fallback(error: unknown): R {
    if (this.fb === undefined) throw new Error('no fallback');
    return this.fb(error);
  }
  protected override cacheKey(): string | undefined {
    return this.key;
  }
}

class NoFallback extends Command<number> {
  constructor(key: string, private readonly work: () => number | PromiseLike<number>, options: object = {}) {
    super({ key, ...options });
  }
  protected run(): number | PromiseLike<number> {
    return this.work();
  }
}

describe('a class command records every outcome, as Hystrix getExecutionEvents() and is* accessors', () => {
  it('short-circuited: [SHORT_CIRCUITED, FALLBACK_SUCCESS], run never started so executionTimeMs is -1', async () => {
    let ran = false;
    const cmd = new Probe({ key: 'RecShort', circuitBreaker: { forceOpen: true } }, () => (ran = true), () => false);
    expect(await cmd.execute()).toBe(false);
    expect(ran).toBe(false);
    expect(cmd.executionEvents).toEqual(['SHORT_CIRCUITED', 'FALLBACK_SUCCESS']);
    expect(cmd.isResponseShortCircuited).toBe(true);
    expect(cmd.isResponseFromFallback).toBe(true);
    expect(cmd.isCircuitBreakerOpen).toBe(true);
    expect(cmd.isSuccessfulExecution).toBe(false);
    expect(cmd.isFailedExecution).toBe(false);
    expect(cmd.isExecutionComplete).toBe(true);
    expect(cmd.isResponseRejected).toBe(false);
    expect(cmd.executionTimeMs).toBe(-1);
    const error = cmd.executionException;
    expect(isCommandError(error) && error.failureType).toBe('SHORT_CIRCUIT');
    expect(cmd.failedExecutionException).toBeUndefined();
  });

  it('semaphore-rejected without a fallback: [SEMAPHORE_REJECTED, FALLBACK_MISSING]', async () => {
    let release!: (v: number) => void;
    const holder = new NoFallback('RecSem', () => new Promise<number>((r) => (release = r)), { maxConcurrent: 1 });
    const held = holder.execute();
    const cmd = new NoFallback('RecSem', () => 2, { maxConcurrent: 1 });
    const error = await cmd.execute().catch((e: unknown) => e);
    expect(isCommandError(error) && error.failureType).toBe('REJECTED_SEMAPHORE_EXECUTION');
    expect(cmd.executionEvents).toEqual(['SEMAPHORE_REJECTED', 'FALLBACK_MISSING']);
    expect(cmd.isResponseRejected).toBe(true);
    expect(cmd.isResponseSemaphoreRejected).toBe(true);
    expect(cmd.isResponseThreadPoolRejected).toBe(false);
    expect(cmd.isExecutionComplete).toBe(true);
    expect(cmd.executionTimeMs).toBe(-1);
    expect(holder.executionEvents).toEqual([]);
    expect(holder.isExecutionComplete).toBe(false);
    clock.advance(7);
    release(1);
    await held;
    expect(holder.executionEvents).toEqual(['SUCCESS']);
    expect(holder.isSuccessfulExecution).toBe(true);
    expect(holder.executionTimeMs).toBe(7);
  });

  it('pool-rejected: [THREAD_POOL_REJECTED, FALLBACK_SUCCESS]; a pool run is executed "in a thread"', async () => {
    let release!: (v: string) => void;
    const opts = { key: 'RecPool', isolation: 'pool' as const, pool: { key: 'RecPool', coreSize: 1 } };
    const holder = new Probe(opts, () => new Promise<string>((r) => (release = r)));
    const held = holder.execute();
    const cmd = new Probe(opts, () => 'run', () => 'fallback');
    expect(await cmd.execute()).toBe('fallback');
    expect(cmd.executionEvents).toEqual(['THREAD_POOL_REJECTED', 'FALLBACK_SUCCESS']);
    expect(cmd.isResponseThreadPoolRejected).toBe(true);
    expect(cmd.isResponseRejected).toBe(true);
    expect(cmd.isExecutedInThread).toBe(false);
    release('ok');
    await held;
    expect(holder.isExecutedInThread).toBe(true);
  });

  it('rate-limited: [RATE_LIMITED, FALLBACK_SUCCESS]', async () => {
    const opts = { key: 'RecRate', rateLimit: { capacity: 1, refillPerSecond: 0.001 } };
    await new Probe(opts, () => 1).execute();
    const cmd = new Probe(opts, () => 1, () => 0);
    expect(await cmd.execute()).toBe(0);
    expect(cmd.executionEvents).toEqual(['FALLBACK_SUCCESS', 'RATE_LIMITED']); // breakwater's event sorts last
    expect(cmd.isResponseRateLimited).toBe(true);
    expect(cmd.executionTimeMs).toBe(-1);
  });

  it('failed: isFailedExecution, the run error as failedExecutionException, the run time', async () => {
    const boom = new Error('boom');
    const cmd = new Probe({ key: 'RecFail' }, async () => {
      await new Promise((r) => setImmediate(r));
      throw boom;
    }, () => 'fb');
    const pending = cmd.execute();
    await flush();
    expect(await pending).toBe('fb');
    expect(cmd.executionEvents).toEqual(['FAILURE', 'FALLBACK_SUCCESS']);
    expect(cmd.isFailedExecution).toBe(true);
    expect(cmd.failedExecutionException).toBe(boom);
    expect(cmd.executionException).toBe(boom);
    expect(cmd.executionTimeMs).toBe(0);
  });

  it('timed out: isResponseTimedOut, a TimeoutError as executionException, executionTimeMs the time run had', async () => {
    const cmd = new NoFallback('RecTimeout', () => new Promise<number>(() => undefined), { timeout: 50 });
    const pending = cmd.execute().catch((e: unknown) => e);
    clock.advance(50);
    const error = await pending;
    expect(error).toBeInstanceOf(CommandError);
    expect(cmd.executionEvents).toEqual(['TIMEOUT', 'FALLBACK_MISSING']);
    expect(cmd.isResponseTimedOut).toBe(true);
    expect(cmd.executionException).toBeInstanceOf(TimeoutError);
    expect(cmd.executionTimeMs).toBe(50);
  });

  it('a cache hit: the original’s events plus RESPONSE_FROM_CACHE, executionTimeMs -1', async () => {
    await RequestContext.run(async () => {
      const first = new Probe({ key: 'RecCache' }, async () => 'v', undefined, 'k');
      const second = new Probe({ key: 'RecCache' }, async () => 'other', undefined, 'k');
      const a = first.execute();
      const b = second.execute();
      expect(second.isResponseFromCache).toBe(true);
      expect(await a).toBe('v');
      expect(await b).toBe('v');
      expect(first.executionEvents).toEqual(['SUCCESS']);
      expect(second.executionEvents).toEqual(['SUCCESS', 'RESPONSE_FROM_CACHE']);
      expect(second.isSuccessfulExecution).toBe(true);
      expect(second.isExecutionComplete).toBe(true);
      expect(second.executionTimeMs).toBe(-1);
      expect(first.isResponseFromCache).toBe(false);
    });
  });

  it('an observable command counts its emissions', async () => {
    class Three extends ObservableCommand<number> {
      constructor() {
        super({ key: 'RecEmit' });
      }
      protected construct(): Observable<number> {
        return of(1, 2, 3);
      }
    }
    const cmd = new Three();
    expect(await firstValueFrom(cmd.toObservable().pipe(toArray()))).toEqual([1, 2, 3]);
    expect(cmd.executionEvents).toEqual(['EMIT', 'SUCCESS']);
    expect(cmd.numberEmissions).toBe(3);
    expect(cmd.numberFallbackEmissions).toBe(0);
    expect(cmd.numberCollapsed).toBe(0);
  });
});

describe('captureExecution: the record of one call of a handle or a decorated method', () => {
  it('gives a functional handle’s record without changing what execute() returns', async () => {
    const c = command({ key: 'CapShort', run: async () => 'run', fallback: () => 'fb', circuitBreaker: { forceOpen: true } });
    const { result, record } = captureExecution(() => c.execute());
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe('fb');
    expect(record.commandKey).toBe('CapShort');
    expect(record.executionEvents).toEqual(['SHORT_CIRCUITED', 'FALLBACK_SUCCESS']);
    expect(record.isResponseShortCircuited).toBe(true);
    expect(record.executionTimeMs).toBe(-1);
  });

  it('gives a decorated method’s record, and only the outer call’s when run starts another command', async () => {
    const inner = command({ key: 'CapInner', run: async () => 1 });
    class Client {
      @HystrixCommand({ timeout: 100 })
      async get(id: string): Promise<string> {
        await inner.execute();
        return id;
      }
    }
    const { result, record } = captureExecution(() => new Client().get('7'));
    expect(await result).toBe('7');
    expect(record.commandKey).toBe('Client.get');
    expect(record.executionEvents).toEqual(['SUCCESS']);
    expect(record.isExecutionComplete).toBe(true);
  });

  it('captures a sync call, a cache hit, and nothing when no command starts', async () => {
    const s = command({ key: 'CapSync', run: (n: number) => n * 2 });
    const sync = captureExecution(() => s.executeSync(2));
    expect(sync.result).toBe(4);
    expect(sync.record.executionEvents).toEqual(['SUCCESS']);
    const cached = command({ key: 'CapHit', run: async (n: number) => n, cacheKey: (n: number) => n });
    await RequestContext.run(async () => {
      await cached.execute(1);
      const hit = captureExecution(() => cached.execute(1));
      await hit.result;
      expect(hit.record.executionEvents).toEqual(['SUCCESS', 'RESPONSE_FROM_CACHE']);
      expect(hit.record.isResponseFromCache).toBe(true);
    });
    const none = captureExecution(() => 5);
    expect(none.record.executionEvents).toEqual([]);
    expect(none.record.isExecutionComplete).toBe(false);
    expect(() => captureExecution(5 as never)).toThrow(TypeError);
  });
});

describe('cancellation frees permits and shared executions (Hystrix unsubscribe semantics)', () => {
  it('an ObservableCommand unsubscribed during its fallback gives the fallback permit back at once', async () => {
    class Falls extends ObservableCommand<number> {
      constructor() {
        super({ key: 'CancelFbObs', fallbackMaxConcurrent: 1 });
      }
      protected construct(): Observable<number> {
        throw new Error('down');
      }
      protected override resumeWithFallback(): Observable<number> {
        return NEVER;
      }
    }
    const rt = () => existingRuntime('CancelFbObs')!;
    const sub = new Falls().toObservable().subscribe();
    expect(rt().fallbackSemaphore.inUse).toBe(1);
    sub.unsubscribe();
    expect(rt().fallbackSemaphore.inUse).toBe(0);
    // later fallbacks of the key are not rejected
    const next = new Falls();
    const sub2 = next.toObservable().subscribe();
    expect(next.executionEvents).toEqual(['FAILURE']);
    sub2.unsubscribe();
    expect(next.executionEvents).toEqual(['FAILURE', 'CANCELLED']);
    expect(metricsFor('CancelFbObs').snapshot().cumulative.FALLBACK_REJECTION).toBe(0);
  });

  it('a class Command unsubscribed during its async fallback gives the permit back before the fallback settles', async () => {
    let settle!: (v: number) => void;
    class SlowFallback extends Command<number> {
      constructor() {
        super({ key: 'CancelFbCmd' });
      }
      protected run(): number {
        throw new Error('down');
      }
      protected override fallback(): Promise<number> {
        return new Promise((r) => (settle = r));
      }
    }
    const sub = new SlowFallback().toObservable().subscribe();
    expect(existingRuntime('CancelFbCmd')!.fallbackSemaphore.inUse).toBe(1);
    sub.unsubscribe();
    expect(existingRuntime('CancelFbCmd')!.fallbackSemaphore.inUse).toBe(0);
    settle(1);
    await flush();
    expect(existingRuntime('CancelFbCmd')!.fallbackSemaphore.inUse).toBe(0);
  });

  it('cancels a cached execution when every observe()/toObservable() subscriber has left, not before', async () => {
    const signals: AbortSignal[] = [];
    const c = command({
      key: 'CancelShared',
      run: (id: string, { signal }: RunContext) => {
        signals.push(signal);
        return new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      cacheKey: (id: string) => id,
    });
    await RequestContext.run(async () => {
      const first = captureExecution(() => c.observe('a'));
      const a = first.result.subscribe();
      const second = captureExecution(() => c.toObservable('a').subscribe());
      expect(second.record.isResponseFromCache).toBe(true);
      a.unsubscribe(); // one subscriber is left: the shared execution keeps running
      expect(signals[0]!.aborted).toBe(false);
      expect(first.record.executionEvents).toEqual([]);
      second.result.unsubscribe(); // the last one left
      expect(signals).toHaveLength(1);
      expect(signals[0]!.aborted).toBe(true);
      expect(first.record.executionEvents).toEqual(['CANCELLED']);
      expect(second.record.executionEvents).toEqual(['RESPONSE_FROM_CACHE', 'CANCELLED']);
      expect(requestLog().map((e) => e.events)).toEqual([['CANCELLED'], ['RESPONSE_FROM_CACHE', 'CANCELLED']]);
      // the cancelled execution left the cache: the next call runs again
      c.toObservable('a').subscribe().unsubscribe();
      expect(signals).toHaveLength(2);
    });
    await flush();
    expect(metricsFor('CancelShared').snapshot().concurrency.current).toBe(0);
    expect(existingRuntime('CancelShared')!.semaphore.inUse).toBe(0);
  });

  it('does not cancel an execution an execute() caller shares', async () => {
    let release!: (v: string) => void;
    const c = command({ key: 'CancelPinned', run: () => new Promise<string>((r) => (release = r)), cacheKey: () => 'k' });
    await RequestContext.run(async () => {
      const promised = c.execute();
      c.toObservable().subscribe().unsubscribe();
      release('v');
      expect(await promised).toBe('v');
    });
  });

  it('an observable cache hit shows the original’s final events, taken when the original completes', async () => {
    const values = new Subject<number>();
    const c = observableCommand2('HitFinal', () => values.pipe(take(2)));
    await RequestContext.run(async () => {
      const original = c.toObservable().pipe(toArray());
      const got = firstValueFrom(original);
      const hit = captureExecution(() => firstValueFrom(c.toObservable().pipe(toArray())));
      values.next(1);
      values.next(2);
      expect(await got).toEqual([1, 2]);
      expect(await hit.result).toEqual([1, 2]);
      expect(hit.record.executionEvents).toEqual(['EMIT', 'SUCCESS', 'RESPONSE_FROM_CACHE']);
      expect(requestLog().map((e) => e.events)).toEqual([
        ['EMIT', 'SUCCESS'],
        ['EMIT', 'SUCCESS', 'RESPONSE_FROM_CACHE'],
      ]);
    });
  });
});

function observableCommand2(key: string, construct: () => Observable<number>) {
  return observableCommand({ key, construct, cacheKey: () => 'k' });
}
