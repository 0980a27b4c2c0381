import { beforeEach, describe, expect, it } from 'vitest';
import { collapser, isCommandError, metricsFor, type CommandError } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Three calls gathered into one batch (global scope: no request context needed); their settled results. */
async function threeCalls(batch: (ids: string[]) => unknown, key: string, extra: Record<string, unknown> = {}) {
  const c = collapser<string, unknown>({ key, scope: 'global', delay: 10, batch: batch as never, ...extra });
  const calls = ['a', 'b', 'c'].map((id) => c.execute(id).then((value) => ({ value }), (error: unknown) => ({ error })));
  clock.advance(10);
  return { calls, c };
}

function expectNothingHeld(commandKey: string): void {
  const rt = existingRuntime(commandKey)!;
  expect(rt.semaphore.inUse).toBe(0);
  expect(metricsFor(commandKey).snapshot().concurrency.current).toBe(0);
  expect(deadlinesFor(clock).size).toBe(0);
}

describe('faults: collapser batch functions that throw or return garbage', () => {
  it.each([
    ['an Error', new Error('batch down')],
    ['a string', 'batch down'],
    ['undefined', undefined],
  ])('a batch that throws %s fails every caller of the batch with that cause (one FAILURE)', async (_name, thrown) => {
    const { calls } = await threeCalls(() => {
      throw thrown;
    }, 'BatchThrows');
    const results = await Promise.all(calls);
    for (const r of results) {
      expect(isCommandError((r as { error: unknown }).error)).toBe(true);
      expect(Object.is(((r as { error: CommandError }).error).cause, thrown)).toBe(true);
    }
    expect(metricsFor('BatchThrowsBatch').snapshot().cumulative.FAILURE).toBe(1);
    expectNothingHeld('BatchThrowsBatch');
  });

  it.each([
    ['undefined', undefined],
    ['NaN', Number.NaN],
    ['an object', { a: 1 }],
    ['a string', 'abc'],
    ['too few results', ['only one']],
    ['too many results', [1, 2, 3, 4]],
  ])('a batch returning %s fails every caller with BW_BATCH_RESULTS, naming the collapser', async (_name, garbage) => {
    const { calls } = await threeCalls(async () => garbage, 'BatchGarbage');
    for (const r of await Promise.all(calls)) {
      const error = (r as { error: CommandError }).error;
      expect(error.failureType).toBe('COMMAND_EXCEPTION');
      expect((error.cause as { code: string }).code).toBe('BW_BATCH_RESULTS');
      expect((error.cause as Error).message).toContain("collapser 'BatchGarbage'");
    }
    expectNothingHeld('BatchGarbageBatch');
  });

  it('garbage elements reach only their own caller: undefined resolves undefined, an Error rejects just that caller', async () => {
    const { calls } = await threeCalls(async () => [undefined, new RangeError('just b'), Number.NaN], 'BatchElements');
    const [a, b, c] = await Promise.all(calls);
    expect(a).toEqual({ value: undefined });
    expect((b as { error: Error }).error).toBeInstanceOf(RangeError);
    expect(c).toEqual({ value: Number.NaN });
    expect(metricsFor('BatchElementsBatch').snapshot().cumulative.SUCCESS).toBe(1);
  });

  it('a batch that never settles: every caller gets TIMEOUT at the batch deadline; the permit waits for the work', async () => {
    let finish!: () => void;
    const { calls } = await threeCalls(
      () => new Promise((resolve) => (finish = () => resolve(['x', 'y', 'z']))),
      'BatchNever',
      { timeout: 100 },
    );
    clock.advance(100);
    for (const r of await Promise.all(calls)) expect(((r as { error: CommandError }).error).failureType).toBe('TIMEOUT');
    expect(existingRuntime('BatchNeverBatch')!.semaphore.inUse).toBe(1);
    finish();
    await flush();
    expectNothingHeld('BatchNeverBatch');
  });
});
