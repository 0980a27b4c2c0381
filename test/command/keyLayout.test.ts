/**
 * What a command key holds (issue 13 item 4, memory per key): the parts most keys never use are made on first use,
 * released with the key, and behave exactly as when they were made up front.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { circuitBreakerFor, command, configure, events, metricsFor } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { healthSnapshot } from '../../src/metrics/HealthCounts.js';
import { FakeClock, resetBreakwater, useFakeClock } from '../../src/testing.js';

/** A runtime's private parts, read to check that they are made lazily (and only then). */
interface RuntimeInsides {
  breaker: { onTimer: (() => void) | null };
}

function insides(key: string): RuntimeInsides {
  return existingRuntime(key) as unknown as RuntimeInsides;
}

const ok = (): string => 'ok';
const fails = (): never => {
  throw new Error('down');
};

describe('a key makes the parts it rarely uses on first use', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = useFakeClock();
  });

  it("the breaker's health timer callback: none until a timer is armed, then one, reused, and the timer still trips", () => {
    const cmd = command({ key: 'Timed', run: fails, fallback: () => 'fb', circuitBreaker: { requestVolumeThreshold: 2 } });
    expect(insides('Timed').breaker.onTimer).toBeNull();
    cmd.executeSync(); // evaluates at once (no snapshot yet)
    expect(insides('Timed').breaker.onTimer).toBeNull();
    clock.advance(100);
    cmd.executeSync(); // within the health interval: arms the timer
    const callback = insides('Timed').breaker.onTimer;
    expect(callback).toBeTypeOf('function');
    expect(circuitBreakerFor('Timed').state).toBe('CLOSED');
    clock.advance(400); // the timer evaluates: 2 requests, 100 % errors
    expect(circuitBreakerFor('Timed').state).toBe('OPEN');
    circuitBreakerFor('Timed').reset();
    cmd.executeSync();
    clock.advance(100);
    cmd.executeSync();
    expect(insides('Timed').breaker.onTimer).toBe(callback);
    expect(clock.pendingTimers).toBe(1);
    resetBreakwater();
    expect(clock.pendingTimers).toBe(0); // released with the key
  });

  it("transitions reach the key's and the global listeners, and a metrics snapshot reads the breaker's state", () => {
    const cmd = command({ key: 'Emits', run: ok });
    const seen: string[] = [];
    cmd.events.on('circuitOpen', (e) => seen.push(`key ${e.from}→${e.to}`));
    expect(metricsFor('Emits').snapshot().circuit).toBe('CLOSED');
    circuitBreakerFor('Emits').forceOpen();
    expect(metricsFor('Emits').snapshot().circuit).toBe('OPEN');
    circuitBreakerFor('Emits').reset();
    const failing = command({ key: 'Emits2', run: fails, fallback: () => 'fb', circuitBreaker: { requestVolumeThreshold: 1 } });
    failing.events.on('circuitOpen', (e) => seen.push(`key2 ${e.from}→${e.to}`));
    const global = (e: { commandKey: string }): number => seen.push(`global ${e.commandKey}`);
    events.on('circuitOpen', global);
    try {
      failing.executeSync();
    } finally {
      events.off('circuitOpen', global);
    }
    expect(seen).toEqual(['key2 CLOSED→OPEN', 'global Emits2']);
    expect(metricsFor('Emits2').snapshot().circuit).toBe('OPEN');
    void cmd;
  });
});

describe('a key holds only the state of its own kind of window', () => {
  beforeEach(() => {
    useFakeClock();
  });

  it('the no-window state exists only while the key has no rolling window, and follows configure() switches', () => {
    const noWindow = (key: string): unknown => (existingRuntime(key)!.metrics as unknown as { noWindow: unknown }).noWindow;
    command({ key: 'Windowed', run: ok }).executeSync();
    expect(noWindow('Windowed')).toBeNull();
    const bare = command({ key: 'Bare', run: ok, metrics: { rollingWindow: false }, circuitBreaker: { strategy: 'consecutive' } });
    bare.executeSync();
    expect(noWindow('Bare')).not.toBeNull();
    expect(metricsFor('Bare').snapshot().rolling.SUCCESS).toBe(1);
    configure({ commands: { Bare: { metrics: { rollingWindow: 10_000 } } } });
    expect(noWindow('Bare')).toBeNull();
    bare.executeSync();
    expect(metricsFor('Bare').cumulativeCount('SUCCESS')).toBe(2);
    configure({ commands: { Bare: { metrics: { rollingWindow: false }, circuitBreaker: { strategy: 'consecutive' } } } });
    expect(noWindow('Bare')).not.toBeNull();
    expect(metricsFor('Bare').cumulativeCount('SUCCESS')).toBe(2);
  });
});

describe('keys share what is the same for all of them', () => {
  beforeEach(() => {
    useFakeClock();
  });

  it('error-free health snapshots are frozen and shared by request count; others are per key', () => {
    expect(healthSnapshot(7, 0)).toBe(healthSnapshot(7, 0));
    expect(Object.isFrozen(healthSnapshot(7, 0))).toBe(true);
    expect(healthSnapshot(7, 0)).toEqual({ requestCount: 7, errorCount: 0, errorPercentage: 0 });
    expect(healthSnapshot(0, 0)).toEqual({ requestCount: 0, errorCount: 0, errorPercentage: 0 });
    expect(healthSnapshot(7, 2)).not.toBe(healthSnapshot(7, 2));
    expect(healthSnapshot(7, 2)).toEqual({ requestCount: 7, errorCount: 2, errorPercentage: 28 });
    expect(healthSnapshot(5000, 0)).toEqual({ requestCount: 5000, errorCount: 0, errorPercentage: 0 });
    const a = command({ key: 'HealthA', run: ok });
    const b = command({ key: 'HealthB', run: ok });
    for (let i = 0; i < 3; i++) {
      a.executeSync();
      b.executeSync();
    }
    expect(circuitBreakerFor('HealthA').health).toEqual({ requestCount: 1, errorCount: 0, errorPercentage: 0 });
    expect(circuitBreakerFor('HealthA').health).toBe(circuitBreakerFor('HealthB').health);
  });

  it('keys without adaptive options share the frozen adaptive defaults; options make their own', () => {
    const a = command({ key: 'AdA', run: ok });
    const b = command({ key: 'AdB', run: ok, group: 'Other' });
    const own = command({ key: 'AdC', run: ok, isolation: 'adaptive', adaptive: { initialLimit: 30 } });
    expect(a.config.adaptive).toBe(b.config.adaptive);
    expect(Object.isFrozen(a.config.adaptive)).toBe(true);
    expect(a.config.adaptive).toMatchObject({ algorithm: 'vegas', initialLimit: 20, minLimit: 1, maxLimit: 1000 });
    expect(own.config.adaptive).not.toBe(a.config.adaptive);
    expect(own.config.adaptive).toMatchObject({ algorithm: 'vegas', initialLimit: 30 });
    configure({ commands: { AdA: { adaptive: { algorithm: 'aimd' } } } });
    a.executeSync();
    expect(a.config.adaptive).toMatchObject({ algorithm: 'aimd', minLimit: 20 });
    expect(b.config.adaptive.algorithm).toBe('vegas');
  });
});
