import type { RetryBackoffConfig } from '../config/options.js';

/**
 * The wait (ms) before retry number `retry` (1 for the first retry): `initial × multiplier^(retry − 1)` capped at
 * `max`, then jittered (the names and formulas of the AWS Architecture Blog's "Exponential Backoff and Jitter"):
 *
 * - `'none'`: that value;
 * - `'full'`: uniform in [0, value);
 * - `'equal'`: value / 2 plus uniform in [0, value / 2);
 * - `'decorrelated'`: uniform in [initial, previous × multiplier), capped at `max` (`previous` is the wait before
 *   the last retry, `initial` before the first), so the waits grow on average without marching in step.
 *
 * Pure: `random` returns a number in [0, 1) (`Math.random` in the executor, a seeded one in tests).
 *
 * @internal
 */
export function retryBackoff(config: RetryBackoffConfig, retry: number, previousMs: number, random: () => number): number {
  const { initial, max, multiplier } = config;
  switch (config.jitter) {
    case 'decorrelated': {
      const from = Math.min(initial, max);
      const to = Math.min(max, Math.max(from, (retry <= 1 ? initial : previousMs) * multiplier));
      return from + random() * (to - from);
    }
    case 'full':
      return random() * base(initial, max, multiplier, retry);
    case 'equal': {
      const half = base(initial, max, multiplier, retry) / 2;
      return half + random() * half;
    }
    default:
      return base(initial, max, multiplier, retry);
  }
}

function base(initial: number, max: number, multiplier: number, retry: number): number {
  return Math.min(max, initial * multiplier ** (retry - 1));
}
