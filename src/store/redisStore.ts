import { createHash } from 'node:crypto';
import { expectKey, expectNumber, readKnown } from '../config/validate.js';
import { configError } from '../errors.js';
import type { BucketSpec, BucketStore, TokenReply, TokenRequest } from '../limiter/BucketStore.js';
import { BUCKET_SCRIPT } from './bucketScript.js';

/**
 * The part of an ioredis client breakwater uses (typed loosely on purpose: breakwater never imports ioredis, so
 * users without it install nothing and load nothing). Pass your own `new Redis(...)`.
 */
export interface RedisClientLike {
  /** `EVALSHA sha numKeys ...keysAndArgs` */
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** `EVAL script numKeys ...keysAndArgs` */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** Prefix of every key (and channel) breakwater writes. @defaultValue 'breakwater:' */
  readonly prefix?: string;
  /**
   * Each store call's own deadline in ms. Past it the caller is decided without Redis (the limiter's
   * `onStoreUnavailable`) and the store is probed again later. @defaultValue 100
   */
  readonly timeout?: number;
}

/** Holders unseen for this long (ms) no longer count toward the lease split (2 × the lease's life). */
const HOLDER_WINDOW_MS = 2000;

/**
 * A Redis-backed store for fleet-wide limits: give it to a shared limiter as `store` (and, for one circuit across
 * the fleet, to `circuitBreaker.store`). Every bucket decision is one Lua script on Redis (atomic, on Redis's clock);
 * keys live under `prefix` and expire once they would be back to their initial state.
 *
 * @example
 * ```ts
 * // not-run
 * import Redis from 'ioredis';
 * import { configure, redisStore } from 'breakwater';
 * const store = redisStore(new Redis(process.env.REDIS_URL!), { prefix: 'checkout:' });
 * configure({ limiters: { partner: { capacity: 100, refillPerSecond: 100, store } } });
 * ```
 * @see docs/fleet-limits.md
 */
export function redisStore(client: RedisClientLike, options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(client, options);
}

/** The store made by {@link redisStore}. */
export class RedisStore implements BucketStore {
  /** The key prefix. */
  readonly prefix: string;
  /** Each store call's deadline in ms. */
  readonly timeout: number;
  private readonly sha: string;

  /** @internal use {@link redisStore}. */
  constructor(
    /** The user's client. */
    readonly client: RedisClientLike,
    options: RedisStoreOptions,
  ) {
    if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function' || typeof client.eval !== 'function') {
      throw configError('redisStore client', 'an ioredis client (with eval and evalsha)', client, 'type');
    }
    const o = readKnown(options, 'redisStore options', ['prefix', 'timeout']);
    this.prefix = o.prefix === undefined ? 'breakwater:' : expectKey(o.prefix, 'redisStore options.prefix');
    this.timeout = o.timeout === undefined ? 100 : expectNumber(o.timeout, 'redisStore options.timeout', { min: 1, max: 60_000, unit: 'ms' });
    this.sha = createHash('sha1').update(BUCKET_SCRIPT).digest('hex');
  }

  /** @internal the keys of the shared bucket `name` (one hash tag, so they share a Redis Cluster slot). */
  bucketKeys(name: string): [string, string] {
    return [`${this.prefix}bucket:{${name}}`, `${this.prefix}bucket:{${name}}:holders`];
  }

  /** @internal */
  async takeTokens(name: string, spec: BucketSpec, request: TokenRequest): Promise<TokenReply> {
    const ratePerMs = spec.refillPerSecond / 1000;
    const coldRate = spec.warmupPeriod > 0 ? ratePerMs / spec.coldFactor : ratePerMs;
    // after this long untouched the bucket is full (and, with warm-up, cold again): the key's initial state
    const ttl = Math.ceil(spec.capacity / coldRate + spec.warmupPeriod + 1000);
    const args = [
      ...this.bucketKeys(name),
      spec.capacity,
      ratePerMs,
      spec.initialTokens,
      spec.warmupPeriod,
      spec.coldFactor,
      request.need,
      request.held,
      request.giveBack,
      request.holder,
      spec.leaseBudget,
      ttl,
      HOLDER_WINDOW_MS,
    ];
    let reply: unknown;
    try {
      reply = await this.client.evalsha(this.sha, 2, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await this.client.eval(BUCKET_SCRIPT, 2, ...args);
    }
    const [granted, waitMs, holders, perHolder] = reply as number[];
    return { granted: Number(granted), waitMs: Number(waitMs), holders: Number(holders), perHolder: Number(perHolder) };
  }
}
