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
