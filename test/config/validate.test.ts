import { beforeEach, describe, expect, it } from 'vitest';
import { command, configure, isConfigError, metricsFor } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';

beforeEach(() => resetBreakwater());

const run = async () => 1;

function errorOf(fn: () => unknown): Error & { option?: string; value?: unknown } {
  try {
    fn();
  } catch (e) {
    return e as Error & { option?: string; value?: unknown };
  }
  throw new Error('expected a throw');
}

describe('option validation at construction', () => {
  const cases: [string, Record<string, unknown>, RegExp, 'RangeError' | 'TypeError'][] = [
    ['negative timeout', { timeout: -1 }, /`timeout` must be a number of ms between 1 and 2147483647, or false, got -1 \(number\)/, 'RangeError'],
    ['NaN timeout', { timeout: Number.NaN }, /`timeout`.*got NaN/, 'RangeError'],
    ['Infinity timeout', { timeout: Infinity }, /`timeout`.*got Infinity/, 'RangeError'],
    ['timeout above 2^31-1', { timeout: 2 ** 31 }, /`timeout`.*got 2147483648/, 'RangeError'],
    ['timeout true', { timeout: true }, /`timeout`.*got true \(boolean\)/, 'TypeError'],
    ['string timeout', { timeout: '100' }, /`timeout`.*got "100" \(string\)/, 'TypeError'],
    ['unknown isolation', { isolation: 'thread' }, /`isolation` must be one of 'semaphore', 'pool', 'adaptive', got "thread"/, 'RangeError'],
    ['negative sleep window', { circuitBreaker: { sleepWindow: -1 } }, /`circuitBreaker.sleepWindow` must be a finite number between 0 and 2147483647 \(ms\), got -1/, 'RangeError'],
    ['percentage over 100', { circuitBreaker: { errorThresholdPercentage: 101 } }, /`circuitBreaker.errorThresholdPercentage` must be .*between 0 and 100.*got 101/, 'RangeError'],
    ['fractional volume', { circuitBreaker: { requestVolumeThreshold: 1.5 } }, /`circuitBreaker.requestVolumeThreshold` must be an integer/, 'RangeError'],
    ['zero maxConcurrent', { maxConcurrent: 0 }, /`maxConcurrent` must be an integer between 1/, 'RangeError'],
    ['string forceOpen', { circuitBreaker: { forceOpen: 'false' } }, /`circuitBreaker.forceOpen` must be a boolean, got "false"/, 'TypeError'],
    ['indivisible window', { metrics: { rollingWindow: 10000, rollingBuckets: 3 } }, /`metrics.rollingWindow` must be divisible by metrics.rollingBuckets \(3\), got 10000/, 'RangeError'],
    ['indivisible percentile window', { metrics: { percentileWindow: 1000, percentileBuckets: 7 } }, /`metrics.percentileWindow` must be divisible/, 'RangeError'],
    ['zero health interval', { metrics: { healthSnapshotInterval: 0 } }, /`metrics.healthSnapshotInterval`/, 'RangeError'],
    ['unknown option (typo)', { timout: 100 }, /`timout` must be one of the known options.*; did you mean `timeout`\?$/, 'TypeError'],
    ['unknown nested option (typo)', { circuitBreaker: { sleepWindw: 1 } }, /; did you mean `circuitBreaker.sleepWindow`\?$/, 'TypeError'],
    ['unknown option in another case', { MaxConcurrent: 1 }, /; did you mean `maxConcurrent`\?$/, 'TypeError'],
    ['unknown nested option', { circuitBreaker: { sleepWindowMs: 1 } }, /`circuitBreaker.sleepWindowMs`/, 'TypeError'],
    ['empty group', { group: '' }, /`group` must be a non-empty string, got ""/, 'RangeError'],
    ['pool coreSize 0', { pool: { coreSize: 0 } }, /`pool.coreSize`/, 'RangeError'],
    ['rate limit without refill', { rateLimit: { capacity: 10 } }, /`rateLimit.refillPerSecond`/, 'TypeError'],
    ['metrics not an object', { metrics: 5 }, /`metrics` must be an object, got 5/, 'TypeError'],
  ];
  for (const [name, options, message, kind] of cases) {
    it(`refuses ${name}`, () => {
      const error = errorOf(() => command({ key: 'V', run, ...options } as never));
      expect(error.name).toBe(kind);
      expect(error).toBeInstanceOf(kind === 'RangeError' ? RangeError : TypeError);
      expect(error.message).toMatch(message);
      expect(isConfigError(error)).toBe(true);
    });
  }

  it('refuses a missing key, an empty key, a missing run and a non-function fallback', () => {
    expect(errorOf(() => command({ run } as never)).message).toMatch(/`key` must be a non-empty string, got undefined/);
    expect(errorOf(() => command({ key: '', run })).message).toMatch(/`key` must be a non-empty string, got ""/);
    expect(errorOf(() => command({ key: 'K' } as never)).message).toMatch(/`run` must be a function, got undefined/);
    expect(errorOf(() => command({ key: 'K', run, fallback: 5 } as never)).message).toMatch(/`fallback` must be a function, got 5/);
    expect(errorOf(() => command(null as never)).message).toMatch(/`command` must be an object, got null/);
  });

  it('lists each known option once in the unknown-option message, and suggests nothing when no name is close', () => {
    const typo = errorOf(() => command({ key: 'V', run, timout: 1 } as never));
    const listed = /known options \(([^)]*)\)/.exec(typo.message)![1]!.split(', ');
    expect(listed).toContain('run');
    expect(listed).toContain('fallback');
    expect(new Set(listed).size).toBe(listed.length);
    const far = errorOf(() => command({ key: 'V', run, banana: 1 } as never));
    expect(far.message).not.toMatch(/did you mean/);
    expect(errorOf(() => configure({ default: {} } as never)).message).toMatch(/did you mean `configure.defaults`\?$/);
  });

  it('ignores __proto__ keys in JSON-parsed options (no prototype pollution, no effect)', () => {
    const options = JSON.parse('{"key":"Proto","__proto__":{"timeout":5,"polluted":true},"circuitBreaker":{"__proto__":{"forceOpen":true}}}');
    const c = command({ ...options, run });
    expect(c.config.timeout).toBe(1000);
    expect(c.config.circuitBreaker.forceOpen).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts unicode and very long keys', async () => {
    const key = 'Utilisateur-ユーザー-😀-' + 'x'.repeat(5000);
    const c = command({ key, run });
    await expect(c.execute()).resolves.toBe(1);
    expect(metricsFor(key).snapshot().rolling.SUCCESS).toBe(1);
  });
});

describe('configure validation', () => {
  it('is all-or-nothing: a bad value anywhere changes nothing', () => {
    const c = command({ key: 'Atomic', run });
    expect(() => configure({ defaults: { timeout: 50 }, commands: { Atomic: { timeout: -5 } } })).toThrow(/`commands.Atomic.timeout`/);
    expect(c.config.timeout).toBe(1000);
  });

  it('names pool and limiter options by path', () => {
    expect(() => configure({ pools: { Users: { coreSize: -1 } } })).toThrow(/`pools.Users.coreSize`/);
    expect(() => configure({ limiters: { api: { capacity: 0, refillPerSecond: 1 } } })).toThrow(/`limiters.api.capacity`/);
    expect(() => configure({ clock: {} as never })).toThrow(/`clock` must be a Clock/);
    expect(() => configure({ nonsense: 1 } as never)).toThrow(/`configure.nonsense`/);
  });

  it('layers defaults < own options < per-key overrides', () => {
    configure({ defaults: { timeout: 200, maxConcurrent: 3 } });
    const c = command({ key: 'Layers', timeout: 300, run });
    expect([c.config.timeout, c.config.maxConcurrent]).toEqual([300, 3]);
    configure({ commands: { Layers: { timeout: 400 } } });
    void c.execute();
    expect(c.config.timeout).toBe(400);
  });
});

describe('configure keys', () => {
  it('configures commands whose keys are constructor, prototype or __proto__, touching nothing else', () => {
    const options = JSON.parse('{"commands":{"__proto__":{"timeout":5},"constructor":{"timeout":6},"prototype":{"timeout":7}}}');
    const a = command({ key: '__proto__', run });
    const b = command({ key: 'constructor', run });
    const c = command({ key: 'prototype', run });
    const other = command({ key: 'Other', run });
    configure(options);
    void [a, b, c, other].map((h) => h.execute());
    expect([a.config.timeout, b.config.timeout, c.config.timeout, other.config.timeout]).toEqual([5, 6, 7, 1000]);
    expect(({} as Record<string, unknown>).timeout).toBeUndefined();
  });
});
