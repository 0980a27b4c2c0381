import type { PoolOptions } from '../config/options.js';
import { resolvePoolConfig } from '../config/resolve.js';
import { onConfigChange, store } from '../config/store.js';
import { KeyedRegistry } from '../internal/KeyedRegistry.js';
import { Pool } from './Pool.js';

const pools = new KeyedRegistry<Pool>();
const inline = new Map<string, PoolOptions>();

/**
 * The pool for `key`, created on first use. Settings: Hystrix defaults < a command's inline `pool: {…}` <
 * `configure({ pools: { key } })`.
 */
export function poolFor(key: string, inlineOptions?: PoolOptions): Pool {
  let pool = pools.get(key);
  if (pool === undefined) {
    if (inlineOptions !== undefined) inline.set(key, inlineOptions);
    pool = new Pool(key, resolvePoolConfig(key, [inline.get(key), store.pools.get(key)]));
    pools.set(key, pool);
  } else if (inlineOptions !== undefined && inline.get(key) !== inlineOptions) {
    inline.set(key, inlineOptions);
    pool.config = resolvePoolConfig(key, [inlineOptions, store.pools.get(key)]);
    pool.drain(store.clock.now());
  }
  return pool;
}

/** Every pool created so far. */
export function allPools(): Pool[] {
  return [...pools.values()];
}

/** @internal */
export function clearPools(): void {
  pools.clear();
  inline.clear();
}

onConfigChange(() => {
  for (const pool of pools.values()) {
    pool.config = resolvePoolConfig(pool.key, [inline.get(pool.key), store.pools.get(pool.key)]);
    pool.drain(store.clock.now());
  }
});
