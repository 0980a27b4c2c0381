import { beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { command, configure, events, hystrixDashboardSample, metricsFor, registerPrometheus, type LimiterStoreEvent } from '../../src/index.js';
import type { BucketSpec, BucketStore, TokenReply, TokenRequest } from '../../src/limiter/BucketStore.js';
import { sharedEntry } from '../../src/limiter/registry.js';
import { sampleObjectsInSlices } from '../../src/stream/sampleSlices.js';
import { LEASE_TTL_MS, PROBE_INTERVAL_MS, StoreBucket } from '../../src/limiter/StoreBucket.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/**
 * A store in memory with the Lua script's rules (refill on the fake clock, all-or-none for `need`, lease top-up to
 * `floor(budget / holders)`), answering on the next tick; `mode` makes it fail or hang.
 */
class MemoryStore implements BucketStore {
  readonly timeout = 50;
  tokens: number | null = null;
  updated = 0;
  calls: TokenRequest[] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  holders = new Set<string>();
  private hung: ((r: TokenReply) => void)[] = [];

  takeTokens(_name: string, spec: BucketSpec, req: TokenRequest): Promise<TokenReply> {
    this.calls.push(req);
    if (this.mode === 'fail') return Promise.reject(new Error('ECONNREFUSED'));
    const reply = this.decide(spec, req);
    if (this.mode === 'hang') return new Promise((resolve) => this.hung.push(() => resolve(reply)));
    return Promise.resolve(reply);
  }

  /** Lets the hung calls answer (late). */
  release(): void {
    for (const r of this.hung.splice(0)) r(undefined as never);
  }

  private decide(spec: BucketSpec, req: TokenRequest): TokenReply {
    const now = clock.now();
    if (this.tokens === null) {
      this.tokens = spec.initialTokens;
      this.updated = now;
    }
    this.tokens = Math.min(spec.capacity, this.tokens + ((now - this.updated) * spec.refillPerSecond) / 1000 + req.giveBack);
    this.updated = now;
    this.holders.add(req.holder);
    const perHolder = Math.floor(spec.leaseBudget / this.holders.size);
    if (this.tokens + 1e-9 < req.need) {
      return { granted: 0, waitMs: Math.ceil(((req.need - this.tokens) * 1000) / spec.refillPerSecond), holders: this.holders.size, perHolder };
    }
    const granted = req.need + Math.max(0, Math.min(perHolder - req.held, Math.floor(this.tokens - req.need + 1e-9)));
    this.tokens -= granted;
    return { granted, waitMs: 0, holders: this.holders.size, perHolder };
  }
}

function bucket(store: MemoryStore, extra: Record<string, unknown> = {}, capacity = 100, refillPerSecond = 200): StoreBucket {
  configure({ limiters: { partner: { capacity, refillPerSecond, store, ...extra } } });
  return sharedEntry('partner') as StoreBucket;
}

/** Takes one token the way the executor does: the lease, else one store decision. */
function take(b: StoreBucket, maxWait = 0): Promise<boolean> {
  if (b.tryTake(1, clock.now())) return Promise.resolve(true);
  return new Promise((resolve) => {
    if (b.wait(1, maxWait, clock.now(), resolve) === null) resolve(false);
  });
}

describe('StoreBucket: the lease', () => {
  it('asks the store once, then serves calls from its lease with no round trip, topping it up in the background', async () => {
    const store = new MemoryStore();
    const b = bucket(store); // budget floor(0.025 × (100 + 5 × 200)) = 27 tokens for the fleet
    expect(await take(b)).toBe(true);
    expect(store.calls).toEqual([{ need: 1, held: 0, giveBack: 0, holder: expect.any(String) }]);
    expect(b.leased).toBe(27); // need 1 + a lease topped up to this holder's share
    for (let i = 0; i < 13; i++) expect(b.tryTake(1, clock.now())).toBe(true);
    expect(store.calls).toHaveLength(1); // 14 tokens used, 14 left: above half the share, no call yet
    expect(b.tryTake(1, clock.now())).toBe(true); // 13 left ≤ 27 / 2: one top-up in the background
    expect(store.calls).toHaveLength(2);
    expect(store.calls[1]).toMatchObject({ need: 0, held: 13 });
    await flush();
    expect(b.leased).toBe(27);
    expect(store.tokens).toBe(100 - 1 - 27 - 14);
  });

  it('shares the lease budget among the holders the store reports', async () => {
    const store = new MemoryStore();
    store.holders.add('other-1').add('other-2');
    const b = bucket(store);
    expect(await take(b)).toBe(true);
    expect(b.leased).toBe(9 - 0); // floor(27 / 3) = 9 on top of the token needed now
    expect(b.holders).toBe(3);
  });

  it('hands an unused lease back once it is older than the lease life', async () => {
    const store = new MemoryStore();
    const b = bucket(store);
    await take(b);
    expect(b.leased).toBe(27);
    clock.advance(LEASE_TTL_MS);
    expect(b.tryTake(1, clock.now())).toBe(false); // the old lease is no longer used
    expect(await take(b)).toBe(true);
    expect(store.calls.at(-1)).toMatchObject({ need: 1, held: 0, giveBack: 27 });
  });

  it('near empty: all or none, and a caller that can wait is served when the store says the tokens are due', async () => {
    const store = new MemoryStore();
    const b = bucket(store, {}, 2, 10); // budget floor(0.025 × 52) = 1
    expect(await take(b)).toBe(true);
    expect(b.leased).toBe(1);
    expect(b.tryTake(1, clock.now())).toBe(true);
    expect(await take(b)).toBe(false); // empty, maxWait 0: refused after one decision
    let granted: boolean | undefined;
    void take(b, 150).then((g) => (granted = g));
    await flush();
    expect(granted).toBeUndefined(); // the store said: due in 100 ms
    clock.advance(99);
    await flush();
    expect(granted).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(granted).toBe(true);
    expect(await take(b, 50)).toBe(false); // due in 100 ms > 50: refused after one decision, never waits in vain
    expect(clock.pendingTimers).toBe(0);
  });

  it('serves queued callers first come, first served', async () => {
    const store = new MemoryStore();
    const b = bucket(store, {}, 1, 10);
    await take(b);
    const order: number[] = [];
    const waits = [1, 2, 3].map((i) => take(b, 1000).then((g) => g && order.push(i)));
    expect(b.tryTake(1, clock.now())).toBe(false); // someone is queued
    for (let i = 0; i < 3; i++) {
      clock.advance(100);
      await flush();
    }
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });
});

describe('StoreBucket: the store unavailable', () => {
  it('falls back to this instance’s share when a store call misses its deadline, and says so', async () => {
    const store = new MemoryStore();
    const seen: string[] = [];
    events.on('limiterStoreUnavailable', (e: LimiterStoreEvent) => seen.push(`down ${e.limiter} ${e.onStoreUnavailable} ${String(e.error)}`));
    events.on('limiterStoreRecovered', (e: LimiterStoreEvent) => seen.push(`up ${e.limiter}`));
    store.holders.add('a').add('b').add('c'); // four holders: the share is 1/4
    const b = bucket(store);
    await take(b);
    store.mode = 'hang';
    clock.advance(LEASE_TTL_MS); // the lease is stale: the next call needs the store
    let answer: boolean | undefined;
    void take(b).then((g) => (answer = g));
    clock.advance(49);
    await flush();
    expect(answer).toBeUndefined();
    clock.advance(1); // the store's 50 ms deadline: decided by the local share at once
    await flush();
    expect(answer).toBe(true);
    expect(seen).toEqual(['down partner local Error: store call timed out after 50 ms']);
    expect(b.storeAvailable).toBe(false);
    // the local bucket holds a quarter: 25 tokens at once (one went to the caller above), then 50/s
    let admitted = 0;
    for (let i = 0; i < 100; i++) if (b.tryTake(1, clock.now())) admitted++;
    expect(admitted).toBe(24);
    expect(b.fallbackDecisions).toBe(101);
    store.release(); // the hung call answers late: its tokens are handed back next time
    store.mode = 'ok';
    await flush();
    expect(b.storeAvailable).toBe(false);
    clock.advance(PROBE_INTERVAL_MS);
    b.tryTake(1, clock.now()); // decided locally, and probes the store
    await flush();
    expect(seen).toEqual(['down partner local Error: store call timed out after 50 ms', 'up partner']);
    expect(b.storeAvailable).toBe(true);
    expect(store.calls.at(-1)).toMatchObject({ need: 0, held: 0 });
    expect(store.calls.at(-1)!.giveBack).toBeGreaterThan(0);
  });

  it('never probes more than once per interval while the store keeps failing', async () => {
    const store = new MemoryStore();
    const b = bucket(store);
    store.mode = 'fail';
    expect(await take(b)).toBe(true); // refused by the store, decided by the fallback
    const calls = store.calls.length;
    for (let i = 0; i < 50; i++) b.tryTake(1, clock.now());
    expect(store.calls.length).toBe(calls);
    clock.advance(PROBE_INTERVAL_MS);
    b.tryTake(1, clock.now());
    expect(store.calls.length).toBe(calls + 1);
  });

  it.each([
    ['allow', true],
    ['deny', false],
  ] as const)("with onStoreUnavailable '%s' decides every call that way", async (mode, expected) => {
    const store = new MemoryStore();
    store.mode = 'fail';
    const b = bucket(store, { onStoreUnavailable: mode });
    expect(await take(b)).toBe(expected);
    for (let i = 0; i < 500; i++) expect(b.tryTake(1, clock.now())).toBe(expected);
  });

  it('uses localShare when given', async () => {
    const store = new MemoryStore();
    store.mode = 'fail';
    const b = bucket(store, { localShare: 0.1 });
    await take(b);
    let admitted = 1;
    for (let i = 0; i < 100; i++) if (b.tryTake(1, clock.now())) admitted++;
    expect(admitted).toBe(10);
  });
});

describe('StoreBucket: counted on the stream and in Prometheus', () => {
  it('adds the limiterStore fields to its commands on the stream, and limiter metrics to Prometheus', async () => {
    const store = new MemoryStore();
    const b = bucket(store);
    const cmd = command({ key: 'Counted', rateLimit: { limiter: 'partner' }, run: async () => 'ok', fallback: () => 'limited' });
    command({ key: 'Plain', run: async () => 'ok' });
    await cmd.execute();
    const pick = (o: Record<string, unknown>) => ({ available: o.limiterStoreAvailable, unavailable: o.cumulativeCountLimiterStoreUnavailable, fallback: o.cumulativeCountLimiterStoreFallback });
    const fields = async (key: string) => {
      const fresh = pick(hystrixDashboardSample().find((x) => x.name === key) as unknown as Record<string, unknown>);
      // the stream's own (sliced, cached) sample carries the same fields, and sees them change
      expect(pick((await sampleObjectsInSlices()).find((x) => x.name === key) as unknown as Record<string, unknown>)).toEqual(fresh);
      return fresh;
    };
    expect(await fields('Counted')).toEqual({ available: true, unavailable: 0, fallback: 0 });
    expect(await fields('Plain')).toEqual({ available: undefined, unavailable: undefined, fallback: undefined });
    store.mode = 'fail';
    clock.advance(LEASE_TTL_MS);
    await cmd.execute();
    await cmd.execute();
    expect(b.storeAvailable).toBe(false);
    expect(await fields('Counted')).toEqual({ available: false, unavailable: 1, fallback: 2 });
    const registry = new Registry();
    registerPrometheus(registry);
    const text = await registry.metrics();
    expect(text).toContain('breakwater_limiter_store_available{limiter="partner"} 0');
    expect(text).toContain('breakwater_limiter_store_unavailable_total{limiter="partner"} 1');
    expect(text).toContain('breakwater_limiter_store_fallback_decisions_total{limiter="partner"} 2');
  });
});

describe('a command on a store-backed limiter', () => {
  it('is admitted after one store decision even with maxWait 0, then from the lease; RATE_LIMITED when the fleet bucket is empty', async () => {
    const store = new MemoryStore();
    configure({ limiters: { partner: { capacity: 5, refillPerSecond: 1, store } } });
    const cmd = command({ key: 'Partner', rateLimit: { limiter: 'partner' }, run: async () => 'ok', fallback: () => 'limited' });
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await cmd.execute());
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'limited', 'limited']);
    expect(metricsFor('Partner').snapshot().rolling.RATE_LIMITED).toBe(2);
    expect(cmd.executeSync === undefined).toBe(false);
  });

  it('refuses bad limiter options with errors naming them', () => {
    const store = new MemoryStore();
    expect(() => configure({ limiters: { x: { capacity: 1, refillPerSecond: 1, store, onStoreUnavailable: 'open' as never } } })).toThrow(
      /`limiters\.x\.onStoreUnavailable` must be one of 'local', 'allow', 'deny', got "open"/,
    );
    expect(() => configure({ limiters: { x: { capacity: 1, refillPerSecond: 1, store, localShare: 0 } } })).toThrow(/`limiters\.x\.localShare` must be a fraction > 0/);
    expect(() => configure({ limiters: { x: { capacity: 1, refillPerSecond: 1, store, localShare: 2 } } })).toThrow(RangeError);
    expect(() => configure({ limiters: { x: { capacity: 1, refillPerSecond: 1, store: {} as never } } })).toThrow(/`limiters\.x\.store` must be a store made by redisStore/);
    expect(() => configure({ limiters: { x: { capacity: 1, refillPerSecond: 1, localShare: 0.5 } } })).toThrow(/`limiters\.x\.localShare` must be absent unless `store` is given/);
  });
});
