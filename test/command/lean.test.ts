/**
 * The lean flow (src/command/lean.ts): an unwatched `executeSync()`, and an `execute()` whose circuit refuses it,
 * run without an Execution object. Each scenario runs twice, on a key taken lean and on a twin key with a listener
 * (which keeps every call on the full flow), and everything a user can see must be equal: the value or error, every
 * counter, the latencies, the circuit, the permits, the signal. Then: the lean flow is taken exactly when nothing
 * needs the full one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BadRequestError,
  Command,
  CommandError,
  EVENT_TYPES,
  RequestContext,
  captureExecution,
  circuitBreakerFor,
  command,
  configure,
  events,
  metricsFor,
  type CommandSettings,
  type RunContext,
} from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { Execution } from '../../src/command/executor.js';
import { shedder } from '../../src/shedding/loadShedding.js';
import { flush } from '../support/deferred.js';

let clock: FakeClock;
type Spy = { readonly mock: { readonly calls: readonly unknown[] }; mockClear(): void };
let starts: Spy;
let takeOvers: Spy;
beforeEach(() => {
  clock = useFakeClock();
  starts = vi.spyOn(Execution.prototype, 'start');
  takeOvers = vi.spyOn(Execution, 'takeOver');
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** How the call went: 'lean' (no Execution), 'handed' (an Execution took it over), 'full' (an Execution from the start). */
function path(): 'lean' | 'handed' | 'full' {
  const s = starts.mock.calls.length;
  const t = takeOvers.mock.calls.length;
  starts.mockClear();
  takeOvers.mockClear();
  return s > 0 ? 'full' : t > 0 ? 'handed' : 'lean';
}

type Outcome = { value: unknown } | { error: string; failureType?: string; cause?: unknown; fallbackError?: unknown };

function outcomeOf(key: string, e: unknown): Outcome {
  const norm = (v: unknown): unknown => (v instanceof Error ? `${v.constructor.name}: ${v.message.replaceAll(key, 'KEY')}` : v);
  if (e instanceof CommandError) return { error: norm(e) as string, failureType: e.failureType, cause: norm(e.cause), fallbackError: norm(e.fallbackError) };
  return { error: norm(e) as string };
}

function sync(key: string, call: () => unknown): Outcome {
  try {
    return { value: call() };
  } catch (e) {
    return outcomeOf(key, e);
  }
}

async function later(key: string, call: () => Promise<unknown>): Promise<Outcome> {
  return call().then(
    (value) => ({ value }),
    (e: unknown) => outcomeOf(key, e),
  );
}

/** Everything recorded for the key. */
function state(key: string) {
  const rt = existingRuntime(key)!;
  const { commandKey: _key, group: _group, ...snapshot } = metricsFor(key).snapshot(); // counts, health, concurrency, latencies
  const counts: Record<string, number> = {};
  for (const t of EVENT_TYPES) counts[t] = metricsFor(key).cumulativeCount(t);
  return {
    counts,
    snapshot,
    circuit: circuitBreakerFor(key).state,
    permits: rt.semaphore.inUse,
    fallbackPermits: rt.fallbackSemaphore.inUse,
    inFlight: rt.inFlight,
    lastUsedAt: rt.lastUsedAt,
  };
}

/**
 * Runs `scenario` on a lean key and on a watched twin (a listener that hears nothing), from the same time, and
 * expects the same outcomes and state; returns the lean key's paths.
 */
async function twins(
  name: string,
  options: Partial<CommandSettings> & { run: (...a: any[]) => unknown; fallback?: (...a: any[]) => unknown },
  scenario: (c: any, key: string) => Promise<Outcome[]> | Outcome[],
): Promise<string[]> {
  const results: { outcomes: Outcome[]; state: ReturnType<typeof state>; paths: string[] }[] = [];
  const t0 = clock.now();
  for (const watched of [false, true]) {
    if (watched) clock = useFakeClock(t0); // the twin starts afresh at the same time (the lean key's state was taken)
    const key = `${name}${watched ? 'Full' : 'Lean'}`;
    const c = command({ key, ...options } as any);
    if (watched) c.events.on('responseFromCache', () => undefined); // never emitted here: it only makes the key watched
    path();
    const paths: string[] = [];
    const outcomes: Outcome[] = [];
    // each outermost call's path (a nested call's shows in its outer call's: see the nested case)
    let depth = 0;
    const around = <T>(call: () => T): T => {
      if (depth++ === 0) path();
      try {
        return call();
      } finally {
        if (--depth === 0) paths.push(path());
      }
    };
    const wrapped = await scenario(
      { execute: (...a: unknown[]) => around(() => c.execute(...a)), executeSync: (...a: unknown[]) => around(() => c.executeSync(...a)) },
      key,
    );
    outcomes.push(...wrapped);
    await flush();
    results.push({ outcomes, state: state(key), paths });
  }
  const [lean, full] = results;
  expect(lean!.outcomes).toEqual(full!.outcomes);
  expect(lean!.state).toEqual(full!.state);
  expect(full!.paths.every((p) => p === 'full')).toBe(true);
  return lean!.paths;
}

describe('lean flow: executeSync', () => {
  it('a success runs lean and records SUCCESS, both latencies, the concurrency and the health', async () => {
    const paths = await twins('SyncOk', { run: (x: number) => (clock.advance(7), x * 2) }, (c, key) => [sync(key, () => c.executeSync(21)), sync(key, () => c.executeSync(1))]);
    expect(paths).toEqual(['lean', 'lean']);
  });

  it('run throwing, a late value, a thenable and a full semaphore are handed over and end as on the full flow', async () => {
    const boom = new Error('boom');
    const paths = await twins(
      'SyncTurns',
      {
        timeout: 100,
        maxConcurrent: 1,
        run: (mode: string, ctx: RunContext) => {
          if (mode === 'throw') throw boom;
          if (mode === 'late') clock.advance(150);
          if (mode === 'thenable') return Promise.resolve(1);
          if (mode === 'nested') {
            nestedRunContexts.push(ctx instanceof Execution);
            return c2!.executeSync('ok');
          }
          return `${mode}:${ctx.commandKey.length}`;
        },
        fallback: (error: unknown, mode: string) => `fb:${mode}:${error instanceof CommandError ? error.failureType : (error as Error).message}`,
      },
      (c, key) => {
        c2 = c;
        return [
          sync(key, () => c.executeSync('throw')),
          sync(key, () => c.executeSync('late')),
          sync(key, () => c.executeSync('nested')),
          sync(key, () => c.executeSync('ok')),
          sync(key, () => c.executeSync('thenable')), // last: its work keeps the one permit until it settles
        ];
      },
    );
    // nested: the outer call runs lean (its run gets a lean context); the inner one finds the semaphore full and is
    // handed over (which shows as the outer call's path)
    expect(paths).toEqual(['handed', 'handed', 'handed', 'lean', 'handed']);
    expect(nestedRunContexts).toEqual([false, true]);
  });

  it("a late value aborts the signal run kept, read during or after the call, as on the full flow", () => {
    const seen: Record<string, unknown[]> = {};
    for (const watched of [false, true]) {
      const key = watched ? 'SyncSignalFull' : 'SyncSignalLean';
      let duringCtx: RunContext | undefined;
      let afterCtx: RunContext | undefined;
      const c = command({
        key,
        timeout: 100,
        run: (mode: string, ctx: RunContext) => {
          if (mode === 'during') {
            duringCtx = ctx;
            void ctx.signal;
          } else afterCtx = ctx;
          clock.advance(150);
          return 1;
        },
        fallback: () => 0,
      });
      if (watched) c.events.on('responseFromCache', () => undefined);
      c.executeSync('during');
      c.executeSync('after');
      const reason = (ctx: RunContext) => [ctx.signal.aborted, (ctx.signal.reason as Error)?.constructor.name, ctx.commandKey === key];
      seen[String(watched)] = [reason(duringCtx!), reason(afterCtx!)];
    }
    expect(seen.false).toEqual(seen.true);
    expect(seen.false).toEqual([
      [true, 'TimeoutError', true],
      [true, 'TimeoutError', true],
    ]);
  });

  it('an on-time value leaves the signal unaborted', () => {
    let kept: RunContext | undefined;
    const c = command({ key: 'SyncSignalOk', timeout: 100, run: (ctx: RunContext) => ((kept = ctx), ctx.signal.aborted ? 0 : 1) });
    expect(c.executeSync()).toBe(1);
    expect(path()).toBe('lean');
    expect(kept!.signal.aborted).toBe(false);
  });

  it('a listener that run adds hears the SUCCESS with its latency', async () => {
    const heard: unknown[] = [];
    const c = command({
      key: 'SyncLateListener',
      run: () => {
        c.events.on('success', (e) => heard.push(e));
        clock.advance(4);
        return 1;
      },
    });
    expect(c.executeSync()).toBe(1);
    expect(path()).toBe('lean');
    expect(heard).toEqual([{ commandKey: 'SyncLateListener', eventType: 'SUCCESS', latencyMs: 4 }]);
  });

  it('an open circuit short-circuits lean; a fallback that throws, returns a thenable, is missing or disabled is handed over', async () => {
    const paths = await twins(
      'SyncOpen',
      {
        run: () => 1,
        fallback: (error: unknown, mode: string) => {
          clock.advance(3);
          if (mode === 'throw') throw new Error('fallback down');
          if (mode === 'thenable') return Promise.resolve(2);
          return `${mode}:${(error as CommandError).failureType}:${Object.isFrozen(error)}`;
        },
      },
      (c, key) => {
        circuitBreakerFor(key).forceOpen();
        return [sync(key, () => c.executeSync('ok')), sync(key, () => c.executeSync('throw')), sync(key, () => c.executeSync('thenable'))];
      },
    );
    expect(paths).toEqual(['lean', 'handed', 'handed']);
    const none = await twins('SyncOpenNoFallback', { run: () => 1 }, (c, key) => {
      circuitBreakerFor(key).forceOpen();
      return [sync(key, () => c.executeSync())];
    });
    expect(none).toEqual(['handed']);
    const disabled = await twins('SyncOpenDisabled', { run: () => 1, fallback: () => 2, fallbackEnabled: false }, (c, key) => {
      circuitBreakerFor(key).forceOpen();
      return [sync(key, () => c.executeSync())];
    });
    expect(disabled).toEqual(['handed']);
  });

  it('a tripped circuit refuses lean within its sleep window; the trial after it is handed over and closes the circuit', async () => {
    const paths = await twins(
      'SyncTrip',
      {
        circuitBreaker: { requestVolumeThreshold: 2, errorThresholdPercentage: 50, sleepWindow: 1000 },
        metrics: { healthSnapshotInterval: 1 },
        run: (fail: boolean) => {
          clock.advance(2);
          if (fail) throw new Error('down');
          return 'ok';
        },
        fallback: () => 'fb',
      },
      (c, key) => {
        const out = [sync(key, () => c.executeSync(true)), sync(key, () => c.executeSync(true)), sync(key, () => c.executeSync(false))];
        clock.advance(2000);
        out.push(sync(key, () => c.executeSync(false)), sync(key, () => c.executeSync(false)));
        return out;
      },
    );
    expect(paths).toEqual(['handed', 'handed', 'lean', 'handed', 'lean']);
  });
});

let c2: { executeSync: (...a: unknown[]) => unknown } | undefined;
const nestedRunContexts: boolean[] = [];

describe('lean flow: execute() with a refusing circuit', () => {
  it('short-circuits lean with a sync fallback; an async, throwing, rejecting, missing or disabled fallback is handed over', async () => {
    const paths = await twins(
      'AsyncOpen',
      {
        run: async () => 1,
        fallback: (error: unknown, mode: string) => {
          clock.advance(3);
          if (mode === 'throw') throw new Error('fallback down');
          if (mode === 'resolve') return Promise.resolve(`later:${(error as CommandError).failureType}`);
          if (mode === 'reject') return Promise.reject(new Error('rejected'));
          return `${mode}:${(error as CommandError).failureType}`;
        },
      },
      async (c, key) => {
        circuitBreakerFor(key).forceOpen();
        return Promise.all(['ok', 'throw', 'resolve', 'reject'].map((m) => later(key, () => c.execute(m))));
      },
    );
    expect(paths).toEqual(['lean', 'handed', 'handed', 'handed']);
    for (const [name, options] of [
      ['AsyncOpenNone', { run: async () => 1 }],
      ['AsyncOpenDisabled', { run: async () => 1, fallback: () => 2, fallbackEnabled: false }],
    ] as const) {
      const p = await twins(name, options, async (c, key) => {
        circuitBreakerFor(key).forceOpen();
        return [await later(key, () => c.execute())];
      });
      expect(p).toEqual(['handed']);
    }
  });

  it('a listener that the fallback adds hears the FALLBACK_SUCCESS with the latency so far', async () => {
    const heard: unknown[] = [];
    const c = command({
      key: 'OpenLateListener',
      run: async () => 1,
      fallback: () => {
        c.events.on('fallbackSuccess', (e) => heard.push(e));
        clock.advance(2);
        return 0;
      },
    });
    circuitBreakerFor('OpenLateListener').forceOpen();
    const p = c.execute();
    expect(path()).toBe('lean');
    await expect(p).resolves.toBe(0);
    expect(heard).toEqual([{ commandKey: 'OpenLateListener', eventType: 'FALLBACK_SUCCESS', latencyMs: 2 }]);
  });

  it('a tripped circuit refuses lean; its trial is handed over; a closed circuit takes the full flow', async () => {
    const paths = await twins(
      'AsyncTrip',
      {
        circuitBreaker: { requestVolumeThreshold: 2, errorThresholdPercentage: 50, sleepWindow: 1000 },
        metrics: { healthSnapshotInterval: 1 },
        run: async (fail: boolean) => {
          clock.advance(2);
          if (fail) throw new Error('down');
          return 'ok';
        },
        fallback: () => 'fb',
      },
      async (c, key) => {
        const out = [await later(key, () => c.execute(true)), await later(key, () => c.execute(true)), await later(key, () => c.execute(false))];
        clock.advance(2000);
        out.push(await later(key, () => c.execute(false)), await later(key, () => c.execute(false)));
        return out;
      },
    );
    // (a path is read when execute() returns: a run that fails later is handed over after that)
    expect(paths).toEqual(['lean', 'lean', 'lean', 'handed', 'lean']);
  });
});

describe('lean flow: execute() with a timeout', () => {
  it('a success runs lean: SUCCESS, both latencies, the concurrency, no deadline left armed', async () => {
    const paths = await twins('AsyncOk', { run: async (x: number) => (clock.advance(6), x + 1) }, async (c, key) => {
      const both = await Promise.all([later(key, () => c.execute(1)), later(key, () => c.execute(2))]);
      return [...both, await later(key, () => c.execute(3))];
    });
    expect(paths).toEqual(['lean', 'lean', 'lean']);
  });

  it('a failure, a bad request, a synchronous value or throw, a full semaphore end as on the full flow', async () => {
    const paths = await twins(
      'AsyncTurns',
      {
        maxConcurrent: 2,
        ignoreExceptions: (e: unknown) => (e as Error).message === 'ignored',
        run: (mode: string) => {
          if (mode === 'sync') return 'sync-value';
          if (mode === 'sync-throw') throw new Error('sync-throw');
          return (async () => {
            clock.advance(3);
            if (mode === 'fail') throw new Error('fail');
            if (mode === 'ignored') throw new Error('ignored');
            return mode;
          })();
        },
        fallback: (e: unknown, mode: string) => `fb:${mode}:${e instanceof CommandError ? e.failureType : (e as Error).message}`,
      },
      async (c, key) => {
        const first = [later(key, () => c.execute('fail')), later(key, () => c.execute('ignored')), later(key, () => c.execute('full'))];
        const settled = await Promise.all(first); // the semaphore has room again
        return [...settled, ...(await Promise.all([later(key, () => c.execute('sync')), later(key, () => c.execute('sync-throw')), later(key, () => c.execute('ok'))]))];
      },
    );
    expect(paths).toEqual(['lean', 'lean', 'handed', 'lean', 'handed', 'lean']);
  });

  it('a failing run: FAILURE and a sync fallback lean; a throwing, async, rejecting, refused, missing or disabled fallback and a bad request end as on the full flow', async () => {
    let release: (value: string) => void = () => undefined;
    const paths = await twins(
      'AsyncFail',
      {
        fallbackMaxConcurrent: 1,
        run: async (mode: string) => {
          clock.advance(2);
          throw mode === 'bad' ? new BadRequestError('bad request') : new Error(`run:${mode}`);
        },
        fallback: (error: unknown, mode: string) => {
          clock.advance(3);
          if (mode === 'throw') throw new Error('fallback down');
          if (mode === 'resolve') return Promise.resolve(`later:${(error as Error).message}`);
          if (mode === 'reject') return Promise.reject(new Error('rejected'));
          if (mode === 'hold') return new Promise<string>((resolve) => (release = resolve));
          return `${mode}:${(error as Error).message}`;
        },
      },
      async (c, key) => {
        const outcomes = [];
        for (const mode of ['ok', 'throw', 'resolve', 'reject', 'bad']) outcomes.push(await later(key, () => c.execute(mode)));
        const held = later(key, () => c.execute('hold')); // its fallback holds the only fallback permit
        await flush();
        outcomes.push(await later(key, () => c.execute('refused'))); // FALLBACK_REJECTION
        release('held');
        outcomes.push(await held, await later(key, () => c.execute('ok')));
        return outcomes;
      },
    );
    expect(paths.every((p) => p === 'lean')).toBe(true); // (the hand-overs happen after execute() returned)
    for (const [name, options] of [
      ['AsyncFailNone', { run: async () => Promise.reject(new Error('down')) }],
      ['AsyncFailDisabled', { run: async () => Promise.reject(new Error('down')), fallback: () => 2, fallbackEnabled: false }],
    ] as const) {
      await twins(name, options, async (c, key) => [await later(key, () => c.execute())]);
    }
  });

  it('a listener that a failing run adds hears the FAILURE and the FALLBACK_SUCCESS with their latencies', async () => {
    const heard: unknown[] = [];
    const down = new Error('down');
    const c = command({
      key: 'AsyncFailLateListener',
      run: async () => {
        c.events.on('failure', (e) => heard.push(e));
        c.events.on('fallbackSuccess', (e) => heard.push(e));
        clock.advance(4);
        throw down;
      },
      fallback: () => (clock.advance(1), 7),
    });
    const p = c.execute();
    expect(path()).toBe('lean');
    await expect(p).resolves.toBe(7);
    expect(heard).toEqual([
      { commandKey: 'AsyncFailLateListener', eventType: 'FAILURE', latencyMs: 4, error: down },
      { commandKey: 'AsyncFailLateListener', eventType: 'FALLBACK_SUCCESS', latencyMs: 5 },
    ]);
  });

  it("run's own thenable gets handlers that work called detached, as on the full flow (a value, a rejection)", async () => {
    const paths = await twins(
      'AsyncThenable',
      {
        run: (mode: string) => ({
          then(onValue: (value: unknown) => void, onError: (error: unknown) => void) {
            const settle = mode === 'ok' ? onValue : onError; // called later, without a receiver
            queueMicrotask(() => {
              clock.advance(2);
              settle(mode === 'ok' ? 'thenable-ok' : new Error('thenable-fail'));
            });
          },
        }),
        fallback: (e: unknown) => `fb:${(e as Error).message}`,
      },
      async (c, key) => [await later(key, () => c.execute('ok')), await later(key, () => c.execute('fail'))],
    );
    expect(paths).toEqual(['lean', 'lean']);
  });

  it('a listener that run adds hears the SUCCESS with its latency', async () => {
    const heard: unknown[] = [];
    const c = command({
      key: 'AsyncLateListener',
      run: async () => {
        c.events.on('success', (e) => heard.push(e));
        clock.advance(4);
        return 1;
      },
    });
    const p = c.execute();
    expect(path()).toBe('lean');
    await expect(p).resolves.toBe(1);
    expect(heard).toEqual([{ commandKey: 'AsyncLateListener', eventType: 'SUCCESS', latencyMs: 4 }]);
  });

  it('an OPEN circuit forced closed admits a call without a timeout: handed over, no deadline', async () => {
    const paths = await twins(
      'AsyncForcedClosed',
      {
        timeout: false,
        circuitBreaker: { requestVolumeThreshold: 1, errorThresholdPercentage: 1, sleepWindow: 60_000 },
        metrics: { healthSnapshotInterval: 1 },
        run: async (fail: boolean) => {
          if (fail) throw new Error('down');
          await Promise.resolve();
          clock.advance(5);
          return 'ok';
        },
        fallback: () => 'fb',
      },
      async (c, key) => {
        const tripped = await later(key, () => c.execute(true));
        clock.advance(2);
        await later(key, () => c.execute(true));
        circuitBreakerFor(key).forceClosed(); // OPEN underneath, admitting every call
        return [tripped, await later(key, () => c.execute(false))];
      },
    );
    expect(paths.at(-1)).toBe('handed');
  });

  it('the deadline hands over: TIMEOUT, the fallback in the caller\'s request context, the signal aborted, a late value ignored', async () => {
    const seen: unknown[][] = [];
    for (const watched of [false, true]) {
      clock = useFakeClock();
      const key = watched ? 'AsyncTimeoutFull' : 'AsyncTimeoutLean';
      let resolveRun: (v: string) => void = () => undefined;
      let ctx: RunContext | undefined;
      let fallbackContext: unknown;
      const c = command({
        key,
        timeout: 50,
        run: (c2: RunContext) => {
          ctx = c2;
          return new Promise<string>((r) => (resolveRun = r));
        },
        fallback: () => ((fallbackContext = RequestContext.current()), 'fb'),
        requestLog: false,
      });
      if (watched) c.events.on('responseFromCache', () => undefined);
      let callerContext: unknown;
      const p = RequestContext.run(() => {
        callerContext = RequestContext.current();
        return c.execute();
      });
      const signalBefore = ctx!.signal.aborted;
      clock.advance(50);
      const value = await p;
      resolveRun('late');
      await flush();
      seen.push([value, signalBefore, ctx!.signal.aborted, (ctx!.signal.reason as Error).constructor.name, fallbackContext === callerContext, state(key)]);
    }
    const [lean, full] = seen;
    expect(lean).toEqual(full);
    expect(lean!.slice(0, 5)).toEqual(['fb', false, true, 'TimeoutError', true]);
  });
});

describe('lean flow: taken exactly when nothing needs the full flow', () => {
  const open = (key: string) => circuitBreakerFor(key).forceOpen();
  const callBoth = (c: { executeSync: () => unknown; execute: () => Promise<unknown> }) => {
    const s = path();
    void s;
    try {
      c.executeSync();
    } catch {
      // the outcome is not what is tested here
    }
    const a = path();
    void c.execute().catch(() => undefined);
    return [a, path()];
  };

  it('plain: both modes lean (sync runs, async short-circuits)', () => {
    const c = command({ key: 'CondPlain', run: () => 1, fallback: () => 0 });
    open('CondPlain');
    expect(callBoth(c)).toEqual(['lean', 'lean']);
  });

  it.each<[string, Partial<CommandSettings>]>([
    ['a rate limiter', { rateLimit: { capacity: 100, refillPerSecond: 100 } }],
    ['retry', { retry: {} }],
    ['hedge', { hedge: { delay: 10 }, idempotent: true }],
    ['pool isolation', { isolation: 'pool' }],
    ['adaptive isolation', { isolation: 'adaptive' }],
    ['an untimed start (no timeout, no percentiles)', { timeout: false, metrics: { percentileEnabled: false } }],
  ])('not with %s', (_name, settings) => {
    const key = `CondCfg${_name.replace(/\W/g, '')}`;
    const c = command({ key, run: () => 1, fallback: () => 0, ...settings } as any);
    open(key);
    expect(callBoth(c)).toEqual(['full', 'full']);
  });

  it('not with a listener on the key or on the global emitter', () => {
    const c = command({ key: 'CondListener', run: () => 1, fallback: () => 0 });
    open('CondListener');
    const off = () => undefined;
    c.events.on('collapsed' as never, off);
    expect(callBoth(c)).toEqual(['full', 'full']);
    c.events.off('collapsed' as never, off);
    events.on('collapsed' as never, off);
    expect(callBoth(c)).toEqual(['full', 'full']);
    events.off('collapsed' as never, off);
    expect(callBoth(c)).toEqual(['lean', 'lean']);
  });

  it('not when the execution is captured, or for a class command', () => {
    const c = command({ key: 'CondCapture', run: () => 1, fallback: () => 0 });
    open('CondCapture');
    captureExecution(() => c.executeSync());
    expect(path()).toBe('full');
    void captureExecution(() => c.execute()).result.catch(() => undefined);
    expect(path()).toBe('full');
    class Cmd extends Command<number> {
      constructor() {
        super({ key: 'CondClass' });
      }
      protected run(): number {
        return 1;
      }
    }
    new Cmd().executeSync();
    expect(path()).toBe('full');
  });

  it('not with a request log in a request context, nor for a call the request cache may serve', () => {
    const c = command({ key: 'CondLog', run: () => 1, fallback: () => 0 });
    open('CondLog');
    RequestContext.run(() => {
      expect(callBoth(c)).toEqual(['full', 'full']);
    });
    const cached = command({ key: 'CondCache', run: () => 1, fallback: () => 0, requestLog: false, cacheKey: () => 'k' });
    RequestContext.run(() => {
      cached.executeSync();
      expect(path()).toBe('full');
    });
    const unlogged = command({ key: 'CondNoLog', run: () => 1, fallback: () => 0, requestLog: false });
    open('CondNoLog');
    RequestContext.run(() => {
      expect(callBoth(unlogged)).toEqual(['lean', 'lean']);
    });
  });

  it('not while the process sheds the command', () => {
    configure({ commands: { CondShed: { sheddable: true } } });
    const c = command({ key: 'CondShed', run: () => 1, fallback: () => 0 });
    open('CondShed');
    const state = shedder.state.shed as Record<string, boolean>;
    const before = state.low;
    state.low = true;
    try {
      expect(callBoth(c)).toEqual(['full', 'full']);
    } finally {
      state.low = before!;
    }
    expect(callBoth(c)).toEqual(['lean', 'lean']);
  });

  it('async: not while a closed circuit admits a call without a timeout (the direct path)', async () => {
    const c = command({ key: 'CondClosed', run: async () => 1, timeout: false });
    const p = c.execute();
    expect(path()).toBe('full');
    await p;
    const timed = command({ key: 'CondClosedTimed', run: async () => 1 });
    const q = timed.execute();
    expect(path()).toBe('lean');
    await q;
  });
});
