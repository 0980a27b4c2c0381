import type { TokenBucketOptions } from '../config/options.js';
import { normalizeBucket } from '../config/resolve.js';
import { getClock } from '../config/store.js';

/**
 * A token bucket: holds at most `capacity` tokens and refills continuously at `refillPerSecond`, lazily from the
 * clock (no timers). `tryTake(n)` never waits.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 50 });
 * if (!bucket.tryTake()) throw new Error('slow down');
 * ```
 */
export class TokenBucket {
  /** The validated options. */
  readonly options: Required<TokenBucketOptions>;
  private tokens: number;
  private updatedAt: number;

  constructor(options: TokenBucketOptions) {
    const o = normalizeBucket(options, 'TokenBucket');
    this.options = Object.freeze({
      capacity: o.capacity,
      refillPerSecond: o.refillPerSecond,
      initialTokens: o.initialTokens ?? o.capacity,
      warmupPeriod: o.warmupPeriod ?? 0,
      coldFactor: o.coldFactor ?? 3,
    });
    this.tokens = this.options.initialTokens;
    this.updatedAt = getClock().now();
  }

  /** Tokens available at `now` (fractional). */
  available(now: number = getClock().now()): number {
    this.refill(now);
    return this.tokens;
  }

  /** Takes `n` tokens if they are all there; never waits. */
  tryTake(n = 1, now: number = getClock().now()): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    if (elapsed <= 0) {
      if (elapsed < 0) this.updatedAt = now; // the clock went back: refill from here, never mint tokens
      return;
    }
    this.updatedAt = now;
    this.tokens = Math.min(this.options.capacity, this.tokens + (elapsed * this.options.refillPerSecond) / 1000);
  }
}
