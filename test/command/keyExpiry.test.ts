import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  allPools,
  circuitBreakerFor,
  Command,
  command,
  commandKeys,
  configure,
  hystrixDashboardSample,
  metricsFor,
  registerPrometheus,
} from '../../src/index.js';
import { existingRuntime, keySweep } from '../../src/command/CommandRuntime.js';
import { sweepInterval, SWEEP_SLICE } from '../../src/command/KeySweep.js';
import { FakeClock, resetBreakwater, useFakeClock } from '../../src/testing.js';
import * as legacy from '../fixtures/legacy-decorators/services.js';
import * as standard from '../fixtures/standard-decorators/services.js';

const ok = (): string => 'ok';
/** The default keyExpiry (5 min) plus the longest sweep interval (1 min): by then an idle key is gone. */
const EXPIRED = 300_000 + 60_000;

function hasKey(key: string): boolean {
  return commandKeys().includes(key);
}

describe('key expiry', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = useFakeClock();
  });

  it('releases an idle CLOSED key from every registry without any call, and keeps its configure() layers', async () => {
    configure({ commands: { Idle: { timeout: 123 } } });
    const idle = command({ key: 'Idle', run: ok });
    await idle.execute();
    const registry = new Registry();
    registerPrometheus(registry);
    expect(hasKey('Idle')).toBe(true);
    expect(await registry.metrics()).toContain('Idle');
    clock.advance(300_000 - 1);
    expect(hasKey('Idle')).toBe(true); // not before keyExpiry
    clock.advance(60_001);
    expect(hasKey('Idle')).toBe(false);
    expect(() => metricsFor('Idle')).toThrow(RangeError);
    expect(hystrixDashboardSample().some((o) => o.name === 'Idle')).toBe(false);
    expect(await registry.metrics()).not.toContain('Idle');
    // the layer stays: a new command of that key resolves it again
    expect(command({ key: 'Idle', run: ok }).config.timeout).toBe(123);
    expect(clock.pendingTimers).toBe(0); // the sweep is housekeeping, not a leaked timer
  });

  it('starts the key afresh from a handle still held: cumulative counts restart, the stream sees the new runtime', async () => {
    const held = command({ key: 'Held', run: ok });
    await held.execute();
    await held.execute();
    const before = existingRuntime('Held')!;
    expect(metricsFor('Held').cumulativeCount('SUCCESS')).toBe(2);
    clock.advance(EXPIRED);
    expect(hasKey('Held')).toBe(false);
    expect(before.released).toBe(true);
    expect(await held.execute()).toBe('ok');
    const after = existingRuntime('Held')!;
    expect(after).not.toBe(before);
    expect(metricsFor('Held').cumulativeCount('SUCCESS')).toBe(1);
    expect(before.metrics.cumulativeCount('SUCCESS')).toBe(2); // nothing written into the detached runtime
    expect(hystrixDashboardSample().some((o) => o.name === 'Held')).toBe(true);
    expect(held.events).toBe(after.events);
  });

  it('revives a class-style instance built before its key expired, and a second handle joins the revived runtime', async () => {
    class Slow extends Command<string> {
      constructor() {
        super({ key: 'ClassKey' });
      }
      protected run(): string {
        return 'class';
      }
    }
    const other = command({ key: 'ClassKey', run: ok });
    await other.execute();
    const built = new Slow();
    clock.advance(EXPIRED);
    expect(hasKey('ClassKey')).toBe(false);
    expect(await built.execute()).toBe('class');
    const revived = existingRuntime('ClassKey')!;
    expect(revived.released).toBe(false);
    await other.execute();
    expect(existingRuntime('ClassKey')).toBe(revived);
    expect(metricsFor('ClassKey').cumulativeCount('SUCCESS')).toBe(2);
  });

  it.each([
    ['standard (TC39)', standard],
    ['legacy', legacy],
  ] as const)('revives the key of a %s decorated method after it expired', async (_name, fixture) => {
    const { UserClient } = fixture.defineServices();
    const client = new UserClient();
    expect((await client.getUser('1')).name).toBe('user-1');
    expect(client.double(2)).toBe(4);
    const before = existingRuntime('UserClient.getUser')!;
    clock.advance(EXPIRED);
    expect(hasKey('UserClient.getUser')).toBe(false);
    expect(hasKey('UserClient.double')).toBe(false);
    expect((await client.getUser('2')).name).toBe('user-2');
    expect(client.double(3)).toBe(6);
    expect(existingRuntime('UserClient.getUser')).not.toBe(before);
    expect(metricsFor('UserClient.getUser').cumulativeCount('SUCCESS')).toBe(1);
    expect(metricsFor('UserClient.double').cumulativeCount('SUCCESS')).toBe(1);
  });

  it('keeps a key whose circuit is OPEN, HALF_OPEN or forced', async () => {
    const failing = command({
      key: 'Tripped',
      run: () => {
        throw new Error('down');
      },
      fallback: () => 'fb',
      circuitBreaker: { requestVolumeThreshold: 1, sleepWindow: 10_000_000 },
    });
    await failing.execute();
    clock.advance(500);
    await failing.execute();
    expect(circuitBreakerFor('Tripped').state).toBe('OPEN');
    const forced = command({ key: 'Forced', run: ok });
    await forced.execute();
    circuitBreakerFor('Forced').forceClosed();
    configure({ commands: { ForcedByConfig: { circuitBreaker: { forceOpen: true } } } });
    await command({ key: 'ForcedByConfig', run: ok, fallback: () => 'fb' }).execute();
    clock.advance(EXPIRED * 3);
    expect(hasKey('Tripped')).toBe(true);
    expect(hasKey('Forced')).toBe(true);
    expect(hasKey('ForcedByConfig')).toBe(true);
    circuitBreakerFor('Tripped').reset();
    circuitBreakerFor('Forced').reset();
    clock.advance(60_000); // idle long enough already: gone at the next sweep
    expect(hasKey('Tripped')).toBe(false);
    expect(hasKey('Forced')).toBe(false);
    expect(hasKey('ForcedByConfig')).toBe(true);
  });

  it('keeps a key with a call in flight (running, queued in its pool, waiting for a token) until it settles', async () => {
    let finish: (v: string) => void = () => undefined;
    const running = command({ key: 'Running', timeout: false, run: () => new Promise<string>((r) => (finish = r)) });
    const pending = running.execute();
    // queued: one slot, a queue of one
    let release: (v: string) => void = () => undefined;
    const pooled = command({
      key: 'Queued',
      timeout: false,
      isolation: 'pool',
      pool: { key: 'QueuePool', coreSize: 1, maxQueueSize: 1, queueSizeRejectionThreshold: 1 },
      run: () => new Promise<string>((r) => (release = r)),
    });
    const first = pooled.execute();
    const second = command({
      key: 'QueuedToo',
      timeout: false,
      isolation: 'pool',
      pool: 'QueuePool',
      run: ok,
    }).execute();
    // waiting for a token: an empty, slow bucket and a long maxWait
    const limited = command({ key: 'Waiting', timeout: false, rateLimit: { capacity: 1, refillPerSecond: 1 / 3000, maxWait: 10_000_000 }, run: ok });
    await limited.execute();
    const waiting = limited.execute();
    clock.advance(EXPIRED * 2);
    for (const key of ['Running', 'Queued', 'QueuedToo', 'Waiting']) expect(hasKey(key)).toBe(true);
    expect(allPools().map((p) => p.key)).toContain('QueuePool');
    finish('done');
    release('done');
    await expect(pending).resolves.toBe('done');
    await expect(first).resolves.toBe('done');
    await expect(second).resolves.toBe('ok');
    clock.advance(EXPIRED);
    expect(hasKey('Running')).toBe(false);
    expect(hasKey('Queued')).toBe(false);
    expect(hasKey('QueuedToo')).toBe(false);
    expect(allPools().map((p) => p.key)).not.toContain('QueuePool');
    expect(hasKey('Waiting')).toBe(true); // still waiting (its token is due at 3,000 s)
    clock.advance(2_000_000);
    await expect(waiting).resolves.toBe('ok');
    // its own bucket is empty again after that call: kept past keyExpiry until it is full (at 6,000 s), then released
    clock.advance(EXPIRED);
    expect(hasKey('Waiting')).toBe(true);
    clock.advance(3_000_000);
    expect(hasKey('Waiting')).toBe(false);
  });

  it('keeps a key whose fallback is still running', async () => {
    let finish: (v: string) => void = () => undefined;
    const slowFallback = command({
      key: 'InFallback',
      run: () => {
        throw new Error('down');
      },
      fallback: () => new Promise<string>((r) => (finish = r)),
    });
    const call = slowFallback.execute();
    clock.advance(EXPIRED * 2);
    expect(hasKey('InFallback')).toBe(true);
    finish('fb');
    await expect(call).resolves.toBe('fb');
    clock.advance(EXPIRED);
    expect(hasKey('InFallback')).toBe(false);
  });

  it('keeps a run that outlived its timeout until it really settles', async () => {
    let finish: () => void = () => undefined;
    const late = command({ key: 'Late', timeout: 100, run: () => new Promise<void>((r) => (finish = r)), fallback: () => undefined });
    const call = late.execute();
    clock.advance(100);
    await call; // the caller got its fallback; the run still holds its permit
    clock.advance(EXPIRED * 2);
    expect(hasKey('Late')).toBe(true);
    finish();
    await Promise.resolve();
    clock.advance(EXPIRED);
    expect(hasKey('Late')).toBe(false);
  });

  it('keeps a pool shared by two keys while one of them lives, and releases it with the last', async () => {
    const a = command({ key: 'UserA', isolation: 'pool', pool: 'Shared', run: ok });
    const b = command({ key: 'UserB', isolation: 'pool', pool: 'Shared', run: ok });
    await a.execute();
    await b.execute();
    const pool = allPools().find((p) => p.key === 'Shared')!;
    for (let t = 0; t < EXPIRED; t += 60_000) {
      clock.advance(60_000);
      await b.execute();
    }
    expect(hasKey('UserA')).toBe(false);
    expect(hasKey('UserB')).toBe(true);
    expect(allPools().find((p) => p.key === 'Shared')).toBe(pool);
    expect(pool.snapshot().cumulativeExecuted).toBeGreaterThan(2);
    clock.advance(EXPIRED);
    expect(hasKey('UserB')).toBe(false);
    expect(allPools().some((p) => p.key === 'Shared')).toBe(false);
    await a.execute(); // the held handle brings the pool back too
    expect(allPools().some((p) => p.key === 'Shared')).toBe(true);
  });

  it('keeps a key whose count-based strategy holds a failure, and releases it once a success clears it', async () => {
    let fail = true;
    const counted = command({
      key: 'Counted',
      circuitBreaker: { strategy: 'consecutive', consecutiveFailures: 3 },
      run: () => {
        if (fail) throw new Error('down');
        return 'ok';
      },
      fallback: () => 'fb',
    });
    await counted.execute();
    clock.advance(EXPIRED * 2);
    expect(hasKey('Counted')).toBe(true); // a fresh breaker would forget the failure in a row
    fail = false;
    await counted.execute();
    clock.advance(EXPIRED);
    expect(hasKey('Counted')).toBe(false);
  });

  it('keeps a key whose own events have a listener (the listener holds it)', async () => {
    const watched = command({ key: 'Watched', run: ok });
    const listener = vi.fn();
    watched.events.on('success', listener);
    await watched.execute();
    clock.advance(EXPIRED * 2);
    expect(hasKey('Watched')).toBe(true);
    watched.events.off('success', listener);
    clock.advance(60_000);
    expect(hasKey('Watched')).toBe(false);
  });

  it('never releases a key before its own longest metrics window has passed since its last execution', async () => {
    configure({ keyExpiry: 1000 });
    const short = command({ key: 'Short', run: ok, metrics: { percentileEnabled: false, percentileWindow: 60_000, rollingWindow: 10_000 } });
    const long = command({ key: 'LongWindow', run: ok, metrics: { percentileWindow: 120_000, percentileBuckets: 6 } });
    await short.execute();
    await long.execute();
    expect(sweepInterval(1000)).toBe(1000);
    clock.advance(59_999);
    expect(hasKey('Short')).toBe(true); // its percentile window (even off) is 60 s
    clock.advance(1001);
    expect(hasKey('Short')).toBe(false);
    clock.advance(60_000 - 1001 - 1);
    expect(hasKey('LongWindow')).toBe(true);
    clock.advance(1002);
    expect(hasKey('LongWindow')).toBe(false);
  });

  it('never releases anything with keyExpiry: false, and resumes the sweep when it is set again', async () => {
    configure({ keyExpiry: false });
    await command({ key: 'Forever', run: ok }).execute();
    clock.advance(EXPIRED * 10);
    expect(hasKey('Forever')).toBe(true);
    configure({ keyExpiry: 60_000 });
    clock.advance(15_000);
    expect(hasKey('Forever')).toBe(false);
  });

  it('follows a new clock: the sweep moves to it', async () => {
    await command({ key: 'Moved', run: ok }).execute();
    const next = new FakeClock(0);
    configure({ clock: next }); // keeps the keys
    clock.advance(EXPIRED * 2); // the old clock no longer drives anything
    expect(hasKey('Moved')).toBe(true);
    next.advance(EXPIRED * 2);
    expect(hasKey('Moved')).toBe(false);
  });

  it('sweeps many keys in slices, one slice per timer turn', async () => {
    configure({ keyExpiry: 60_000 });
    const keys = SWEEP_SLICE * 2 + 10;
    for (let i = 0; i < keys; i++) command({ key: `Many-${i}`, run: ok }).executeSync();
    const spy = vi.spyOn(clock, 'setTimer');
    clock.advance(75_000);
    expect(commandKeys()).toHaveLength(0);
    // the first sweep found every key idle: three slices, each re-arming the timer (0 ms) for the next
    const zeroDelays = spy.mock.calls.filter(([, delay]) => delay === 0).length;
    expect(zeroDelays).toBeGreaterThanOrEqual(2);
  });

  it('refuses a bad keyExpiry with an error naming the option and value, and changes nothing', () => {
    for (const bad of [-1, 0, Infinity, Number.NaN, 2 ** 31, '300000', true, null]) {
      expect(() => configure({ keyExpiry: bad as never })).toThrow(/keyExpiry/);
    }
    expect(() => configure({ keyExpiry: -5 })).toThrow(RangeError);
    expect(() => configure({ keyExpiry: '5' as never })).toThrow(TypeError);
    expect(() => configure({ keyExpiry: -5 })).toThrow(/-5/);
    expect(() => configure({ keyExpiry: false, commands: { K: { timeout: -1 } } })).toThrow(/timeout/);
    configure({ keyExpiry: 1000 });
    configure({ keyExpiry: false });
  });
});

describe('configure() cost', () => {
  beforeEach(() => {
    useFakeClock();
  });

  it('re-resolves only the keys a per-key override names, every key for new defaults', () => {
    const a = command({ key: 'CfgA', run: ok });
    command({ key: 'CfgB', run: ok });
    const spyA = vi.spyOn(existingRuntime('CfgA')!, 'reconfigure');
    const spyB = vi.spyOn(existingRuntime('CfgB')!, 'reconfigure');
    configure({ commands: { CfgA: { circuitBreaker: { forceOpen: true } } } });
    expect(spyA).toHaveBeenCalledTimes(1);
    expect(spyB).not.toHaveBeenCalled();
    expect(circuitBreakerFor('CfgA').state).toBe('OPEN'); // at once, without a call
    configure({ pools: { SomePool: { coreSize: 3 } }, limiters: { L: { capacity: 1, refillPerSecond: 1 } } });
    expect(spyB).not.toHaveBeenCalled();
    configure({ defaults: { timeout: 50 } });
    expect(spyB).toHaveBeenCalledTimes(1);
    expect(existingRuntime('CfgA')!.config.timeout).toBe(50);
    expect(a.config.timeout).toBe(1000); // a handle re-resolves at its next call
    expect(() => a.executeSync()).toThrow(/short-circuited/); // forced open by the override
    expect(a.config.timeout).toBe(50);
  });
});

describe('resetBreakwater()', () => {
  it('detaches every runtime: a handle held across it starts its key afresh', async () => {
    useFakeClock();
    const held = command({ key: 'AcrossReset', run: ok });
    await held.execute();
    const old = existingRuntime('AcrossReset')!;
    resetBreakwater();
    expect(old.released).toBe(true);
    expect(keySweep).toBeDefined();
    await held.execute();
    expect(existingRuntime('AcrossReset')).not.toBe(old);
    expect(metricsFor('AcrossReset').cumulativeCount('SUCCESS')).toBe(1);
  });
});

