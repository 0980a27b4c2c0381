import type { TokenBucketOptions } from '../config/options.js';
import { normalizeBucket } from '../config/resolve.js';
import { getClock } from '../config/store.js';
import { expectNumber, readKnown } from '../config/validate.js';
import { configError } from '../errors.js';
import type { TimerHandle } from '../time/Clock.js';
import type { Limiter } from './Limiter.js';
import { WarmUp } from './WarmUp.js';

/** Options of {@link TokenBucket.take}. */
export interface TakeOptions {
  /**
   * The longest wait in ms. When the tokens cannot arrive within it, `take` resolves `false` at once (it never
   * waits in vain); a waiter it accepts is answered within it. Behind takes of nearly the whole capacity the
   * bucket allows up to 1 ms per such take for its whole-millisecond timer (docs/rate-limiting.md). `0` answers
   * now, like `tryTake`. @defaultValue Infinity
   */
  readonly maxWait?: number;
  /** Aborting it gives up the place in the queue; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/** @internal a place in a bucket's queue; `cancel()` gives it up (no-op once settled). */
export interface TokenWait {
  cancel(): void;
}

/** Tolerance for float error when comparing fractional token counts. */
const EPS = 1e-9;

/**
 * How long after its tokens are due a waiter may be served: the timer fires on whole milliseconds. A full bucket
 * holds no more than `capacity` meanwhile, so the projection for the waiters behind counts the refill of that
 * millisecond as possibly lost (see `TokenBucket.commit`).
 */
const SERVE_SLACK_MS = 1;

// What TokenBucket.grow computes (two numbers, returned without allocating).
let grownTokens = 0;
let grownCold = 0;

/** @internal a queued take: a doubly linked node owned by its bucket. */
class QueuedTake implements TokenWait {
  prev: QueuedTake | null = null;
  next: QueuedTake | null = null;
  queued = true;
  constructor(
    private readonly bucket: TokenBucket,
    readonly n: number,
    /** Absolute clock time by which the tokens must be there. */
    readonly deadline: number,
    readonly settle: (granted: boolean) => void,
  ) {}

  cancel(): void {
    if (this.queued) this.bucket.cancelWait(this);
  }
}

/**
 * A token bucket: holds at most `capacity` tokens and refills continuously at `refillPerSecond`, lazily from the
 * clock. `tryTake(n)` never waits; `take(n, { maxWait, signal })` waits in a FIFO queue. A timer runs only while
 * somebody waits (one per bucket, through the configured Clock).
 *
 * - Over any interval of T ms it admits at most `capacity + refillPerSecond × T / 1000` tokens.
 * - Waiters are served first come, first served: while anyone waits, `tryTake` answers `false`.
 * - A clock that steps back adds nothing for the step; refill goes on from the new reading.
 * - With `warmupPeriod`, a cold bucket refills at `refillPerSecond / coldFactor` and speeds up to the full rate as
 *   it is used (Guava's `SmoothWarmingUp`: under saturating demand the full rate is reached after `warmupPeriod`);
 *   a full, idle bucket cools down again over `warmupPeriod`. The burst (`capacity`) is not affected. See
 *   docs/rate-limiting.md for the exact model.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ capacity: 100, refillPerSecond: 50 });
 * if (!bucket.tryTake()) throw new Error('slow down');
 * if (await bucket.take(1, { maxWait: 200 })) await send(); // waits up to 200 ms for a token
 * ```
 */
export class TokenBucket implements Limiter {
  /** @internal a local bucket's `tryTake` is final (see {@link Limiter}). */
  readonly remote = false;
  /** The validated options, defaults filled in. */
  readonly options: Readonly<Required<TokenBucketOptions>>;
  private readonly ratePerMs: number;
  private readonly warmUp: WarmUp | null;
  private tokens: number;
  /** Warm-up coldness (0 = warm); always 0 without warm-up. */
  private cold: number;
  /** The clock time of the last refill (moved back with the clock when it steps back). */
  private updatedAt: number;
  private head: QueuedTake | null = null;
  private tail: QueuedTake | null = null;
  private queued = 0;
  // When the last waiter is served at the latest, and what the bucket holds right after (the next waiter's projection).
  private tailAt = 0;
  private tailTokens = 0;
  private tailCold = 0;
  private timer: TimerHandle | null = null;
  private pumping = false;
  private readonly fire = (): void => {
    this.timer = null;
    this.pump();
  };

  constructor(options: TokenBucketOptions) {
    const o = normalizeBucket(options, 'TokenBucket');
    this.options = Object.freeze({
      capacity: o.capacity,
      refillPerSecond: o.refillPerSecond,
      initialTokens: o.initialTokens ?? o.capacity,
      warmupPeriod: o.warmupPeriod ?? 0,
      coldFactor: o.coldFactor ?? 3,
    });
    this.ratePerMs = this.options.refillPerSecond / 1000;
    this.warmUp = this.options.warmupPeriod > 0 ? new WarmUp(this.ratePerMs, this.options.warmupPeriod, this.options.coldFactor) : null;
    this.tokens = this.options.initialTokens;
    this.cold = this.warmUp === null ? 0 : this.warmUp.max; // a warming-up bucket starts cold, as Guava's
    this.updatedAt = getClock().now();
  }

  /** Tokens in the bucket at `now` (fractional). Queued waiters have not taken theirs yet. */
  available(now: number = getClock().now()): number {
    this.refill(now);
    return this.tokens;
  }

  /** The refill rate now, in tokens per second: `refillPerSecond`, or less while warming up. */
  currentRate(now: number = getClock().now()): number {
    this.refill(now);
    return this.rateAt(this.cold) * 1000;
  }

  /** Callers waiting in {@link TokenBucket.take} now. */
  get waiting(): number {
    return this.queued;
  }

  /**
   * Takes `n` tokens if they are all there and nobody is waiting; never waits.
   * @param n - tokens to take: finite, > 0 and at most `capacity`.
   * @param now - the time (ms on the configured clock); read from the clock when omitted.
   * @throws RangeError/TypeError for a bad `n`.
   */
  tryTake(n = 1, now: number = getClock().now()): boolean {
    if (typeof n !== 'number' || !(n > 0 && n <= this.options.capacity)) this.refuseCount(n, 'tryTake');
    if (this.head !== null) return false; // first come, first served
    this.refill(now);
    if (this.tokens + EPS < n) return false;
    this.consume(n);
    return true;
  }

  /**
   * Takes `n` tokens, waiting (FIFO) for them up to `maxWait` ms. Resolves `true` once taken, or `false` at once
   * when they cannot arrive within `maxWait`. Aborting `signal` gives up the place in the queue and rejects with
   * `signal.reason` (an already-aborted signal rejects without taking anything).
   *
   * @example
   * ```ts
   * const ok = await bucket.take(1, { maxWait: 500, signal: AbortSignal.timeout(1000) });
   * ```
   */
  take(n = 1, options: TakeOptions = {}): Promise<boolean> {
    if (typeof n !== 'number' || !(n > 0 && n <= this.options.capacity)) this.refuseCount(n, 'take');
    const opts = readKnown(options, 'TokenBucket.take options', ['maxWait', 'signal']);
    let maxWait = Infinity;
    if (opts.maxWait !== undefined && opts.maxWait !== Infinity) {
      maxWait = expectNumber(opts.maxWait, 'TokenBucket.take maxWait', { min: 0, unit: 'ms, or Infinity' });
    }
    const signal = opts.signal as AbortSignal | undefined;
    if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.addEventListener !== 'function')) {
      throw configError('TokenBucket.take signal', 'an AbortSignal', signal, 'type');
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = getClock().now();
    if (this.tryTake(n, now)) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const wait = this.wait(n, maxWait, now, (granted) => {
        if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
        resolve(granted);
      });
      if (wait === null) {
        resolve(false);
        return;
      }
      if (signal !== undefined) {
        onAbort = () => {
          wait.cancel();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /**
   * @internal joins the queue for `n` tokens (call after a failed `tryTake`). Returns `null` when the tokens cannot
   * be due within `maxWait` ms; otherwise `settle(true)` runs once they are taken. `settle` is never called from
   * inside `wait` itself, nor after `cancel()`.
   */
  wait(n: number, maxWait: number, now: number, settle: (granted: boolean) => void): TokenWait | null {
    this.refill(now);
    const empty = this.head === null;
    if (empty) this.projectFrom(now);
    const readyAt = this.dueAt(this.tailAt, this.tailTokens, this.tailCold, n);
    if (readyAt - now > maxWait) return null;
    const node = new QueuedTake(this, n, now + maxWait, settle);
    node.prev = this.tail;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.queued++;
    this.commit(readyAt, n);
    if (empty) this.arm(now, 0);
    return node;
  }

  /** @internal removes a queued take; later waiters are re-projected (and refused if now hopeless). */
  cancelWait(node: QueuedTake): void {
    this.unlink(node);
    this.reproject(getClock().now());
  }

  private unlink(node: QueuedTake): void {
    node.queued = false;
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = null;
    this.queued--;
  }

  /** Recomputes every waiter's due time from the bucket as it is now; refuses those that can no longer make it. */
  private reproject(now: number): void {
    this.refill(now);
    this.projectFrom(now);
    let refused: QueuedTake[] | null = null;
    for (let w = this.head; w !== null; ) {
      const next = w.next;
      const readyAt = this.dueAt(this.tailAt, this.tailTokens, this.tailCold, w.n);
      if (readyAt > w.deadline) {
        this.unlink(w);
        (refused ??= []).push(w);
      } else this.commit(readyAt, w.n);
      w = next;
    }
    this.arm(now, 0);
    if (refused !== null) for (const w of refused) w.settle(false);
  }

  /** Serves waiters whose tokens are there, in order, then re-arms the timer for the next one. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const now = getClock().now();
    try {
      this.refill(now);
      for (let w = this.head; w !== null && this.tokens + EPS >= w.n; w = this.head) {
        this.unlink(w);
        this.consume(w.n);
        w.settle(true);
      }
    } finally {
      this.pumping = false;
    }
    this.arm(now, 1); // a head still here is not ready now: never spin on a zero delay
  }

  /** One timer per bucket, for the head of the queue (whole ms); none when nobody waits. */
  private arm(now: number, minDelay: number): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    if (this.head === null) return;
    // when the head's tokens are there from the bucket as it is (refilled to now by every caller), not as projected:
    // the projection allows for a late serving, the timer does not wait for one (less a rounding error, so a due
    // time on a whole millisecond is not put off by one)
    const due = this.dueAt(Math.max(now, this.updatedAt), this.tokens, this.cold, this.head.n);
    this.timer = getClock().setTimer(this.fire, Math.max(minDelay, Math.ceil(due - now - 1e-6)), true); // callers wait on it
  }

  /** Starts the projection of the queue from the bucket as it is at `now` (after a refill). */
  private projectFrom(now: number): void {
    this.tailAt = Math.max(now, this.updatedAt);
    this.tailTokens = this.tokens;
    this.tailCold = this.cold;
  }

  /**
   * Moves the projection past a waiter of `n` tokens due at `readyAt`. One due after the previous one is served by a
   * timer, up to `SERVE_SLACK_MS` later (whole milliseconds), and a full bucket loses the refill of that wait: so the
   * next projection starts then, with what the bucket holds at that latest serving time less `n`. The projection is
   * never earlier than the real serving (a waiter served sooner lost no more), so a waiter accepted for its
   * `maxWait` is answered within it. One due at once (on the tokens left by those before it) is served with them.
   */
  private commit(readyAt: number, n: number): void {
    let tokens = this.tailTokens;
    let cold = this.tailCold;
    if (readyAt > this.tailAt) {
      this.grow(n, cold, SERVE_SLACK_MS); // it waited: at readyAt the bucket holds just its n
      tokens = grownTokens;
      cold = grownCold;
      this.tailAt = readyAt + SERVE_SLACK_MS;
    }
    this.tailTokens = Math.max(0, tokens - n);
    this.tailCold = Math.max(0, cold - n);
  }

  /** When `n` tokens are there, from a bucket holding `tokens` at time `from` (below capacity: a linear refill). */
  private dueAt(from: number, tokens: number, cold: number, n: number): number {
    return tokens + EPS >= n ? from : from + (n - tokens) / this.rateAt(cold);
  }

  private consume(n: number): void {
    this.tokens = Math.max(0, this.tokens - n);
    if (this.cold !== 0) this.cold = Math.max(0, this.cold - n);
  }

  private rateAt(cold: number): number {
    return this.warmUp === null ? this.ratePerMs : this.warmUp.ratePerMs(cold);
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    if (!(elapsed > 0)) {
      // The clock stood still, or stepped back: nothing accrues for the step, and refill goes on from the new
      // reading (waiting until the clock caught up again would starve the limiter for the size of the step).
      if (elapsed < 0) this.updatedAt = now;
      return;
    }
    this.updatedAt = now;
    this.grow(this.tokens, this.cold, elapsed);
    this.tokens = grownTokens;
    this.cold = grownCold;
  }

  /** The tokens and coldness (in `grownTokens`, `grownCold`) of a bucket holding `tokens` after `elapsed` ms. */
  private grow(tokens: number, cold: number, elapsed: number): void {
    const capacity = this.options.capacity;
    if (tokens < capacity) {
      const rate = this.rateAt(cold);
      const fillMs = (capacity - tokens) / rate;
      if (elapsed < fillMs) {
        grownTokens = tokens + rate * elapsed;
        grownCold = cold;
        return;
      }
      tokens = capacity;
      elapsed -= fillMs;
    }
    grownTokens = tokens;
    // Full and idle: a warming-up bucket cools down.
    grownCold = this.warmUp === null ? cold : Math.min(this.warmUp.max, cold + elapsed * this.warmUp.coolPerMs);
  }

  private refuseCount(n: unknown, method: string): never {
    throw configError(`TokenBucket.${method} n`, `a finite number > 0 and <= capacity (${this.options.capacity})`, n, typeof n === 'number' ? 'range' : 'type');
  }
}
