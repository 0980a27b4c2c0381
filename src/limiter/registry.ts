import type { RateLimitOptions, TokenBucketOptions } from '../config/options.js';
import { onConfigChange, store } from '../config/store.js';
import { configError } from '../errors.js';
import { TokenBucket } from './TokenBucket.js';

/** Buckets declared with `configure({ limiters })`, created on first use. */
const shared = new Map<string, TokenBucket>();
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
export function limiterFor(commandKey: string, options: RateLimitOptions): TokenBucket {
  if ('limiter' in options) return sharedLimiter(options.limiter);
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
  const existing = shared.get(key);
  if (existing !== undefined) return existing;
  const declared = store.limiters.get(key);
  if (declared === undefined) {
    throw configError('rateLimit.limiter', 'a limiter declared with configure({ limiters })', key, 'range');
  }
  const bucket = new TokenBucket(declared);
  shared.set(key, bucket);
  return bucket;
}

/** @internal */
export function clearLimiters(): void {
  shared.clear();
  own.clear();
}

onConfigChange(() => {
  // A re-declared shared limiter with new settings starts afresh; one no longer declared is dropped.
  for (const [key, bucket] of shared) {
    const declared = store.limiters.get(key);
    if (declared === undefined) shared.delete(key);
    else if (!sameBucket(bucket.options, declared)) shared.set(key, new TokenBucket(declared));
  }
});
