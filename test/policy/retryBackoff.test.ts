import { describe, expect, it } from 'vitest';
import type { RetryBackoffConfig } from '../../src/config/options.js';
import { retryBackoff } from '../../src/policy/retryBackoff.js';
import { RetryBudget } from '../../src/policy/RetryBudget.js';
import { seededRandom } from '../support/seededRandom.js';


const backoff = (jitter: RetryBackoffConfig['jitter']): RetryBackoffConfig => ({ initial: 100, max: 1000, multiplier: 2, jitter });

describe('retryBackoff', () => {
  it("'none' waits initial × multiplier^(n−1), capped at max", () => {
    const waits = [1, 2, 3, 4, 5, 6].map((n) => retryBackoff(backoff('none'), n, 0, () => 0.5));
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("'full' stays in [0, base) and spreads over it", () => {
    const random = seededRandom(1);
    for (let n = 1; n <= 6; n++) {
      const base = Math.min(1000, 100 * 2 ** (n - 1));
      const waits = Array.from({ length: 500 }, () => retryBackoff(backoff('full'), n, 0, random));
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...waits)).toBeLessThan(base);
      expect(Math.min(...waits)).toBeLessThan(base * 0.1);
      expect(Math.max(...waits)).toBeGreaterThan(base * 0.9);
    }
    // the extremes of the random source map to the ends of the range
    expect(retryBackoff(backoff('full'), 3, 0, () => 0)).toBe(0);
  });

  it("'equal' stays in [base/2, base)", () => {
    const random = seededRandom(2);
    for (let n = 1; n <= 6; n++) {
      const base = Math.min(1000, 100 * 2 ** (n - 1));
      const waits = Array.from({ length: 500 }, () => retryBackoff(backoff('equal'), n, 0, random));
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(base / 2);
      expect(Math.max(...waits)).toBeLessThan(base);
    }
    expect(retryBackoff(backoff('equal'), 2, 0, () => 0)).toBe(100);
  });

  it("'decorrelated' stays in [initial, min(max, previous × multiplier))", () => {
    const random = seededRandom(3);
    let previous = 0;
    for (let n = 1; n <= 50; n++) {
      const wait = retryBackoff(backoff('decorrelated'), n, previous, random);
      const upper = Math.min(1000, (n === 1 ? 100 : previous) * 2);
      expect(wait).toBeGreaterThanOrEqual(100);
      expect(wait).toBeLessThanOrEqual(upper);
      previous = wait;
    }
    expect(retryBackoff(backoff('decorrelated'), 1, 0, () => 0)).toBe(100);
    expect(retryBackoff(backoff('decorrelated'), 4, 900, () => 0.999999)).toBeCloseTo(1000, 2);
  });
});

describe('RetryBudget', () => {
  it('allows extra ≤ ratio × first attempts + minPerSecond × window seconds over the rolling window', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1 }, 10_000, 10);
    for (let i = 0; i < 100; i++) budget.deposit(0);
    let granted = 0;
    while (budget.tryWithdraw(0)) granted++;
    expect(granted).toBe(0.2 * 100 + 1 * 10);
    expect(budget.counted(0)).toEqual({ first: 100, extra: 30 });
    // once the window has rolled past, the old attempts no longer count either way
    expect(budget.counted(10_000)).toEqual({ first: 0, extra: 0 });
    expect(budget.allows(10_000)).toBe(true);
  });

  it('with `budget: false` allows every extra attempt', () => {
    const budget = new RetryBudget(false, 10_000, 10);
    for (let i = 0; i < 1000; i++) expect(budget.tryWithdraw(0)).toBe(true);
  });
});
