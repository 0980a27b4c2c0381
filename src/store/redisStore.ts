import { nodeCrypto } from '../internal/lazyModules.js';
import { expectKey, expectNumber, readKnown } from '../config/validate.js';
import { configError } from '../errors.js';
import type { BucketSpec, BucketStore, TokenReply, TokenRequest } from '../limiter/BucketStore.js';
import type { BreakerStore, SharedCircuitState, TrialAnswer } from '../circuit/BreakerStore.js';
import { BUCKET_SCRIPT } from './bucketScript.js';
import { ACQUIRE_TRIAL, PUBLISH_CIRCUIT, READ_CIRCUIT, RELEASE_TRIAL } from './circuitScripts.js';

/**
 * The part of an ioredis client breakwater uses (typed loosely on purpose: breakwater never imports ioredis, so
 * users without it install nothing and load nothing). Pass your own `new Redis(...)`.
 */
export interface RedisClientLike {
  /** `EVALSHA sha numKeys ...keysAndArgs` */
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** `EVAL script numKeys ...keysAndArgs` */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** A new connection with the same options (a subscriber needs its own); used by a shared circuit breaker only. */
  duplicate?(): RedisSubscriberLike;
}

/** The part of an ioredis connection used for pub/sub (from `duplicate()`). */
export interface RedisSubscriberLike {
  /** `SUBSCRIBE channel` */
  subscribe(channel: string): Promise<unknown>;
  /** ioredis events: `'message'` (channel, message) and `'ready'` (on each (re)connection). */
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Closes the connection. */
  disconnect(): void;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** Prefix of every key (and channel) breakwater writes. @defaultValue 'breakwater:' */
  readonly prefix?: string;
  /**
   * Each store call's own deadline in ms. Past it the caller is decided without Redis (the limiter's
   * `onStoreUnavailable`, or the breaker alone) and the store is probed again later. @defaultValue 100
   */
  readonly timeout?: number;
  /**
   * A shared circuit's trial lock expires after this many ms: the longest one instance's half-open trial may keep
   * the rest of the fleet waiting; if its holder dies, another instance takes the trial over after it.
   * @defaultValue 10000
   */
  readonly trialLockTtl?: number;
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
export class RedisStore implements BucketStore, BreakerStore {
  /** The key prefix. */
  readonly prefix: string;
  /** Each store call's deadline in ms. */
  readonly timeout: number;
  /** The trial lock's expiry in ms. */
  readonly trialLockTtl: number;
  private readonly shas = new Map<string, string>();
  private subscriber: RedisSubscriberLike | null = null;
  private readonly watchers = new Map<string, Set<{ listener: (state: SharedCircuitState) => void; onConnect: () => void }>>();

  /** @internal use {@link redisStore}. */
  constructor(
    /** The user's client. */
    readonly client: RedisClientLike,
    options: RedisStoreOptions,
  ) {
    if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function' || typeof client.eval !== 'function') {
      throw configError('redisStore client', 'an ioredis client (with eval and evalsha)', client, 'type');
    }
    const o = readKnown(options, 'redisStore options', ['prefix', 'timeout', 'trialLockTtl']);
    this.prefix = o.prefix === undefined ? 'breakwater:' : expectKey(o.prefix, 'redisStore options.prefix');
    this.timeout = o.timeout === undefined ? 100 : expectNumber(o.timeout, 'redisStore options.timeout', { min: 1, max: 60_000, unit: 'ms' });
    this.trialLockTtl =
      o.trialLockTtl === undefined ? 10_000 : expectNumber(o.trialLockTtl, 'redisStore options.trialLockTtl', { min: 1, max: 2_147_483_647, integer: true, unit: 'ms' });
  }

  /** Runs a script by its SHA, loading it on a NOSCRIPT reply. */
  private async script(source: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    let sha = this.shas.get(source);
    if (sha === undefined) {
      sha = nodeCrypto().createHash('sha1').update(source).digest('hex');
      this.shas.set(source, sha);
    }
    try {
      return await this.client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await this.client.eval(source, keys.length, ...keys, ...args);
    }
  }

  /** @internal the keys of the shared circuit `key`: its record and its trial lock. */
  circuitKeys(key: string): [string, string] {
    return [`${this.prefix}circuit:{${key}}`, `${this.prefix}circuit:{${key}}:trial`];
  }

  /** @internal the pub/sub channel of every shared circuit under this prefix. */
  get circuitChannel(): string {
    return `${this.prefix}circuits`;
  }

  /** @internal */
  watchCircuit(key: string, listener: (state: SharedCircuitState) => void, onConnect: () => void): () => void {
    let set = this.watchers.get(key);
    if (set === undefined) this.watchers.set(key, (set = new Set()));
    const entry = { listener, onConnect };
    set.add(entry);
    this.subscribe();
    return () => {
      set.delete(entry);
      if (set.size === 0) this.watchers.delete(key);
    };
  }

  /** One subscriber connection per store (ioredis needs a connection of its own for SUBSCRIBE). */
  private subscribe(): void {
    if (this.subscriber !== null) return;
    if (typeof this.client.duplicate !== 'function') {
      throw configError('circuitBreaker.store', 'a store whose client can duplicate() a connection for pub/sub (ioredis)', this.client, 'type');
    }
    const sub = (this.subscriber = this.client.duplicate());
    sub.on('error', () => undefined); // reconnects are ioredis's job; the breaker notices through its own calls
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.circuitChannel) return;
      let parsed: { key?: unknown; state?: unknown; openedAt?: unknown; origin?: unknown };
      try {
        parsed = JSON.parse(message) as typeof parsed;
      } catch {
        return; // not ours
      }
      if (typeof parsed.key !== 'string' || (parsed.state !== 'OPEN' && parsed.state !== 'CLOSED')) return;
      const state: SharedCircuitState = {
        state: parsed.state,
        openedAt: typeof parsed.openedAt === 'number' ? parsed.openedAt : null,
        origin: typeof parsed.origin === 'string' ? parsed.origin : '',
      };
      for (const w of this.watchers.get(parsed.key) ?? []) w.listener(state);
    });
    sub.on('ready', () => {
      // (re)connected: subscribe again (a no-op on ioredis, which re-subscribes itself) and let each circuit re-read
      sub.subscribe(this.circuitChannel).then(
        () => {
          for (const set of this.watchers.values()) for (const w of set) w.onConnect();
        },
        () => undefined,
      );
    });
  }

  /** @internal */
  async readCircuit(key: string): Promise<SharedCircuitState | null> {
    const [record] = this.circuitKeys(key);
    const reply = (await this.script(READ_CIRCUIT, [record], [])) as [string | null, string | null, string | null] | null;
    if (reply === null || reply[0] !== 'OPEN') return null;
    return { state: 'OPEN', openedAt: Number(reply[1]), origin: reply[2] ?? '' };
  }

  /** @internal */
  async publishCircuit(key: string, state: SharedCircuitState, ttlMs: number, owner: string): Promise<void> {
    const message = JSON.stringify({ key, state: state.state, openedAt: state.openedAt, origin: state.origin });
    await this.script(PUBLISH_CIRCUIT, this.circuitKeys(key), [state.state, state.openedAt ?? 0, Math.max(1, Math.ceil(ttlMs)), owner, this.circuitChannel, message, state.origin]);
  }

  /** @internal */
  async acquireTrial(key: string, owner: string): Promise<TrialAnswer> {
    const answer = await this.script(ACQUIRE_TRIAL, this.circuitKeys(key), [owner, this.trialLockTtl]);
    return answer === 1 ? 'taken' : answer === 2 ? 'notOpen' : 'busy';
  }

  /** @internal */
  async releaseTrial(key: string, owner: string): Promise<void> {
    const [, lock] = this.circuitKeys(key);
    await this.script(RELEASE_TRIAL, [lock], [owner]);
  }

  /** Closes the subscriber connection this store opened (your client is yours to close). */
  close(): void {
    this.subscriber?.disconnect();
    this.subscriber = null;
    this.watchers.clear();
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
    const reply = await this.script(BUCKET_SCRIPT, this.bucketKeys(name), args);
    const [granted, waitMs, holders, perHolder] = reply as number[];
    return { granted: Number(granted), waitMs: Number(waitMs), holders: Number(holders), perHolder: Number(perHolder) };
  }
}
