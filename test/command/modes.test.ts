import { beforeEach, describe, expect, it } from 'vitest';
import { Observable, of, Subject, throwError, concat, firstValueFrom, toArray, lastValueFrom, take } from 'rxjs';
import { CommandError, ObservableCommand, command, metricsFor, observableCommand, type RunContext } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('sync mode', () => {
  it('returns the value of a synchronous run', () => {
    const c = command({ key: 'Sync', run: (a: number) => a * 2 });
    expect(c.executeSync(4)).toBe(8);
    expect(metricsFor('Sync').snapshot().rolling.SUCCESS).toBe(1);
    expect(existingRuntime('Sync')!.semaphore.inUse).toBe(0);
  });

  it('throws a CommandError, or returns the fallback, on failure', () => {
    const boom = new Error('x');
    const noFb = command({
      key: 'SyncFail',
      run: () => {
        throw boom;
      },
    });
    expect(() => noFb.executeSync()).toThrow(CommandError);
    const withFb = command({
      key: 'SyncFb',
      run: (): number => {
        throw boom;
      },
      fallback: () => -1,
    });
    expect(withFb.executeSync()).toBe(-1);
  });

  it('refuses a run that returns a Promise with a clear TypeError, and releases the permit when it settles', async () => {
    let resolve!: () => void;
    const c = command({ key: 'SyncMisuse', run: () => new Promise<void>((r) => (resolve = r)) });
    // @ts-expect-error: executeSync() on a run typed to return a Promise does not compile; this checks the runtime guard
    expect(() => c.executeSync()).toThrow(/run returned a Promise under executeSync\(\); use execute\(\)/);
    expect(existingRuntime('SyncMisuse')!.semaphore.inUse).toBe(1);
    resolve();
    await flush();
    expect(existingRuntime('SyncMisuse')!.semaphore.inUse).toBe(0);
    expect(metricsFor('SyncMisuse').snapshot().health.requestCount).toBe(0);
  });

  it('discards a value that arrives after the deadline: TIMEOUT → fallback (a sync run cannot be interrupted)', () => {
    const c = command({
      key: 'SyncSlow',
      timeout: 100,
      run: () => {
        clock.advance(150);
        return 'late';
      },
      fallback: () => 'fb',
    });
    expect(c.executeSync()).toBe('fb');
    expect(metricsFor('SyncSlow').snapshot().rolling.TIMEOUT).toBe(1);
    expect(clock.pendingTimers).toBeLessThanOrEqual(1);
  });
});

describe('observable modes', () => {
  it('toObservable is cold: nothing runs until subscribe', async () => {
    let runs = 0;
    const c = command({ key: 'Cold', run: async () => ++runs });
    const o = c.toObservable();
    await flush();
    expect(runs).toBe(0);
    await expect(firstValueFrom(o)).resolves.toBe(1);
    expect(runs).toBe(1);
  });

  it('observe is hot: it runs at once and replays to late subscribers', async () => {
    let runs = 0;
    const c = command({ key: 'Hot', run: async () => ++runs });
    const o = c.observe();
    await flush();
    expect(runs).toBe(1);
    await expect(firstValueFrom(o)).resolves.toBe(1);
    await expect(firstValueFrom(o)).resolves.toBe(1);
    expect(runs).toBe(1);
  });

  it('unsubscribing before the value cancels: CANCELLED, signal aborted, permit freed when the work settles', async () => {
    let signal!: AbortSignal;
    let finish!: () => void;
    const c = command({
      key: 'Cancel',
      run: (ctx: RunContext) =>
        new Promise<string>((resolve) => {
          signal = ctx.signal;
          finish = () => resolve('done');
        }),
    });
    const sub = c.toObservable().subscribe();
    expect(existingRuntime('Cancel')!.semaphore.inUse).toBe(1);
    sub.unsubscribe();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'AbortError' });
    expect(metricsFor('Cancel').snapshot().rolling.CANCELLED).toBe(1);
    expect(existingRuntime('Cancel')!.semaphore.inUse).toBe(1);
    finish();
    await flush();
    expect(existingRuntime('Cancel')!.semaphore.inUse).toBe(0);
    expect(metricsFor('Cancel').snapshot().rolling.SUCCESS).toBe(0);
  });

  it('delivers errors through the observable', async () => {
    const c = command({
      key: 'ObsErr',
      run: async () => {
        throw new Error('x');
      },
    });
    await expect(firstValueFrom(c.toObservable())).rejects.toBeInstanceOf(CommandError);
  });
});

describe('observable commands (multi-value)', () => {
  it('records EMIT per value and SUCCESS on completion', async () => {
    const c = observableCommand({ key: 'Multi', construct: (n: number) => of(...Array.from({ length: n }, (_, i) => i)) });
    await expect(lastValueFrom(c.toObservable(3).pipe(toArray()))).resolves.toEqual([0, 1, 2]);
    const s = metricsFor('Multi').snapshot().rolling;
    expect(s.EMIT).toBe(3);
    expect(s.SUCCESS).toBe(1);
    expect(existingRuntime('Multi')!.semaphore.inUse).toBe(0);
  });

  it('appends the fallback values after a partial success', async () => {
    const c = observableCommand({
      key: 'Partial',
      construct: () => concat(of(1, 2, 3), throwError(() => new Error('mid-stream'))),
      resumeWithFallback: () => of(-1, -2),
    });
    await expect(lastValueFrom(c.toObservable().pipe(toArray()))).resolves.toEqual([1, 2, 3, -1, -2]);
    const s = metricsFor('Partial').snapshot().rolling;
    expect([s.EMIT, s.FAILURE, s.FALLBACK_EMIT, s.FALLBACK_SUCCESS]).toEqual([3, 1, 2, 1]);
  });

  it('cancels the source on unsubscribe and aborts the signal', async () => {
    const source = new Subject<number>();
    let signal!: AbortSignal;
    let unsubscribed = false;
    const c = observableCommand({
      key: 'MultiCancel',
      construct: (ctx: RunContext) => {
        signal = ctx.signal;
        return new Observable<number>((o) => {
          const s = source.subscribe(o);
          return () => {
            unsubscribed = true;
            s.unsubscribe();
          };
        });
      },
    });
    const values: number[] = [];
    const sub = c.toObservable().subscribe((v) => values.push(v));
    source.next(1);
    sub.unsubscribe();
    source.next(2);
    expect(values).toEqual([1]);
    expect(unsubscribed).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(metricsFor('MultiCancel').snapshot().rolling.CANCELLED).toBe(1);
    expect(existingRuntime('MultiCancel')!.semaphore.inUse).toBe(0);
  });

  it('times out when no value arrives before the deadline (Hystrix: time to first value)', async () => {
    const c = observableCommand({ key: 'MultiTimeout', timeout: 100, construct: () => new Subject<number>(), resumeWithFallback: () => of(0) });
    const p = lastValueFrom(c.toObservable().pipe(toArray()));
    clock.advance(100);
    await expect(p).resolves.toEqual([0]);
    expect(metricsFor('MultiTimeout').snapshot().rolling.TIMEOUT).toBe(1);
    expect(existingRuntime('MultiTimeout')!.semaphore.inUse).toBe(0);
  });

  it('supports the class style with construct and resumeWithFallback, once per instance', async () => {
    class Prices extends ObservableCommand<number> {
      constructor() {
        super({ key: 'PricesClass' });
      }
      protected construct(): Observable<number> {
        return throwError(() => new Error('down'));
      }
      protected override resumeWithFallback(): Observable<number> {
        return of(0);
      }
    }
    const cmd = new Prices();
    await expect(firstValueFrom(cmd.toObservable().pipe(take(1)))).resolves.toBe(0);
    expect(cmd.executionEvents).toEqual(['FAILURE', 'FALLBACK_EMIT', 'FALLBACK_SUCCESS']);
    await expect(firstValueFrom(cmd.toObservable())).rejects.toMatchObject({ failureType: 'BAD_REQUEST_EXCEPTION' });
  });
});
