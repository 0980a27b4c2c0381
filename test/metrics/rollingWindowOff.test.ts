/**
 * `metrics.rollingWindow: false` (src/metrics/CommandMetrics.ts, src/metrics/ReadWindow.ts): a key with no
 * time-bucketed window records cumulative counts only, so a breaker-only call reads no clock on its success path
 * (ExecutionPlan.clockless); readers measure rolling counts, health and the maximum concurrency between their reads.
 */
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  circuitBreakerFor,
  command,
  commandKeys,
  configure,
  events,
  hystrixDashboardSample,
  isConfigError,
  metricsFor,
  registerPrometheus,
  type CommandSettings,
} from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { commandObject } from '../../src/stream/commandSampler.js';
import { READ_BUCKET_MS, READ_WINDOW_MS } from '../../src/metrics/ReadWindow.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { countClockReads } from '../support/countClockReads.js';
import { deferred } from '../support/deferred.js';
import { seededRandom } from '../support/seededRandom.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

/** A command configured as cockatiel's ConsecutiveBreaker, with no rolling window. */
const CONSECUTIVE = {
  timeout: false,
  metrics: { percentileEnabled: false, rollingWindow: false },
  circuitBreaker: { strategy: 'consecutive', consecutiveFailures: 2, sleepWindow: 100 },
} as const satisfies CommandSettings;

/** As cockatiel's CountBreaker: the last 4 calls, open at 50 % failures once 4 were seen. */
const COUNT = {
  timeout: false,
  metrics: { percentileEnabled: false, rollingWindow: false },
  circuitBreaker: { strategy: 'countWindow', windowSize: 4, minimumCalls: 4, errorThresholdPercentage: 50, sleepWindow: 100 },
} as const satisfies CommandSettings;

/** Counts the fake clock's `now()` reads from here on. */
const countReads = (): (() => number) => countClockReads(clock);

/** A command whose run fails while `state.fail` is set (its fallback answers `fallbackValue`). */
function switchable(key: string, settings: CommandSettings, fallbackValue = 0, fail = false) {
  const state = { fail };
  const c = command({
    key,
    run: () => {
      if (state.fail) throw new Error('x');
      return 1;
    },
    fallback: () => fallbackValue,
    ...settings,
  });
  return { c, state };
}

describe('rollingWindow: false — validation', () => {
  it('refuses the errorPercentage strategy (the default) with a RangeError naming both options and values', () => {
    let error: unknown;
    try {
      command({ key: 'NoWindowPct', run: () => 1, metrics: { rollingWindow: false } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect(isConfigError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('`circuitBreaker.strategy`');
    expect(message).toContain('`metrics.rollingWindow` is false');
    expect(message).toContain('"errorPercentage"');
    expect(() =>
      command({ key: 'NoWindowPct2', run: () => 1, metrics: { rollingWindow: false }, circuitBreaker: { strategy: 'errorPercentage' } }),
    ).toThrow(RangeError);
  });

  it('accepts consecutive, countWindow and a disabled breaker; ignores rollingBuckets; checks the type', () => {
    expect(command({ key: 'NW1', run: () => 1, ...CONSECUTIVE }).config.metrics.rollingWindow).toBe(false);
    expect(command({ key: 'NW2', run: () => 1, ...COUNT }).config.metrics.rollingWindow).toBe(false);
    expect(() => command({ key: 'NW3', run: () => 1, metrics: { rollingWindow: false }, circuitBreaker: { enabled: false } })).not.toThrow();
    // rollingBuckets is ignored (7 does not divide the default window: with a window this would be refused)
    expect(() => command({ key: 'NW4', run: () => 1, ...CONSECUTIVE, metrics: { rollingWindow: false, rollingBuckets: 7 } })).not.toThrow();
    expect(() => command({ key: 'NW5', run: () => 1, metrics: { rollingWindow: 10_000, rollingBuckets: 7 } })).toThrow(RangeError);
    expect(() => command({ key: 'NW6', run: () => 1, metrics: { rollingWindow: true as never } })).toThrow(/`metrics.rollingWindow` must be .*or false/);
    expect(() => command({ key: 'NW7', run: () => 1, metrics: { rollingWindow: 0 } })).toThrow(RangeError);
  });

  it('refuses it in a configure() layer that resolves with errorPercentage, at configure() time, naming the layer', async () => {
    expect(() => configure({ commands: { Layered: { metrics: { rollingWindow: false } } } })).toThrow(
      /`commands.Layered.circuitBreaker.strategy` .*`commands.Layered.metrics.rollingWindow` is false/,
    );
    expect(() => configure({ defaults: { metrics: { rollingWindow: false } } })).toThrow(/`defaults.circuitBreaker.strategy`/);
    configure({ commands: { Layered: { metrics: { rollingWindow: false }, circuitBreaker: { strategy: 'consecutive' } } } });
    await expect(command({ key: 'Layered', run: () => 1 }).execute()).resolves.toBe(1);
  });
});

describe('rollingWindow: false — no clock on the success path', () => {
  it('a consecutive and a countWindow command read no clock when they succeed (sync and async); with a window they read one', async () => {
    const consecutive = command({ key: 'Clockless.Consecutive', run: () => 1, ...CONSECUTIVE });
    const count = command({ key: 'Clockless.Count', run: () => 1, ...COUNT });
    const asyncRun = command({ key: 'Clockless.Async', run: async () => 1, ...CONSECUTIVE });
    const windowed = command({ key: 'Clockless.Windowed', run: () => 1, ...CONSECUTIVE, metrics: { percentileEnabled: false } });
    for (const c of [consecutive, count, asyncRun, windowed]) await c.execute(); // keys made
    const reads = countReads();
    consecutive.executeSync();
    await consecutive.execute();
    count.executeSync();
    await count.execute();
    await asyncRun.execute();
    expect(reads()).toBe(0);
    expect(clock.pendingTimers).toBe(0); // no health snapshot is due: none is taken, no timer armed for one
    windowed.executeSync();
    expect(reads()).toBe(1);
    expect(metricsFor('Clockless.Consecutive').cumulativeCount('SUCCESS')).toBe(3);
    expect(metricsFor('Clockless.Count').cumulativeCount('SUCCESS')).toBe(3);
  });

  it('a watched call (a listener) is timed as before, and a failure reads the clock', async () => {
    const { c, state } = switchable('Clockless.Watched', { ...CONSECUTIVE, circuitBreaker: { ...CONSECUTIVE.circuitBreaker, consecutiveFailures: 100 } });
    await c.execute();
    const reads = countReads();
    state.fail = true;
    await c.execute();
    expect(reads()).toBeGreaterThan(0);
    state.fail = false;
    const before = reads();
    const seen: number[] = [];
    c.events.on('success', (e) => seen.push(e.latencyMs));
    await c.execute();
    expect(reads()).toBeGreaterThan(before);
    expect(seen).toEqual([0]);
  });
});

describe('rollingWindow: false — trips and sleep windows at the real time', () => {
  it('a consecutive trip opens at the failure’s time; the sleep window runs from it', async () => {
    const { c, state } = switchable('Trip.Consecutive', CONSECUTIVE, -1);
    await c.execute(); // t = 0
    clock.advance(1000);
    await c.execute(); // a clockless success at t = 1000
    clock.advance(1000);
    state.fail = true;
    await c.execute();
    await c.execute(); // the second failure in a row: OPEN at t = 2000
    const breaker = circuitBreakerFor('Trip.Consecutive');
    expect(breaker.state).toBe('OPEN');
    state.fail = false;
    clock.advance(100);
    await expect(c.execute()).resolves.toBe(-1); // t = 2100: not past the window (strictly after)
    expect(metricsFor('Trip.Consecutive').cumulativeCount('SHORT_CIRCUITED')).toBe(1);
    clock.advance(1);
    await expect(c.execute()).resolves.toBe(1); // the trial
    expect(breaker.state).toBe('CLOSED');
  });

  it('a countWindow rule that trips on a success opens at that success’s time, not at a stand-in', async () => {
    const { c, state } = switchable('Trip.Count', COUNT, -1, true);
    await c.execute(); // F at t = 0
    await c.execute(); // F at t = 0: the key's last known time stays 0
    state.fail = false;
    clock.advance(500);
    await c.execute(); // S at 500 (clockless)
    clock.advance(500);
    const reads = countReads();
    await expect(c.execute()).resolves.toBe(1); // S at 1000: 4 calls, 50 % failures: trips on this success
    expect(reads()).toBeGreaterThan(0); // the trip read the clock (only the trip: see the zero-read test)
    const breaker = circuitBreakerFor('Trip.Count');
    expect(breaker.state).toBe('OPEN');
    clock.advance(100); // t = 1100: a circuit opened at a stand-in (0) would admit a trial now
    await expect(c.execute()).resolves.toBe(-1);
    expect(breaker.state).toBe('OPEN');
    clock.advance(1);
    await expect(c.execute()).resolves.toBe(1);
    expect(breaker.state).toBe('CLOSED');
    expect(JSON.parse(JSON.stringify(breaker)).state).toBe('CLOSED');
  });
});

/** Events recorded at `times` (one SUCCESS each) on a windowless key and a default-window key, read every `readEvery`. */
async function drive(times: number[], readAt: number[]) {
  const off = command({ key: 'Drive.Off', run: () => 1, ...CONSECUTIVE });
  const on = command({ key: 'Drive.On', run: () => 1, ...CONSECUTIVE, metrics: { percentileEnabled: false } });
  const out: { t: number; off: number; on: number; offMax: number }[] = [];
  const all = [...times.map((t) => ({ t, read: false })), ...readAt.map((t) => ({ t, read: true }))].sort((a, b) => a.t - b.t || Number(a.read) - Number(b.read));
  for (const step of all) {
    clock.advance(step.t - clock.now());
    if (step.read) {
      const s = metricsFor('Drive.Off').snapshot();
      out.push({ t: step.t, off: s.rolling.SUCCESS, on: metricsFor('Drive.On').snapshot().rolling.SUCCESS, offMax: s.concurrency.rollingMax });
    } else {
      await off.execute();
      await on.execute();
    }
  }
  return out;
}

describe('rollingWindow: false — what readers see (rolling counts between reads)', () => {
  it('read every 500 ms: the count since the newest capture at or before t - 10 s, 10 to 11.5 s where a real window counts 9 to 10 s', async () => {
    const random = seededRandom(7);
    const times: number[] = [];
    for (let t = 1; t < 40_000; t += 1 + Math.floor(random() * 400)) times.push(t);
    const readAt: number[] = [];
    for (let t = 500; t <= 40_000; t += 500 + (t % 3000 === 0 ? 250 : 0)) readAt.push(t); // mostly 500 ms apart
    const rows = await drive(times, readAt);
    // the captures, by the documented rule: the key's creation (0, zero counts, a key younger than a window), the
    // first read, then a read when none was taken in the last 1,000 ms
    const captures = [0];
    for (const t of readAt) if (t === readAt[0] || t - captures[captures.length - 1]! >= READ_BUCKET_MS) captures.push(t);
    expect(rows.length).toBe(readAt.length);
    for (const row of rows) {
      const taken = captures.filter((c) => c <= row.t);
      const base = [...taken].reverse().find((c) => c <= row.t - READ_WINDOW_MS) ?? taken[0]!;
      const expected = times.filter((x) => x <= row.t && x > base).length;
      expect({ t: row.t, off: row.off }).toEqual({ t: row.t, off: expected });
      if (row.t >= READ_WINDOW_MS + 1000) {
        expect(row.t - base).toBeGreaterThanOrEqual(READ_WINDOW_MS);
        expect(row.t - base).toBeLessThan(READ_WINDOW_MS + READ_BUCKET_MS + 750); // reads at most 750 ms apart
      }
      // a real window of 10 buckets of 1 s counts from the start of the bucket 9 s back: a subset
      const onStart = Math.floor(row.t / READ_BUCKET_MS) * READ_BUCKET_MS - (READ_WINDOW_MS - READ_BUCKET_MS);
      expect(row.off - row.on).toBe(times.filter((x) => x > base && x < onStart).length);
    }
  });

  it('first read: a key younger than a window counts from its creation, an older one from that first read', async () => {
    const young = command({ key: 'First.Young', run: () => 1, ...CONSECUTIVE });
    const old = command({ key: 'First.Old', run: () => 1, ...CONSECUTIVE });
    await young.execute();
    await old.execute();
    clock.advance(5000);
    await young.execute();
    expect(metricsFor('First.Young').snapshot().rolling.SUCCESS).toBe(2); // created at 0, read at 5 s
    clock.advance(20_000);
    await old.execute();
    expect(metricsFor('First.Old').snapshot().rolling.SUCCESS).toBe(0); // read first at 25 s: counts from here
    expect(metricsFor('First.Old').snapshot().cumulative.SUCCESS).toBe(2);
    await old.execute();
    clock.advance(3000);
    await old.execute();
    expect(metricsFor('First.Old').rollingCount('SUCCESS', clock.now())).toBe(2);
  });

  it('sparse reads: counts since the newest capture at or before t - 10 s, or since the oldest while all are younger', async () => {
    const c = command({ key: 'Sparse', run: () => 1, ...CONSECUTIVE });
    await c.execute(); // t = 0
    const m = metricsFor('Sparse');
    clock.advance(20_000);
    expect(m.snapshot().rolling.SUCCESS).toBe(0); // first read at 20 s (capture A: 1 success)
    clock.advance(1000);
    await c.execute(); // 21 s
    clock.advance(4000);
    expect(m.snapshot().rolling.SUCCESS).toBe(1); // 25 s: only A exists (younger than 15 s): since A (capture B)
    await c.execute(); // 25 s
    clock.advance(6000);
    await c.execute(); // 31 s
    expect(m.snapshot().rolling.SUCCESS).toBe(3); // 31 s: A (20 s) is at or before 21 s: since A (capture C)
    clock.advance(5000);
    expect(m.snapshot().rolling.SUCCESS).toBe(2); // 36 s: B (25 s) is the newest at or before 26 s
    clock.advance(60_000);
    expect(m.snapshot().rolling.SUCCESS).toBe(0); // 96 s: from the capture at 36 s: nothing since
    expect(m.snapshot().cumulative.SUCCESS).toBe(4);
  });

  it('the rolling maximum concurrency: the highest since the capture the window counts from', async () => {
    const gates = [deferred<number>(), deferred<number>(), deferred<number>()];
    let next = 0;
    const c = command({ key: 'MaxOff', run: () => gates[next++]!.promise, ...CONSECUTIVE });
    const m = metricsFor('MaxOff');
    const p = [c.execute(), c.execute(), c.execute()];
    expect(m.snapshot().concurrency).toEqual({ current: 3, rollingMax: 3 });
    for (const g of gates) g.resolve(1);
    await Promise.all(p);
    clock.advance(5000);
    expect(m.snapshot().concurrency).toEqual({ current: 0, rollingMax: 3 });
    clock.advance(5000);
    expect(m.snapshot().concurrency.rollingMax).toBe(3); // 10 s: the window counts from the capture at 0 s
    clock.advance(1000);
    expect(m.snapshot().concurrency.rollingMax).toBe(3); // 11 s: still from 0 s; the capture at 5 s holds the peak
    clock.advance(5000);
    expect(m.snapshot().concurrency.rollingMax).toBe(0); // 16 s: from the capture at 5 s, nothing ran since
    // a timed run (a listener) counts at its start only: running across a capture, it counts in the next interval too
    c.events.on('success', () => undefined);
    const long = deferred<number>();
    gates.push(long);
    const pl = c.execute(); // 16 s
    clock.advance(1000);
    expect(m.snapshot().concurrency).toEqual({ current: 1, rollingMax: 1 }); // 17 s: a capture while it runs
    clock.advance(2000);
    long.resolve(1); // 19 s
    await pl;
    clock.advance(9000);
    expect(m.snapshot().concurrency).toEqual({ current: 0, rollingMax: 1 }); // 28 s: from the capture at 17 s
  });

  it('health for display comes from the same deltas (and starts again after a reset)', async () => {
    const { c, state } = switchable('HealthOff', { ...CONSECUTIVE, circuitBreaker: { ...CONSECUTIVE.circuitBreaker, consecutiveFailures: 100 } });
    await c.execute();
    await c.execute();
    state.fail = true;
    await c.execute();
    const m = metricsFor('HealthOff');
    expect(m.snapshot().health).toEqual({ requestCount: 3, errorCount: 1, errorPercentage: 33 });
    expect(circuitBreakerFor('HealthOff').health).toEqual({ requestCount: 3, errorCount: 1, errorPercentage: 33 });
    circuitBreakerFor('HealthOff').reset();
    expect(m.snapshot().health).toEqual({ requestCount: 0, errorCount: 0, errorPercentage: 0 });
    await c.execute();
    expect(m.snapshot().health).toEqual({ requestCount: 1, errorCount: 1, errorPercentage: 100 });
    clock.advance(12_000);
    expect(m.snapshot().health.requestCount).toBe(1); // 12 s: from the capture at 0 s, before the reset: the reset is later
    clock.advance(12_000);
    expect(m.snapshot().health.requestCount).toBe(0);
  });

  it('the dashboard stream and Prometheus: rolling counts from the same reads, cumulative counters exact', async () => {
    const c = command({ key: 'Readers.Off', group: 'G', run: () => 1, ...CONSECUTIVE });
    for (let i = 0; i < 5; i++) await c.execute();
    const registry = new Registry();
    registerPrometheus(registry);
    const sample = () => hystrixDashboardSample().find((o) => o.name === 'Readers.Off') as unknown as Record<string, number>;
    expect(sample().rollingCountSuccess).toBe(5);
    expect(sample().propertyValue_metricsRollingStatisticalWindowInMilliseconds).toBe(READ_WINDOW_MS);
    clock.advance(11_000);
    for (let i = 0; i < 2; i++) await c.execute();
    expect(sample().rollingCountSuccess).toBe(2);
    const text = await registry.metrics();
    expect(text).toContain('breakwater_command_events_total{command="Readers.Off",group="G",event="success"} 7');
    expect(text).toContain('breakwater_command_health_requests{command="Readers.Off",group="G"} 2');
    clock.advance(60_000);
    expect(sample().rollingCountSuccess).toBe(0);
    expect(await registry.metrics()).toContain('breakwater_command_events_total{command="Readers.Off",group="G",event="success"} 7');
  });

  it('the stream sampler reads such a key at its own time: no clock read per key', async () => {
    const c = command({ key: 'Sampler.Off', run: () => 1, ...CONSECUTIVE });
    await c.execute();
    const rt = existingRuntime('Sampler.Off')!;
    const reads = countReads();
    const first = commandObject(rt, clock.now(), 0);
    expect(reads()).toBe(1); // the test's own clock.now()
    expect(first.rollingCountSuccess).toBe(1);
    clock.advance(11_000);
    await c.execute();
    const before = reads();
    expect(commandObject(rt, clock.now(), 0).rollingCountSuccess).toBe(1);
    expect(reads() - before).toBe(1);
    clock.advance(100);
    const again = reads();
    commandObject(rt, clock.now(), 0); // nothing changed: the previous object, after comparing the health
    expect(reads() - again).toBe(1);
  });

  it('a key nobody reads holds only its cumulative counts; the captures come with the first read', async () => {
    await command({ key: 'Bytes.Off', run: () => 1, ...CONSECUTIVE }).execute();
    await command({ key: 'Bytes.On', run: () => 1, ...CONSECUTIVE, metrics: { percentileEnabled: false } }).execute();
    const off = metricsFor('Bytes.Off');
    const before = off.footprintBytes;
    expect(before).toBeLessThan(metricsFor('Bytes.On').footprintBytes / 4);
    off.snapshot();
    expect(off.footprintBytes).toBeGreaterThan(before);
  });
});

describe('rollingWindow: false — key expiry and configure()', () => {
  it('a key used only by clockless calls does not expire while used, and expires within one sweep period of the usual time', async () => {
    const c = command({ key: 'Expiry.Off', run: () => 1, ...CONSECUTIVE });
    await c.execute();
    const rt = existingRuntime('Expiry.Off');
    for (let i = 0; i < 12; i++) {
      clock.advance(100_000);
      await c.execute(); // clockless: no time of use recorded by the call
    }
    expect(existingRuntime('Expiry.Off')).toBe(rt); // 1,200 s of use, past keyExpiry (300 s) four times over
    // idle from t = 1,200 s: seen used by the sweep at 1,200 s (sweeps every 60 s), so idle from then: gone by 1,200 + 300 + 60 s
    clock.advance(300_000 - 1);
    expect(commandKeys()).toContain('Expiry.Off');
    clock.advance(60_001);
    expect(commandKeys()).not.toContain('Expiry.Off');
  });

  it('configure() turns the window off on a live key: counts kept, rolling counts start at the switch, calls become clockless', async () => {
    const c = command({ key: 'Switch', run: () => 1, ...CONSECUTIVE, metrics: { percentileEnabled: false } });
    await c.execute();
    await c.execute();
    clock.advance(1000);
    configure({ commands: { Switch: { metrics: { rollingWindow: false }, circuitBreaker: { strategy: 'consecutive' } } } });
    const m = metricsFor('Switch');
    expect(m.windowless).toBe(true);
    expect(m.snapshot().cumulative.SUCCESS).toBe(2);
    expect(m.snapshot().rolling.SUCCESS).toBe(0);
    const reads = countReads();
    await c.execute();
    expect(reads()).toBe(0);
    expect(m.snapshot().rolling.SUCCESS).toBe(1);
    expect(m.cumulativeCount('SUCCESS')).toBe(3);
    // and back on, with the errorPercentage strategy: the window is made again and that strategy trips on it
    configure({ commands: { Switch: { metrics: { rollingWindow: 10_000 }, circuitBreaker: { strategy: 'errorPercentage', requestVolumeThreshold: 2 } } } });
    expect(m.windowless).toBe(false);
    expect(m.cumulativeCount('SUCCESS')).toBe(3);
    expect(m.snapshot().rolling.SUCCESS).toBe(0);
    const failing = command({ key: 'Switch', run: () => { throw new Error('x'); }, fallback: () => 0, ...CONSECUTIVE, metrics: { percentileEnabled: false } });
    const before = reads();
    await failing.execute();
    expect(reads()).toBeGreaterThan(before);
    await failing.execute();
    clock.advance(500);
    await failing.execute();
    expect(circuitBreakerFor('Switch').state).toBe('OPEN');
    expect(m.cumulativeCount('SUCCESS')).toBe(3);
    expect(m.cumulativeCount('FAILURE')).toBe(2);
    expect(m.snapshot().rolling.FAILURE).toBe(2);
  });

  it('a configure() that would leave a windowless key on errorPercentage is refused at the next call, naming the options', async () => {
    const c = command({ key: 'SwitchBad', run: () => 1, ...CONSECUTIVE });
    await c.execute();
    configure({ commands: { SwitchBad: { circuitBreaker: { strategy: 'errorPercentage' } } } }); // fine over the defaults
    expect(() => c.execute()).toThrow(/`circuitBreaker.strategy` .*`metrics.rollingWindow` is false/);
    expect(metricsFor('SwitchBad').windowless).toBe(true);
  });

  it('a global listener makes the call timed (the events are built as today)', async () => {
    const c = command({ key: 'GlobalListener', run: () => 1, ...CONSECUTIVE });
    await c.execute();
    const seen: string[] = [];
    events.on('success', (e) => seen.push(e.commandKey));
    const reads = countReads();
    await c.execute();
    expect(seen).toEqual(['GlobalListener']);
    expect(reads()).toBeGreaterThan(0);
  });
});
