import type { RateLimitOptions, SharedLimiterOptions, TokenBucketOptions } from '../config/options.js';
import { onConfigChange, store } from '../config/store.js';
import { configError } from '../errors.js';
import type { Limiter } from './Limiter.js';
import { StoreBucket } from './StoreBucket.js';
import { TokenBucket } from './TokenBucket.js';

/** Buckets declared with `configure({ limiters })`, created on first use (store-backed ones are {@link StoreBucket}s). */
const shared = new Map<string, { declared: SharedLimiterOptions; limiter: TokenBucket | StoreBucket }>();
/** Each command key's own bucket, with the options object last seen for it (an identity fast path). */
const own = new Map<string, { options: RateLimitOptions; bucket: TokenBucket }>();

/** True when a bucket built from `b` would be the same as the one built with `a`. */
function sameBucket(a: Readonly<Required<TokenBucketOptions>>, b: TokenBucketOptions): boolean {
  return (
    a.capacity === b.capacity &&
    a.refillPerSecond === b.refillPerSecond &&
    a.initialTokens === (b.initialTokens ?? b.capacity) &&
    a.warmupPeriod === (b.warmupPeriod ?? 0) &&
    a.coldFactor === (b.coldFactor ?? 3)
  );
}

/**
 * @internal the bucket a command's `rateLimit` names: a shared one from `configure({ limiters })`, or the command
 * key's own. A key's own bucket is kept while its settings stay the same (class-style commands resolve a fresh
 * options object per instance), and re-created when they change.
 */
export function limiterFor(commandKey: string, options: RateLimitOptions): Limiter {
  if ('limiter' in options) return sharedEntry(options.limiter);
  const entry = own.get(commandKey);
  if (entry !== undefined) {
    if (entry.options === options) return entry.bucket;
    if (sameBucket(entry.bucket.options, options)) {
      entry.options = options;
      return entry.bucket;
    }
  }
  const { maxWait: _maxWait, ...bucketOptions } = options;
  const bucket = new TokenBucket(bucketOptions);
  own.set(commandKey, { options, bucket });
  return bucket;
}

/**
 * The shared limiter declared under `key` with `configure({ limiters })`, created on first use. Commands name it
 * with `rateLimit: { limiter: key }`; other code may take from the same bucket. Re-declaring it with different
 * settings replaces it (the new bucket starts afresh).
 *
 * @example
 * ```ts
 * configure({ limiters: { partnerApi: { capacity: 20, refillPerSecond: 10 } } });
 * const search = command({ key: 'Search', run: callPartner, rateLimit: { limiter: 'partnerApi', maxWait: 100 } });
 * if (sharedLimiter('partnerApi').tryTake()) await callPartnerDirectly();
 * ```
 * @throws RangeError when no limiter is declared under `key`.
 */
export function sharedLimiter(key: string): TokenBucket {
  const limiter = sharedEntry(key);
  if (limiter instanceof StoreBucket) {
    throw configError('sharedLimiter key', 'a limiter without a store (a store-backed one is used through rateLimit: { limiter })', key, 'range');
  }
  return limiter;
}

/** @internal the limiter declared under `key`, local or store-backed, created on first use. */
export function sharedEntry(key: string): TokenBucket | StoreBucket {
  const existing = shared.get(key);
  if (existing !== undefined) return existing.limiter;
  const declared = store.limiters.get(key);
  if (declared === undefined) {
    throw configError('rateLimit.limiter', 'a limiter declared with configure({ limiters })', key, 'range');
  }
  const limiter = createShared(key, declared);
  shared.set(key, { declared, limiter });
  return limiter;
}

function createShared(key: string, declared: SharedLimiterOptions): TokenBucket | StoreBucket {
  if (declared.store !== undefined) return new StoreBucket(key, declared);
  const { store: _s, onStoreUnavailable: _o, localShare: _l, ...bucket } = declared;
  return new TokenBucket(bucket);
}

/** @internal the store-backed limiters created so far (for the stream and Prometheus). */
export function storeLimiters(): StoreBucket[] {
  const out: StoreBucket[] = [];
  for (const { limiter } of shared.values()) if (limiter instanceof StoreBucket) out.push(limiter);
  return out;
}

/** @internal the store-backed limiter created under `key`, if any (never creates one). */
export function existingStoreLimiter(key: string): StoreBucket | undefined {
  const limiter = shared.get(key)?.limiter;
  return limiter instanceof StoreBucket ? limiter : undefined;
}

/** True when a limiter declared as `b` would be the same as one declared as `a`. */
function sameDeclaration(a: SharedLimiterOptions, b: SharedLimiterOptions): boolean {
  if (a === b) return true;
  const full = (o: SharedLimiterOptions) => ({ ...o, initialTokens: o.initialTokens ?? o.capacity, warmupPeriod: o.warmupPeriod ?? 0, coldFactor: o.coldFactor ?? 3 });
  return sameBucket(full(a) as Required<TokenBucketOptions>, b) && a.store === b.store && a.onStoreUnavailable === b.onStoreUnavailable && a.localShare === b.localShare;
}

function drop(limiter: TokenBucket | StoreBucket): void {
  if (limiter instanceof StoreBucket) limiter.close();
}

/** @internal */
export function clearLimiters(): void {
  for (const { limiter } of shared.values()) drop(limiter);
  shared.clear();
  own.clear();
}

/**
 * @internal true when a command key's own bucket (if any) holds nothing worth keeping: no waiter, and full again,
 * so a fresh bucket would behave the same. A slowly refilling bucket keeps its key until it is full.
 */
export function ownLimiterIdle(commandKey: string, now: number): boolean {
  const entry = own.get(commandKey);
  if (entry === undefined) return true;
  const bucket = entry.bucket;
  return bucket.waiting === 0 && bucket.available(now) >= bucket.options.capacity;
}

/** @internal forgets a command key's own bucket (the key expired); a later call starts a full bucket. */
export function releaseOwnLimiter(commandKey: string): void {
  own.delete(commandKey);
}

function redeclare(key: string): void {
  const entry = shared.get(key);
  if (entry === undefined) return;
  const declared = store.limiters.get(key);
  if (declared === undefined) {
    drop(entry.limiter);
    shared.delete(key);
  } else if (!sameDeclaration(entry.declared, declared)) {
    drop(entry.limiter);
    shared.set(key, { declared, limiter: createShared(key, declared) });
  }
}

onConfigChange((change) => {
  // A re-declared shared limiter with new settings starts afresh; one no longer declared is dropped. Only the
  // limiters this configure() named are looked at (all of them after a reset).
  if (change.all) for (const key of [...shared.keys()]) redeclare(key);
  else for (const key of change.limiters) redeclare(key);
});
