import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { command, configure, events, redisStore } from '../../src/index.js';
import { sharedEntry } from '../../src/limiter/registry.js';
import type { StoreBucket } from '../../src/limiter/StoreBucket.js';
import { resetBreakwater } from '../../src/testing.js';
import { startRedis, type RedisServer } from './support/redisServer.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(() => {
  resetBreakwater();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface WorkerResult {
  admitted: number[];
  rejected: number;
  storeEvents: string[];
}

/** One fleet instance (test/store/support/fleetWorker.ts) as its own process; bounded in time. */
interface Worker {
  /** Resolves once the instance has loaded and connected to Redis. */
  readonly ready: Promise<void>;
  /** Tells it when to start (epoch ms). */
  start(at: number): void;
  readonly result: Promise<WorkerResult>;
}

function worker(env: Record<string, string>, limitMs: number): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/support/fleetWorker.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onReady = (): void => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.on('error', () => undefined); // an instance that died is reported by its exit code
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const result = new Promise<WorkerResult>((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`worker exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult);
    });
  });
  result.catch(() => undefined); // read by the test; a failed start-up is reported through `ready` below
  return {
    ready: Promise.race([ready, result.then(() => Promise.reject(new Error(`worker exited before it was ready: ${err}`)))]),
    start: (at) => child.stdin.end(`${at}\n`),
    result,
  };
}

describe('a token bucket shared through a real redis-server', () => {
  it('four processes sharing 200/s for 5 s admit capacity + 1,000 within 5 %, and no 5 s window admits more', async () => {
    const capacity = 100;
    const rate = 200;
    const durationMs = 6000;
    const env = {
      REDIS_PORT: String(redis.port),
      PREFIX: `fleet-${process.pid}:`,
      CAPACITY: String(capacity),
      RATE: String(rate),
      DURATION_MS: String(durationMs),
    };
    const workers = [1, 2, 3, 4].map(() => worker(env, 45_000));
    // Each process takes its own time to load (seconds on a loaded machine, more with a cold tsx cache): they start
    // together once all are connected, a moment after the start is sent.
    await Promise.all(workers.map((w) => w.ready));
    const startAt = Date.now() + 1000;
    for (const w of workers) w.start(startAt);
    const results = await Promise.all(workers.map((w) => w.result));
    const times = results.flatMap((r) => r.admitted).sort((a, b) => a - b);
    const first5s = times.filter((t) => t < 5000).length;
    let maxWindow = 0;
    for (let from = 0; from + 5000 <= durationMs; from += 10) {
      maxWindow = Math.max(maxWindow, times.filter((t) => t >= from && t < from + 5000).length);
    }
    const lastSecond = times.filter((t) => t >= durationMs - 1000).length;
    const bound = capacity + (rate * 5000) / 1000; // 1,100
    console.log(
      `fleet: first 5 s admitted ${first5s} of ${bound} (${((first5s / bound) * 100).toFixed(1)} %), max 5 s window ${maxWindow}, ` +
        `last second ${lastSecond}/s against ${rate}/s, per process ${results.map((r) => r.admitted.length).join(' ')}, rejected ${results.reduce((a, r) => a + r.rejected, 0)}`,
    );
    for (const r of results) expect(r.storeEvents).toEqual([]); // the store answered in time throughout
    expect(Math.abs(first5s - bound)).toBeLessThanOrEqual(bound * 0.05);
    expect(maxWindow).toBeLessThanOrEqual(bound * 1.05);
    expect(results.every((r) => r.admitted.length > 100)).toBe(true); // every instance got its turn
  }, 60_000);

  it('writes keys under the prefix that expire (TTLs set on every key)', async () => {
    const client = redis.client();
    const prefix = `ttl-${process.pid}:`;
    configure({ limiters: { partner: { capacity: 10, refillPerSecond: 20, store: redisStore(client, { prefix }) } } });
    const cmd = command({ key: 'TtlCall', rateLimit: { limiter: 'partner' }, run: async () => true, fallback: () => false });
    for (let i = 0; i < 5; i++) await cmd.execute();
    const keys = (await client.keys(`${prefix}*`)).sort();
    expect(keys).toEqual([`${prefix}bucket:{partner}`, `${prefix}bucket:{partner}:holders`]);
    const bucketTtl = await client.pttl(`${prefix}bucket:{partner}`);
    const holdersTtl = await client.pttl(`${prefix}bucket:{partner}:holders`);
    expect(bucketTtl).toBeGreaterThan(0);
    expect(bucketTtl).toBeLessThanOrEqual(1500); // 10 tokens at 20/s fill in 500 ms, + 1 s
    expect(holdersTtl).toBeGreaterThan(0);
    expect(holdersTtl).toBeLessThanOrEqual(4000);
    await sleep(bucketTtl + 100);
    expect(await client.exists(`${prefix}bucket:{partner}`)).toBe(0);
    (sharedEntry('partner') as StoreBucket).close();
  });

  it('with Redis killed mid-run: no caller waits past the store deadline, the local share holds, and it switches back by itself', async () => {
    const client = redis.client();
    await client.ping(); // connected: the store deadline below is for answers, not for setting up the connection
    const storeTimeout = 100;
    configure({
      limiters: {
        partner: { capacity: 100, refillPerSecond: 200, localShare: 0.25, store: redisStore(client, { prefix: `kill-${process.pid}:`, timeout: storeTimeout }) },
      },
    });
    const bucket = sharedEntry('partner') as StoreBucket;
    const cmd = command({ key: 'KillCall', timeout: false, rateLimit: { limiter: 'partner' }, run: async () => true, fallback: () => false });
    // The run starts with the store answering. On a loaded machine the first call (behind the connection set-up)
    // has missed the 100 ms deadline: the store was away from the start (66 calls admitted in the first second
    // instead of ~300) and came back by its next probe, 1 s later, either just before the kill (an extra
    // unavailable/recovered pair) or not at all. So: calls until one is answered in time (a probe a second while
    // away), 10 s at most; the events and counts of the run are taken from here on.
    const warmBy = performance.now() + 10_000;
    await cmd.execute();
    while (!bucket.storeAvailable && performance.now() < warmBy) {
      await sleep(50);
      await cmd.execute();
    }
    expect(bucket.storeAvailable).toBe(true);
    const unavailableBefore = bucket.unavailableCount;
    const seen: string[] = [];
    events.on('limiterStoreUnavailable', () => seen.push('unavailable'));
    events.on('limiterStoreRecovered', () => seen.push('recovered'));
    let phase: 'up' | 'down' | 'back' = 'up';
    const admitted = { up: 0, down: 0, back: 0 };
    let slowest = 0;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        const started = performance.now();
        const ok = await cmd.execute();
        slowest = Math.max(slowest, performance.now() - started);
        if (ok) admitted[phase]++;
        await sleep(1); // ~1,000 asks per second per loop: more than the limit
      }
    };
    const loops = [loop(), loop()];
    await sleep(1000);
    await redis.kill();
    phase = 'down';
    const downAt = performance.now();
    await sleep(2000);
    expect(bucket.storeAvailable).toBe(false);
    await redis.restart();
    const downMs = performance.now() - downAt;
    phase = 'back';
    const backBy = performance.now() + 15_000;
    while (bucket.storeAvailable === false && performance.now() < backBy) await sleep(50);
    const recoveredAfter = performance.now() - downAt - downMs;
    await sleep(500);
    stop = true;
    await Promise.all(loops);
    const shareBound = 0.25 * (100 + 200 * (downMs / 1000));
    console.log(
      `kill/restart: admitted up ${admitted.up}/1 s, down ${admitted.down} in ${Math.round(downMs)} ms (share bound ${Math.round(shareBound)}), ` +
        `back to Redis ${Math.round(recoveredAfter)} ms after restart, slowest call ${slowest.toFixed(1)} ms, fallback decisions ${bucket.fallbackDecisions}`,
    );
    expect(seen).toEqual(['unavailable', 'recovered']);
    expect(bucket.storeAvailable).toBe(true);
    expect(bucket.unavailableCount - unavailableBefore).toBe(1);
    expect(slowest).toBeLessThan(storeTimeout + 150); // the deadline, plus timer lateness on a busy machine
    expect(admitted.down).toBeLessThanOrEqual(shareBound * 1.05);
    expect(admitted.down).toBeGreaterThan(shareBound * 0.5); // the fallback admits its share, it does not deny all
    expect(admitted.back).toBeGreaterThan(0);
    bucket.close();
  }, 40_000);
});
