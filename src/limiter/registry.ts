import type { RateLimitOptions } from '../config/options.js';
import { onConfigChange, store } from '../config/store.js';
import { configError } from '../errors.js';
import { KeyedRegistry } from '../internal/KeyedRegistry.js';
import { TokenBucket } from './TokenBucket.js';

const shared = new KeyedRegistry<TokenBucket>();
const own = new Map<string, { options: RateLimitOptions; bucket: TokenBucket }>();

/**
 * @internal the bucket a command's `rateLimit` names: a shared one from `configure({ limiters })`, or the
 * command key's own (re-created when its options change).
 */
export function limiterFor(commandKey: string, options: RateLimitOptions): TokenBucket {
  if ('limiter' in options) {
    const key = options.limiter;
    const existing = shared.get(key);
    if (existing !== undefined) return existing;
    const declared = store.limiters.get(key);
    if (declared === undefined) {
      throw configError(`rateLimit.limiter`, `a limiter declared with configure({ limiters })`, key, 'range');
    }
    return shared.getOrCreate(key, () => new TokenBucket(declared));
  }
  const entry = own.get(commandKey);
  if (entry !== undefined && entry.options === options) return entry.bucket;
  const bucket = new TokenBucket(options);
  own.set(commandKey, { options, bucket });
  return bucket;
}

/** The shared limiter declared under `key` with `configure({ limiters })`. */
export function sharedLimiter(key: string): TokenBucket {
  return limiterFor('', { limiter: key });
}

/** @internal */
export function clearLimiters(): void {
  shared.clear();
  own.clear();
}

onConfigChange(() => {
  // A re-declared shared limiter starts afresh with its new settings.
  for (const key of [...shared.keys()]) {
    const declared = store.limiters.get(key);
    if (declared === undefined || shared.get(key)!.options.capacity !== declared.capacity || shared.get(key)!.options.refillPerSecond !== declared.refillPerSecond) {
      shared.set(key, new TokenBucket(declared ?? shared.get(key)!.options));
    }
  }
});
