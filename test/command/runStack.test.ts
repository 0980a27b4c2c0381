/**
 * The stack a user sees in an Error that `run` makes: run's own frame first, then the few frames of breakwater that
 * called it, then the caller's frames. Capturing a stack costs per frame (V8 decodes each optimised frame's inlined
 * functions), so a call without arguments calls run without an `invoke` frame, `execute()` calls run of the lean
 * flow itself (no `startAsync` or `executeLeanAsync` frame), and the full flow calls run from `start` without an
 * `enterBulkhead` frame; and with fewer of breakwater's frames in the 10 that V8 keeps, more of the caller's are shown.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Command, command, metricsFor, type RunContext } from '../../src/index.js';
import { useFakeClock } from '../../src/testing.js';

beforeEach(() => {
  useFakeClock();
});

/** The function names of a stack's frames, innermost first (`at Type.name [as alias] (file…)` → `Type.name`). */
function frames(error: unknown): string[] {
  const stack = (error as Error).stack ?? '';
  return stack
    .split('\n')
    .slice(1)
    .map((line) => /^\s*at (?:async )?([^\s(]+)/.exec(line)?.[1] ?? '?');
}

/**
 * That `names` is run's frame, then `between` (breakwater's frames, innermost first), then the test's arrow that
 * called the command, then `callers` in order.
 */
function expectCallerAfter(names: string[], run: string, between: readonly string[], callers: readonly string[]): void {
  const seen = names.join(' > ');
  expect(names[0], seen).toMatch(new RegExp(`(^|\\.)${run}$`));
  for (let i = 0; i < between.length; i++) expect(names[1 + i], seen).toMatch(new RegExp(`(^|\\.)${between[i]}$`));
  expect(names[1 + between.length], seen).toMatch(/runStack\.test\.ts/); // the arrow `() => c.execute()`
  for (let i = 0; i < callers.length; i++) expect(names[2 + between.length + i], seen).toBe(callers[i]);
}

describe("a fresh Error made in run: run's frame, breakwater's, then the caller's", () => {
  const limit = Error.stackTraceLimit;
  beforeEach(() => {
    Error.stackTraceLimit = 20; // the whole test's stack is deeper than V8's default 10
    return () => {
      Error.stackTraceLimit = limit;
    };
  });

  /** Calls `call` through three named frames of "the application". */
  function callerOuter<T>(call: () => T): T {
    return callerMiddle(call);
  }
  function callerMiddle<T>(call: () => T): T {
    return callerInner(call);
  }
  function callerInner<T>(call: () => T): T {
    return call();
  }
  const CALLERS = ['callerInner', 'callerMiddle', 'callerOuter'] as const;

  async function failureOf(call: () => Promise<unknown>): Promise<unknown> {
    let made: unknown;
    await call().then(undefined, (error: unknown) => {
      made = error;
    });
    return made;
  }

  it('execute() on the lean flow (a timeout), no arguments: run, execute, the caller', async () => {
    let made: unknown;
    const c = command({
      key: 'StackLean',
      run: async function failingRun(): Promise<number> {
        throw (made = new Error('boom'));
      },
      fallback: (error) => (error === made ? 7 : -1),
    });
    expect(await callerOuter(() => c.execute())).toBe(7); // the fallback got the very Error
    expectCallerAfter(frames(made), 'failingRun', ['execute'], CALLERS);
  });

  it('execute() on the lean flow, run throwing synchronously: run, execute, the caller; the fallback gets the Error', async () => {
    let made: unknown;
    const c = command({
      key: 'StackLeanSyncThrow',
      run: function throwingRun(): Promise<number> {
        throw (made = new Error('boom'));
      },
      fallback: (error) => (error === made ? 7 : -1),
    });
    expect(await callerOuter(() => c.execute())).toBe(7);
    expectCallerAfter(frames(made), 'throwingRun', ['execute'], CALLERS);
    expect([metricsFor(c.key).cumulativeCount('FAILURE'), metricsFor(c.key).cumulativeCount('FALLBACK_SUCCESS')]).toEqual([1, 1]);
  });

  it('execute() on the lean flow, run returning a plain value (not a thenable): the value, one success', async () => {
    const c = command({ key: 'StackLeanPlain', run: (): number => 5 });
    expect(await c.execute()).toBe(5);
    expect([metricsFor(c.key).cumulativeCount('SUCCESS'), metricsFor(c.key).cumulativeCount('FAILURE')]).toEqual([1, 0]);
  });

  it('execute() with arguments keeps the invoke frames (the arguments go before the context)', async () => {
    let made: unknown;
    const c = command({
      key: 'StackLeanArgs',
      run: async function failingRun(id: string, { commandKey }: RunContext): Promise<string> {
        throw (made = new Error(`${id} ${commandKey}`));
      },
    });
    const error = await failureOf(() => callerOuter(() => c.execute('42')));
    expect((error as { cause?: unknown }).cause).toBe(made);
    expect((made as Error).message).toBe('42 StackLeanArgs');
    expectCallerAfter(frames(made), 'failingRun', ['invokeWith', 'invoke', 'execute'], CALLERS);
  });

  it('execute() on the full flow (no timeout): run, begin, start, startExecution, execute, the caller', async () => {
    let made: unknown;
    const c = command({
      key: 'StackFull',
      timeout: false,
      run: async function failingRun(): Promise<number> {
        throw (made = new Error('boom'));
      },
    });
    const error = await failureOf(() => callerOuter(() => c.execute()));
    expect((error as { cause?: unknown }).cause).toBe(made);
    expectCallerAfter(frames(made), 'failingRun', ['begin', 'start', 'startExecution', 'execute'], CALLERS);
  });

  it("a class command's run is still called through invoke, with this its instance", async () => {
    let made: unknown;
    const selves: unknown[] = [];
    class Failing extends Command<number> {
      constructor() {
        super({ key: 'StackClass' });
      }
      protected async run(): Promise<number> {
        selves.push(this);
        throw (made = new Error('boom'));
      }
    }
    const cmd = new Failing();
    const error = await failureOf(() => callerOuter(() => cmd.execute()));
    expect(selves).toEqual([cmd]);
    expect((error as { cause?: unknown }).cause).toBe(made);
    const names = frames(made);
    expect(names[0]).toMatch(/run$/);
    expect(names[1]).toMatch(/invoke$/);
    expect(names.indexOf('callerInner')).toBeGreaterThan(1);
    expect(names.indexOf('callerOuter')).toBe(names.indexOf('callerInner') + 2);
  });

  it('executeSync() on the lean flow, no arguments: run, leanSync and the sync start (no invoke), then the caller; this is the handle', () => {
    let made: unknown;
    const selves: unknown[] = [];
    const c = command({
      key: 'StackLeanSync',
      run: function throwingRun(this: unknown): number {
        selves.push(this);
        throw (made = new Error('boom'));
      },
      fallback: (error) => (error === made ? 7 : -1),
    });
    expect(callerOuter(() => c.executeSync())).toBe(7);
    expect(selves).toEqual([c]);
    expectCallerAfter(frames(made), 'throwingRun', ['leanSync', 'executeLeanSync', 'executeSync', 'executeSync'], CALLERS);
    expect([metricsFor(c.key).cumulativeCount('FAILURE'), metricsFor(c.key).cumulativeCount('FALLBACK_SUCCESS')]).toEqual([1, 1]);
  });

  it('executeSync() with arguments keeps the invoke frames', () => {
    let made: unknown;
    const c = command({
      key: 'StackLeanSyncArgs',
      run: function throwingRun(id: string, { commandKey }: RunContext): string {
        throw (made = new Error(`${id} ${commandKey}`));
      },
      fallback: () => 'fallback',
    });
    expect(callerOuter(() => c.executeSync('42'))).toBe('fallback');
    expect((made as Error).message).toBe('42 StackLeanSyncArgs');
    expectCallerAfter(frames(made), 'throwingRun', ['invokeWith', 'invoke', 'leanSync', 'executeLeanSync', 'executeSync', 'executeSync'], CALLERS);
  });

  it('run is called with the handle as this, as through invoke', async () => {
    const selves: unknown[] = [];
    const c = command({
      key: 'StackThis',
      run: async function (this: unknown): Promise<number> {
        selves.push(this);
        return 1;
      },
    });
    expect(await c.execute()).toBe(1);
    expect(selves).toEqual([c]);
  });
});
