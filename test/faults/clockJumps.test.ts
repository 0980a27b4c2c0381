import { beforeEach, describe, expect, it } from 'vitest';
import { circuitBreakerFor, command, metricsFor, type CommandMetricsSnapshot } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

const HOUR = 3_600_000;
let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock(10 * HOUR);
});

const flush = () => new Promise<void>((r) => setImmediate(r));

function expectSane(s: CommandMetricsSnapshot): void {
  for (const [type, n] of Object.entries(s.rolling)) expect(n, `rolling ${type}`).toBeGreaterThanOrEqual(0);
  expect(s.health.requestCount).toBeGreaterThanOrEqual(0);
  expect(s.health.errorCount).toBeGreaterThanOrEqual(0);
  expect(s.health.errorCount).toBeLessThanOrEqual(s.health.requestCount);
  expect(s.health.errorPercentage).toBeGreaterThanOrEqual(0);
  expect(s.health.errorPercentage).toBeLessThanOrEqual(100);
  expect(s.concurrency.current).toBeGreaterThanOrEqual(0);
  for (const v of [s.latencyExecute.mean, s.latencyTotal.mean, ...Object.values(s.latencyTotal.percentiles)]) {
    expect(Number.isFinite(v) && v >= 0, `latency ${v}`).toBe(true);
  }
}

/** A command whose breaker trips after 2 failures and sleeps 5 s. */
function tripping(key: string) {
  let fail = true;
  const c = command({
    key,
    timeout: 1000,
    circuitBreaker: { requestVolumeThreshold: 2, errorThresholdPercentage: 50, sleepWindow: 5000 },
    metrics: { healthSnapshotInterval: 1 },
    run: async () => {
      if (fail) throw new Error('down');
      return 'ok';
    },
    fallback: () => 'fallback',
  });
  return {
    c,
    heal: () => {
      fail = false;
    },
  };
}

async function trip(c: { execute(): Promise<string> }): Promise<void> {
  await c.execute();
  clock.advance(1);
  await c.execute();
}

describe('faults: the clock jumps by hours', () => {
  for (const [name, jump] of [
    ['forwards', 5 * HOUR],
    ['backwards', -5 * HOUR],
  ] as const) {
    it(`${name}: an open circuit lets its one trial through within a sleep window of the jump, and closes on success`, async () => {
      const { c, heal } = tripping(`Jump${name}`);
      await trip(c);
      expect(circuitBreakerFor(`Jump${name}`).state).toBe('OPEN');
      clock.jump(jump);
      heal();
      clock.advance(5001);
      await expect(c.execute()).resolves.toBe('ok'); // the trial
      expect(circuitBreakerFor(`Jump${name}`).state).toBe('CLOSED');
      await expect(c.execute()).resolves.toBe('ok');
      expectSane(metricsFor(`Jump${name}`).snapshot());
    });

    it(`${name}: rolling counts and health stay non-negative and count again after the jump`, async () => {
      const { c } = tripping(`Counts${name}`);
      await trip(c);
      clock.jump(jump);
      const afterJump = metricsFor(`Counts${name}`).snapshot();
      expectSane(afterJump);
      // A jump of more than the window (either way) leaves nothing in it.
      expect(afterJump.rolling.FAILURE).toBe(0);
      expect(afterJump.cumulative.FAILURE).toBe(2);
      circuitBreakerFor(`Counts${name}`).reset();
      await c.execute();
      clock.advance(10);
      const s = metricsFor(`Counts${name}`).snapshot();
      expectSane(s);
      expect(s.rolling.FAILURE).toBe(1);
      expect(s.health).toEqual({ requestCount: 1, errorCount: 1, errorPercentage: 100 });
    });

    it(`${name}: calls in flight across the jump still time out or finish, and release everything`, async () => {
      let finish!: () => void;
      const c = command({ key: `Flight${name}`, timeout: 1000, run: () => new Promise<string>((r) => (finish = () => r('late'))), fallback: () => 'fallback' });
      const pending = c.execute();
      clock.jump(jump);
      // Forwards: the deadline is overdue and fires on the next tick. Backwards: timers keep their absolute time,
      // so the deadline fires once the clock gets back there (the system clock never steps back: performance.now).
      clock.advance(jump > 0 ? 0 : -jump + 1000);
      await expect(pending).resolves.toBe('fallback');
      finish();
      await flush();
      expect(existingRuntime(`Flight${name}`)!.semaphore.inUse).toBe(0);
      expect(deadlinesFor(clock).size).toBe(0);
      const s = metricsFor(`Flight${name}`).snapshot();
      expectSane(s);
      expect(s.cumulative.TIMEOUT).toBe(1);
    });
  }

  it('a latency measured across a backward jump is recorded as 0, never negative', async () => {
    let finish!: () => void;
    const c = command({ key: 'Latency', timeout: false, run: () => new Promise<string>((r) => (finish = () => r('ok'))) });
    const pending = c.execute();
    clock.advance(100);
    clock.jump(-HOUR);
    finish();
    await expect(pending).resolves.toBe('ok');
    const s = metricsFor('Latency').snapshot();
    expectSane(s);
  });
});
