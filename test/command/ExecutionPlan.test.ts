/**
 * The plan's stages (src/command/ExecutionPlan.ts): a command without a timeout runs the direct path (the caller's
 * Promise is run's own `then`, no deadline entry), one without request scope makes no request-context lookup; every
 * outcome is still recorded as on the full path, and a configuration change takes effect at the next call.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Command, CommandError, RequestContext, captureExecution, command, configure, events, metricsFor, requestLog } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { countClockReads } from '../support/countClockReads.js';
import { deferred, flush } from '../support/deferred.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});



describe('plan: timeout off (direct path)', () => {
  it('records SUCCESS, latency and health, arms no deadline, and releases the permit', async () => {
    const d = deferred<number>();
    const c = command({ key: 'DirectOk', run: () => d.promise, timeout: false });
    const p = c.execute();
    expect(p).toBeInstanceOf(Promise);
    expect(deadlinesFor(clock).size).toBe(0);
    expect(existingRuntime('DirectOk')!.semaphore.inUse).toBe(1);
    clock.advance(30);
    d.resolve(42);
    await expect(p).resolves.toBe(42);
    const s = metricsFor('DirectOk').snapshot();
    expect(s.cumulative.SUCCESS).toBe(1);
    expect(s.health).toEqual({ requestCount: 1, errorCount: 0, errorPercentage: 0 });
    expect(s.latencyExecute.percentiles['50']).toBe(30);
    expect(s.latencyTotal.percentiles['50']).toBe(30);
    expect(existingRuntime('DirectOk')!.semaphore.inUse).toBe(0);
    expect(existingRuntime('DirectOk')!.inFlight).toBe(0);
  });

  it('a failure goes through a sync or an async fallback; a failed fallback rejects with a CommandError', async () => {
    const boom = new Error('boom');
    const sync = command({ key: 'DirectFb', run: async () => Promise.reject(boom), fallback: (e) => (e === boom ? 'fb' : 'x'), timeout: false });
    await expect(sync.execute()).resolves.toBe('fb');
    const slow = deferred<string>();
    const async = command({ key: 'DirectFbAsync', run: async () => Promise.reject(boom), fallback: () => slow.promise, timeout: false });
    const p = async.execute();
    await flush();
    slow.resolve('later');
    await expect(p).resolves.toBe('later');
    const failing = command({
      key: 'DirectFbFails',
      run: async () => Promise.reject(boom),
      fallback: async () => {
        throw new Error('fallback down');
      },
      timeout: false,
    });
    const error = await failing.execute().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).failureType).toBe('COMMAND_EXCEPTION');
    expect((error as CommandError).cause).toBe(boom);
    for (const key of ['DirectFb', 'DirectFbAsync']) {
      const m = metricsFor(key).snapshot();
      expect([m.cumulative.FAILURE, m.cumulative.FALLBACK_SUCCESS]).toEqual([1, 1]);
    }
    expect(metricsFor('DirectFbFails').snapshot().cumulative.FALLBACK_FAILURE).toBe(1);
  });

  it('retries under the direct path: the caller gets the value of a later attempt', async () => {
    let calls = 0;
    const c = command({
      key: 'DirectRetry',
      timeout: false,
      retry: { maxAttempts: 3, backoff: { initial: 10, max: 10, jitter: 'none' } },
      run: async () => {
        calls++;
        if (calls < 3) throw new Error(`attempt ${calls}`);
        return 'third';
      },
    });
    const p = c.execute();
    for (let i = 0; i < 2; i++) {
      await flush();
      clock.advance(10);
    }
    await expect(p).resolves.toBe('third');
    const m = metricsFor('DirectRetry').snapshot();
    expect([m.cumulative.FAILURE, m.cumulative.RETRY, m.cumulative.SUCCESS]).toEqual([2, 2, 1]);
  });

  it('a run returning a non-native thenable still gives the caller a real Promise', async () => {
    const thenable = { then: (ok: (v: number) => void) => ok(5) };
    const c = command({ key: 'DirectThenable', run: () => thenable as unknown as Promise<number>, timeout: false });
    const p = c.execute();
    expect(p).toBeInstanceOf(Promise);
    await expect(p).resolves.toBe(5);
    expect(metricsFor('DirectThenable').cumulativeCount('SUCCESS')).toBe(1);
  });

  it('switching the timeout on takes effect at the next call (and off again)', async () => {
    const c = command({ key: 'Switch', run: () => new Promise<number>(() => undefined), fallback: () => -1, timeout: false });
    const hung = c.execute();
    expect(deadlinesFor(clock).size).toBe(0);
    configure({ commands: { Switch: { timeout: 100 } } });
    const timed = c.execute();
    expect(deadlinesFor(clock).size).toBe(1);
    clock.advance(100);
    await expect(timed).resolves.toBe(-1);
    expect(metricsFor('Switch').cumulativeCount('TIMEOUT')).toBe(1);
    configure({ commands: { Switch: { timeout: false } } });
    void c.execute();
    expect(deadlinesFor(clock).size).toBe(0);
    clock.advance(10_000);
    await flush();
    expect(metricsFor('Switch').cumulativeCount('TIMEOUT')).toBe(1);
    void hung;
  });

  it('listeners attached later, even while a call runs, get its events', async () => {
    const c = command({ key: 'LateListener', run: async (n: number) => n, timeout: false });
    await c.execute(1);
    const d = deferred<number>();
    const slow = command({ key: 'LateListener', run: () => d.promise, timeout: false });
    const p = slow.execute();
    const heard: unknown[] = [];
    c.events.on('success', (e) => heard.push(e.eventType));
    events.on('success', (e) => heard.push(`global ${e.commandKey}`));
    d.resolve(2);
    await p;
    await c.execute(3);
    expect(heard).toEqual(['SUCCESS', 'global LateListener', 'SUCCESS', 'global LateListener']);
    events.removeAllListeners();
  });

  it('the execution record of a direct call shows its events and run time', async () => {
    const c = command({
      key: 'DirectRecord',
      run: async () => {
        clock.advance(7);
        return 1;
      },
      timeout: false,
    });
    const { result, record } = captureExecution(() => c.execute());
    expect(await result).toBe(1);
    expect(record.executionEvents).toEqual(['SUCCESS']);
    expect(record.executionTimeMs).toBe(7);
  });
});

/** Breaker-only settings (as the like-for-like rows): nothing needs the time a call starts. */
const UNTIMED = {
  timeout: false,
  metrics: { percentileEnabled: false, rollingWindow: 1000, rollingBuckets: 10 },
  circuitBreaker: { strategy: 'consecutive', consecutiveFailures: 2, sleepWindow: 100 },
} as const;

/** Counts the configured clock's `now()` reads from here on. */
const countReads = (): (() => number) => countClockReads(clock);

describe('plan: untimed start (one clock read)', () => {
  it('a breaker-only call reads the clock once, at its outcome; with a timeout or percentiles it reads it twice', () => {
    const untimed = command({ key: 'OneRead', run: () => 1, ...UNTIMED });
    const timed = command({ key: 'TwoReads', run: () => 1, timeout: false });
    untimed.executeSync();
    timed.executeSync();
    const reads = countReads();
    untimed.executeSync();
    expect(reads()).toBe(1);
    timed.executeSync();
    expect(reads()).toBe(3);
  });

  it('records every outcome at the time of its end: counts, health, the consecutive rule and the sleep window', async () => {
    const d = deferred<number>();
    let fail = false;
    const c = command({
      key: 'UntimedRecords',
      run: () => {
        if (fail) throw new Error('down');
        return d.promise;
      },
      fallback: () => -1,
      ...UNTIMED,
    });
    const p = c.execute();
    clock.advance(950); // the call started in the bucket [0, 100): it ends in [900, 1000)
    d.resolve(1);
    await expect(p).resolves.toBe(1);
    clock.advance(100); // t = 1050: a SUCCESS stamped at the start would have left the window
    expect(metricsFor('UntimedRecords').rollingCount('SUCCESS', clock.now())).toBe(1);
    fail = true;
    await expect(c.execute()).resolves.toBe(-1);
    await expect(c.execute()).resolves.toBe(-1); // the second failure in a row opens the circuit (t = 1050)
    const breaker = existingRuntime('UntimedRecords')!.breaker;
    expect(breaker.state).toBe('OPEN');
    clock.advance(50);
    await expect(c.execute()).resolves.toBe(-1); // within the sleep window: short-circuited
    expect(metricsFor('UntimedRecords').cumulativeCount('SHORT_CIRCUITED')).toBe(1);
    clock.advance(60); // t = 1160: the sleep window (100 ms from 1050) is over, read from the clock, not a stand-in
    fail = false;
    const trial = deferred<number>();
    const t = command({ key: 'UntimedRecords', run: () => trial.promise, ...UNTIMED });
    const pt = t.execute();
    expect(breaker.state).toBe('HALF_OPEN');
    trial.resolve(2);
    await expect(pt).resolves.toBe(2);
    expect(breaker.state).toBe('CLOSED');
    const s = metricsFor('UntimedRecords').snapshot();
    expect([s.cumulative.SUCCESS, s.cumulative.FAILURE, s.cumulative.FALLBACK_SUCCESS, s.cumulative.SHORT_CIRCUITED]).toEqual([2, 2, 3, 1]);
  });

  it("stamps a run's concurrency into the rolling maximum when it ends (the highest since the previous end)", async () => {
    const a = deferred<number>();
    const b = deferred<number>();
    const runs = [a, b];
    const c = command({ key: 'UntimedMax', run: () => runs.shift()!.promise, ...UNTIMED });
    const pa = c.execute();
    const pb = c.execute();
    expect(metricsFor('UntimedMax').snapshot().concurrency).toEqual({ current: 2, rollingMax: 0 }); // not stamped yet
    clock.advance(500);
    a.resolve(1);
    await pa;
    expect(metricsFor('UntimedMax').snapshot().concurrency).toEqual({ current: 1, rollingMax: 2 });
    clock.advance(700); // t = 1200: Hystrix's stamp (at t = 0) would have left the window; this one (t = 500) has not
    expect(metricsFor('UntimedMax').snapshot().concurrency.rollingMax).toBe(2);
    b.resolve(2);
    await pb;
    clock.advance(400); // t = 1600: only b's end (t = 1200, concurrency 1) is in the window
    expect(metricsFor('UntimedMax').snapshot().concurrency).toEqual({ current: 0, rollingMax: 1 });
  });

  it('a rejection before the run reads the clock when it happens', async () => {
    const d = deferred<number>();
    const c = command({ key: 'UntimedReject', run: () => d.promise, fallback: () => -1, maxConcurrent: 1, ...UNTIMED });
    const first = c.execute();
    clock.advance(950);
    await expect(c.execute()).resolves.toBe(-1); // SEMAPHORE_REJECTED at t = 950
    clock.advance(100); // t = 1050: counted at 950, still in the window (at a stand-in start, 0, it would have left)
    expect(metricsFor('UntimedReject').rollingCount('SEMAPHORE_REJECTED', clock.now())).toBe(1);
    d.resolve(1);
    await first;
  });

  it('an executeSync run that returns a Promise is refused at once; its concurrency counts when it settles', async () => {
    const d = deferred<number>();
    const c = command({ key: 'UntimedMisuse', run: (() => d.promise) as unknown as () => number, ...UNTIMED });
    clock.advance(950);
    expect(() => c.executeSync()).toThrow(TypeError);
    clock.advance(100);
    expect(metricsFor('UntimedMisuse').rollingCount('BAD_REQUEST', clock.now())).toBe(1);
    expect(metricsFor('UntimedMisuse').snapshot().concurrency).toEqual({ current: 1, rollingMax: 0 });
    d.resolve(1);
    await flush();
    expect(metricsFor('UntimedMisuse').snapshot().concurrency).toEqual({ current: 0, rollingMax: 1 });
  });

  it('a call someone watches when it starts is timed: a listener, an execution record, a request log', async () => {
    const slow = (ms: number) => () => {
      clock.advance(ms);
      return 1;
    };
    const heard: number[] = [];
    const listened = command({ key: 'UntimedListened', run: slow(5), ...UNTIMED });
    listened.events.on('success', (e) => heard.push(e.latencyMs));
    listened.executeSync();
    expect(heard).toEqual([5]);
    const recorded = command({ key: 'UntimedRecorded', run: slow(7), ...UNTIMED });
    const { record } = captureExecution(() => recorded.executeSync());
    expect(record.executionTimeMs).toBe(7);
    const logged = command({ key: 'UntimedLogged', run: slow(9), ...UNTIMED, requestLog: true });
    expect(RequestContext.run(() => (logged.executeSync(), String(requestLog())))).toBe('UntimedLogged[SUCCESS][9ms]');
  });

  it('a listener added while an untimed call runs gets its event with latencyMs 0 (documented)', async () => {
    const d = deferred<number>();
    const c = command({ key: 'UntimedLateListener', run: () => d.promise, ...UNTIMED });
    const p = c.execute();
    const heard: number[] = [];
    c.events.on('success', (e) => heard.push(e.latencyMs));
    clock.advance(30);
    d.resolve(1);
    await p;
    expect(heard).toEqual([0]);
  });

  it('a key made with percentiles on keeps measuring latency after configure() turns them off', () => {
    const c = command({
      key: 'UntimedHistograms',
      run: () => {
        clock.advance(12);
        return 1;
      },
      timeout: false,
    });
    configure({ commands: { UntimedHistograms: { metrics: { percentileEnabled: false } } } });
    c.executeSync();
    expect(metricsFor('UntimedHistograms').snapshot().latencyExecute.percentiles['50']).toBe(12);
  });
});

describe('plan: request scope', () => {
  it('a command logs into a request context with or without a timeout; requestLog: false logs nothing', async () => {
    const timed = command({ key: 'ScopeTimed', run: async () => 1 });
    const direct = command({ key: 'ScopeDirect', run: async () => 2, timeout: false });
    const unlogged = command({ key: 'ScopeOff', run: async () => 3, timeout: false, requestLog: false });
    const log = await RequestContext.run(async () => {
      await timed.execute();
      await direct.execute();
      await unlogged.execute();
      return String(requestLog());
    });
    expect(log).toBe('ScopeTimed[SUCCESS][0ms], ScopeDirect[SUCCESS][0ms]');
    expect(metricsFor('ScopeOff').cumulativeCount('SUCCESS')).toBe(1);
  });

  it('a timeout fallback without request log still runs in the caller request context', async () => {
    let inScope: boolean | undefined;
    const c = command({
      key: 'ScopeTimeout',
      run: () => new Promise<number>(() => undefined),
      fallback: () => {
        inScope = RequestContext.active;
        return 0;
      },
      timeout: 50,
      requestLog: false,
    });
    const p = RequestContext.run(() => c.execute());
    clock.advance(50);
    await expect(p).resolves.toBe(0);
    expect(inScope).toBe(true);
  });
});

describe('plan: per config', () => {
  it('class instances of one key with different own options each run their own plan', async () => {
    class Hang extends Command<number> {
      constructor(timeout: number | false) {
        super({ key: 'PlanPerInstance', timeout });
      }
      protected override run(): Promise<number> {
        return new Promise<number>(() => undefined);
      }
      protected override fallback(): number {
        return -1;
      }
    }
    const timed = new Hang(100);
    const untimed = new Hang(false); // applied last: the runtime's config is now this one
    const p = timed.execute();
    void untimed.execute();
    expect(deadlinesFor(clock).size).toBe(1);
    clock.advance(100);
    await expect(p).resolves.toBe(-1);
  });
});
