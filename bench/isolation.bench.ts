/**
 * A one-off measurement for issue 3 (not part of `npm run bench`): per-call cost of pool isolation and of a
 * rate-limited command (its bucket never empty), as ratios to the plain semaphore command, with a bare
 * `await fn()` for scale. Five interleaved samples per variant; medians.
 *
 *   npx tsx bench/isolation.bench.ts [callsPerSample]
 */
import { command } from '../src/index.js';

const CALLS = Number(process.argv[2] ?? 200_000);
const SAMPLES = 5;

const work = async (n: number): Promise<number> => n + 1;

const variants: Record<string, (n: number) => Promise<number>> = {
  bare: work,
  semaphore: ((c) => (n: number) => c.execute(n))(command({ key: 'BenchSemaphore', run: work, maxConcurrent: 1000 })),
  pool: ((c) => (n: number) => c.execute(n))(command({ key: 'BenchPool', isolation: 'pool', pool: { coreSize: 1000 }, run: work })),
  rateLimited: ((c) => (n: number) => c.execute(n))(
    command({ key: 'BenchLimited', run: work, maxConcurrent: 1000, rateLimit: { capacity: 1e12, refillPerSecond: 1e12 } }),
  ),
};

async function sample(fn: (n: number) => Promise<number>): Promise<number> {
  const start = process.hrtime.bigint();
  let acc = 0;
  for (let i = 0; i < CALLS; i++) acc = await fn(acc);
  const ns = Number(process.hrtime.bigint() - start) / CALLS;
  if (acc !== CALLS) throw new Error('lost calls');
  return ns;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  for (const fn of Object.values(variants)) await sample(fn); // warm up
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let s = 0; s < SAMPLES; s++) {
    for (const [name, fn] of Object.entries(variants)) times[name]!.push(await sample(fn));
  }
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  console.log(`node ${process.version}, ${CALLS} sequential awaited calls per sample, ${SAMPLES} interleaved samples, medians`);
  for (const [name, ns] of Object.entries(med)) {
    console.log(
      `${name.padEnd(12)} ${ns.toFixed(0).padStart(6)} ns/call   ×${(ns / med.semaphore!).toFixed(2)} semaphore   ×${(ns / med.bare!).toFixed(1)} bare   samples ${times[name]!.map((t) => t.toFixed(0)).join(' ')}`,
    );
  }
}

await main();
