/**
 * A one-off measurement for issue 15 (not part of `npm run bench`): per-call cost of a command on a Redis-backed
 * limiter, as a ratio to the same command on a local shared limiter, with a bare `await fn()` for scale. It starts
 * its own redis-server on a free loopback port (no persistence) and stops it. Interleaved samples; medians.
 *
 * - `redisFar`: the bucket is far from empty (calls take leased tokens; a top-up now and then).
 * - `redisNear`: the bucket's lease budget is 0 tokens, as near empty: every call waits for one Lua decision
 *   (admitted while tokens last, then RATE_LIMITED → fallback; both cost the round trip).
 *
 *   npx tsx bench/fleetLimiter.bench.ts [callsPerSample]
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { command, configure, redisStore } from '../src/index.js';

const CALLS = Number(process.argv[2] ?? 20_000);
const SAMPLES = 5;

const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const p = (probe.address() as { port: number }).port;
    probe.close(() => resolve(p));
  });
});
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const client = new Redis({ port, host: '127.0.0.1' });
client.on('error', () => undefined); // until the server listens
await client.ping(); // queued until connected
const store = redisStore(client, { prefix: `bench-${process.pid}:`, timeout: 1000 });
configure({
  limiters: {
    local: { capacity: 1e12, refillPerSecond: 1e12 },
    far: { capacity: 1e12, refillPerSecond: 1e12, store },
    near: { capacity: 20, refillPerSecond: 2, store },
  },
});

const work = async (n: number): Promise<number> => n + 1;
const on = (limiter: string) =>
  ((c) => (n: number) => c.execute(n))(command({ key: `Bench_${limiter}`, run: work, fallback: (_e, n: number) => n + 1, maxConcurrent: 1000, rateLimit: { limiter } }));
const variants: Record<string, (n: number) => Promise<number>> = { bare: work, local: on('local'), redisFar: on('far'), redisNear: on('near') };

async function sample(name: string, fn: (n: number) => Promise<number>): Promise<number> {
  const calls = name === 'redisNear' ? Math.max(200, Math.floor(CALLS / 20)) : CALLS;
  const start = process.hrtime.bigint();
  let acc = 0;
  for (let i = 0; i < calls; i++) acc = await fn(acc);
  if (acc !== calls) throw new Error('lost calls');
  return Number(process.hrtime.bigint() - start) / calls;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  for (const [name, fn] of Object.entries(variants)) await sample(name, fn); // warm up
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let s = 0; s < SAMPLES; s++) for (const [name, fn] of Object.entries(variants)) times[name]!.push(await sample(name, fn));
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  console.log(`node ${process.version}, redis-server on loopback, ${CALLS} sequential awaited calls per sample (redisNear: ${Math.max(200, Math.floor(CALLS / 20))}), ${SAMPLES} interleaved samples, medians`);
  for (const [name, ns] of Object.entries(med)) {
    console.log(
      `${name.padEnd(10)} ${ns.toFixed(0).padStart(7)} ns/call   ×${(ns / med.local!).toFixed(2)} local limiter   ×${(ns / med.bare!).toFixed(1)} bare   samples ${times[name]!.map((t) => t.toFixed(0)).join(' ')}`,
    );
  }
} finally {
  client.disconnect();
  server.kill('SIGKILL');
}
