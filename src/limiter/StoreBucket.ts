import { nodeCrypto } from '../internal/lazyModules.js';
import type { SharedLimiterOptions } from '../config/options.js';
import { getClock } from '../config/store.js';
import type { TimerHandle } from '../time/Clock.js';
import type { BucketSpec, BucketStore, TokenReply } from './BucketStore.js';
import type { Limiter } from './Limiter.js';
import { emitLimiterStoreEvent } from './storeEvents.js';
import { TokenBucket, type TokenWait } from './TokenBucket.js';

/** A leased token unused this long (ms) is handed back: it stays counted in the fleet's lease budget no longer. */
export const LEASE_TTL_MS = 1000;
/** While the store is away, it is probed at most this often (ms), on the next call. */
export const PROBE_INTERVAL_MS = 1000;
/** Share of `capacity + 5 s × refillPerSecond` the whole fleet may hold in leases (half the 5 % error bound). */
export const LEASE_BUDGET_FRACTION = 0.025;

/** What decides while the store is away. */
export type StoreFallback = 'local' | 'allow' | 'deny';

/** @internal a caller queued for the store's answer. */
class StoreWait implements TokenWait {
  queued = true;
  constructor(
    private readonly bucket: StoreBucket,
    readonly n: number,
    /** Clock time by which tokens must be due (a store answer in flight may still arrive after it). */
    readonly deadline: number,
    readonly settle: (granted: boolean) => void,
  ) {}

  cancel(): void {
    if (this.queued) this.bucket.cancelWait(this);
  }
}

/** @internal the shared bucket's settings as the store needs them. */
export function bucketSpec(o: SharedLimiterOptions): BucketSpec {
  return Object.freeze({
    capacity: o.capacity,
    refillPerSecond: o.refillPerSecond,
    initialTokens: o.initialTokens ?? o.capacity,
    warmupPeriod: o.warmupPeriod ?? 0,
    coldFactor: o.coldFactor ?? 3,
    leaseBudget: Math.floor(LEASE_BUDGET_FRACTION * (o.capacity + 5 * o.refillPerSecond)),
  });
}

/**
 * A token bucket shared by a fleet through a {@link BucketStore} (Redis): the store takes every decision
 * atomically, on its own clock; this object keeps a small local lease so that a call, while the bucket is far from
 * empty, takes a leased token without a round trip, and it tops the lease up in the background. A call finding no
 * leased token waits for one store decision (FIFO in this process). When the store fails or misses its deadline,
 * decisions fall back to `onStoreUnavailable` until a probe gets an answer again.
 *
 * Get one through `configure({ limiters: { key: { capacity, refillPerSecond, store } } })` and
 * `rateLimit: { limiter: key }`. See docs/fleet-limits.md.
 */
export class StoreBucket implements Limiter {
  readonly remote = true;
  readonly spec: BucketSpec;
  readonly fallbackMode: StoreFallback;
  /** Whether the store answered last time (decisions are the fallback's while false). */
  storeAvailable = true;
  /** Times the store was given up. */
  unavailableCount = 0;
  /** Decisions taken without the store (while it was away). */
  fallbackDecisions = 0;
  /** Holders the store last reported (this one included). */
  holders = 1;
  private readonly holder = nodeCrypto().randomUUID();
  private readonly store: BucketStore;
  private readonly localShare: number | undefined;
  private lease = 0;
  private leaseExpiresAt = 0;
  private giveBack = 0;
  private perHolder = 0;
  private queue: StoreWait[] = [];
  private inFlight = false;
  /** Bumped when a request is given up, so its late answer is recognised. */
  private seq = 0;
  private requestTimer: TimerHandle | null = null;
  private retryTimer: TimerHandle | null = null;
  private retryAt = -Infinity;
  private nextProbeAt = 0;
  private local: TokenBucket | null = null;

  constructor(
    /** The limiter's key. */
    readonly name: string,
    options: SharedLimiterOptions,
  ) {
    this.spec = bucketSpec(options);
    this.store = options.store!;
    this.fallbackMode = options.onStoreUnavailable ?? 'local';
    this.localShare = options.localShare;
  }

  /** Tokens in this process's lease now (taken from the store, not yet used). */
  get leased(): number {
    return this.lease;
  }

  /** Callers waiting for a store decision now. */
  get waiting(): number {
    return this.queue.length;
  }

  tryTake(n = 1, now: number = getClock().now()): boolean {
    if (!this.storeAvailable) return this.fallbackTake(n, now);
    if (this.queue.length !== 0) return false; // first come, first served
    if (this.lease !== 0 && now >= this.leaseExpiresAt) this.returnLease();
    if (this.lease < n) return false;
    this.lease -= n;
    // top the lease up in the background before it runs out, so the next calls need no round trip either
    if (this.perHolder !== 0 && this.lease * 2 <= this.perHolder && !this.inFlight && this.retryTimer === null) this.request();
    return true;
  }

  wait(n: number, maxWait: number, now: number, settle: (granted: boolean) => void): TokenWait | null {
    if (!this.storeAvailable) return this.fallbackWait(n, maxWait, now, settle);
    if (this.retryAt > now + maxWait) return null; // the store said the tokens come later than this caller can wait
    const node = new StoreWait(this, n, now + maxWait, settle);
    this.queue.push(node);
    if (!this.inFlight && this.retryTimer === null) this.request();
    return node;
  }

  /** @internal */
  cancelWait(node: StoreWait): void {
    node.queued = false;
    const i = this.queue.indexOf(node);
    if (i !== -1) this.queue.splice(i, 1);
    if (this.queue.length === 0) this.cancelRetry();
  }

  /** Hands the unused lease back (on the next store call) and stops timers: the limiter was replaced or dropped. */
  close(): void {
    this.returnLease();
    this.cancelRetry();
    for (const node of this.queue.splice(0)) this.settleNode(node, false);
  }

  private returnLease(): void {
    this.giveBack += this.lease;
    this.lease = 0;
  }

  /** One store decision for everything queued now (plus a lease top-up), under the store's deadline. */
  private request(): void {
    const clock = getClock();
    this.inFlight = true;
    const seq = ++this.seq;
    let need = 0;
    for (const node of this.queue) need += node.n;
    need = Math.min(need, this.spec.capacity);
    const giveBack = this.giveBack;
    this.giveBack = 0;
    this.requestTimer = clock.setTimer(() => this.giveUp(seq, giveBack, new Error(`store call timed out after ${this.store.timeout} ms`)), this.store.timeout);
    let pending: Promise<TokenReply>;
    try {
      pending = this.store.takeTokens(this.name, this.spec, { need, held: this.lease, giveBack, holder: this.holder });
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (reply) => this.answered(seq, reply),
      (error: unknown) => this.giveUp(seq, giveBack, error),
    );
  }

  private answered(seq: number, reply: TokenReply): void {
    if (seq !== this.seq) {
      // an answer after its deadline: its tokens were taken from the store; hand them back next time
      this.giveBack += reply.granted;
      return;
    }
    this.endRequest();
    const now = getClock().now();
    this.holders = Math.max(1, reply.holders);
    this.perHolder = reply.perHolder;
    if (!this.storeAvailable) {
      this.storeAvailable = true;
      emitLimiterStoreEvent('limiterStoreRecovered', { limiter: this.name, onStoreUnavailable: this.fallbackMode });
    }
    if (reply.granted > 0) {
      this.lease += reply.granted;
      this.leaseExpiresAt = now + LEASE_TTL_MS;
    }
    while (this.queue.length !== 0 && this.lease >= this.queue[0]!.n) {
      const node = this.queue.shift()!;
      this.lease -= node.n;
      this.settleNode(node, true);
    }
    if (this.queue.length === 0) return;
    // Not enough for everyone queued: refuse those who cannot wait until the tokens are due, retry for the rest.
    const due = now + Math.max(1, reply.waitMs);
    const keep: StoreWait[] = [];
    for (const node of this.queue) {
      if (due > node.deadline) this.settleNode(node, false);
      else keep.push(node);
    }
    this.queue = keep;
    if (keep.length === 0) return;
    this.retryAt = due;
    this.retryTimer = getClock().setTimer(
      () => {
        this.retryTimer = null;
        this.retryAt = -Infinity;
        if (!this.inFlight && this.storeAvailable && this.queue.length !== 0) this.request();
      },
      due - now,
      true, // callers wait on it
    );
  }

  /** The store failed or missed its deadline: decide without it until a probe gets an answer. */
  private giveUp(seq: number, giveBack: number, error: unknown): void {
    if (seq !== this.seq) return;
    this.seq++; // a late answer is now recognised as such
    this.endRequest();
    this.giveBack += giveBack; // that call may not have reached the store: hand them back next time
    const now = getClock().now();
    this.nextProbeAt = now + PROBE_INTERVAL_MS;
    if (this.storeAvailable) {
      this.storeAvailable = false;
      this.unavailableCount++;
      this.returnLease();
      emitLimiterStoreEvent('limiterStoreUnavailable', { limiter: this.name, onStoreUnavailable: this.fallbackMode, error });
    }
    this.cancelRetry();
    // callers queued for the store are decided by the fallback now, with what remains of their wait
    for (const node of this.queue.splice(0)) {
      node.queued = false;
      if (this.fallbackTake(node.n, now)) node.settle(true);
      else if (this.fallbackWait(node.n, Math.max(0, node.deadline - now), now, node.settle) === null) node.settle(false);
    }
  }

  private endRequest(): void {
    this.inFlight = false;
    if (this.requestTimer !== null) {
      this.requestTimer.cancel();
      this.requestTimer = null;
    }
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) {
      this.retryTimer.cancel();
      this.retryTimer = null;
    }
    this.retryAt = -Infinity;
  }

  private settleNode(node: StoreWait, granted: boolean): void {
    node.queued = false;
    node.settle(granted);
  }

  /** A decision while the store is away; also sends the next probe when it is due. */
  private fallbackTake(n: number, now: number): boolean {
    this.probe(now);
    this.fallbackDecisions++;
    if (this.fallbackMode === 'allow') return true;
    if (this.fallbackMode === 'deny') return false;
    return this.localBucket().tryTake(Math.min(n, this.localBucket().options.capacity), now);
  }

  private fallbackWait(n: number, maxWait: number, now: number, settle: (granted: boolean) => void): TokenWait | null {
    if (this.fallbackMode !== 'local') return null;
    const local = this.localBucket();
    return local.wait(Math.min(n, local.options.capacity), maxWait, now, settle);
  }

  private probe(now: number): void {
    if (this.inFlight || now < this.nextProbeAt) return;
    this.nextProbeAt = now + PROBE_INTERVAL_MS;
    this.request();
  }

  /**
   * This instance's share of the bucket, used alone while the store is away: `localShare` of capacity and rate,
   * by default 1 / the holders the store last reported. Kept across outages, so flapping mints no extra bursts.
   */
  private localBucket(): TokenBucket {
    if (this.local === null) {
      const share = this.localShare ?? 1 / this.holders;
      this.local = new TokenBucket({
        capacity: Math.max(1, this.spec.capacity * share),
        refillPerSecond: this.spec.refillPerSecond * share,
        warmupPeriod: this.spec.warmupPeriod,
        coldFactor: this.spec.coldFactor,
      });
    }
    return this.local;
  }
}
