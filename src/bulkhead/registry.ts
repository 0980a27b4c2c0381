import type { PoolOptions } from '../config/options.js';
import { normalizePool, resolvePoolConfig } from '../config/resolve.js';
import { onConfigChange, store } from '../config/store.js';
import { KeyedRegistry } from '../internal/KeyedRegistry.js';
import { Pool } from './Pool.js';

const pools = new KeyedRegistry<Pool>();
/** The inline settings each pool currently uses. */
const inline = new Map<string, PoolOptions>();
/** Inline option objects already applied once: seeing one again changes nothing (no flapping per call). */
const applied = new WeakSet<PoolOptions>();

function samePoolOptions(a: PoolOptions | undefined, b: PoolOptions): boolean {
  if (a === undefined) return false;
  const keys = Object.keys(b) as (keyof PoolOptions)[];
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k]);
}

/**
 * The pool for `key`, created on first use. Settings: Hystrix defaults < a command's inline `pool: {…}` <
 * `configure({ pools: { key } })`. When commands sharing a pool give different inline settings, the most recently
 * introduced settings win (each inline object applies once; prefer `configure({ pools })` for shared pools).
 *
 * @example
 * ```ts
 * const { active, queued, rollingRejected } = poolFor('Users').snapshot();
 * ```
 */
export function poolFor(key: string, inlineOptions?: PoolOptions): Pool {
  let pool = pools.get(key);
  if (pool === undefined) {
    if (inlineOptions !== undefined) {
      normalizePool(inlineOptions, `pools.${key}`, false); // validates only: a NaN or negative size is refused
      inline.set(key, inlineOptions);
      applied.add(inlineOptions);
    }
    pool = new Pool(key, resolvePoolConfig(key, [inline.get(key), store.pools.get(key)]));
    pools.set(key, pool);
  } else if (inlineOptions !== undefined && inline.get(key) !== inlineOptions && !applied.has(inlineOptions)) {
    normalizePool(inlineOptions, `pools.${key}`, false);
    applied.add(inlineOptions);
    const same = samePoolOptions(inline.get(key), inlineOptions);
    inline.set(key, inlineOptions);
    if (!same) {
      pool.config = resolvePoolConfig(key, [inlineOptions, store.pools.get(key)]);
      pool.drain(store.clock.now());
    }
  }
  return pool;
}

/** How many live command keys use each pool key (pool isolation): a pool nobody uses any more can be released. */
const users = new Map<string, number>();

/** @internal a live command key now uses pool `key`. */
export function addPoolUser(key: string): void {
  users.set(key, (users.get(key) ?? 0) + 1);
}

/**
 * @internal a command key no longer uses pool `key`. When it was the last one and `release` is true (the key
 * expired), an idle pool is dropped with its inline settings; `configure({ pools })` layers stay, and the next
 * user creates the pool afresh.
 */
export function removePoolUser(key: string, release: boolean): void {
  const n = (users.get(key) ?? 1) - 1;
  if (n > 0) {
    users.set(key, n);
    return;
  }
  users.delete(key);
  const pool = pools.get(key);
  if (release && pool !== undefined && pool.activeCount === 0 && pool.queueSize === 0) {
    pools.delete(key);
    inline.delete(key);
  }
}

/** Every pool created so far. */
export function allPools(): Pool[] {
  return [...pools.values()];
}

/** @internal */
export function clearPools(): void {
  pools.clear();
  inline.clear();
  users.clear();
}

function reconfigurePool(pool: Pool): void {
  pool.config = resolvePoolConfig(pool.key, [inline.get(pool.key), store.pools.get(pool.key)]);
  pool.drain(store.clock.now());
}

onConfigChange((change) => {
  if (change.all) {
    for (const pool of pools.values()) reconfigurePool(pool);
    return;
  }
  // only the pools this configure() named: O(pools it touches), not O(pools)
  for (const key of change.pools) {
    const pool = pools.get(key);
    if (pool !== undefined) reconfigurePool(pool);
  }
});
