/**
 * Hedging against a heavy-tailed dependency: `npm run bench:hedging` (under `flock /work/bench.lock` on a shared
 * machine). A real-time measurement, not a micro-benchmark: the dependency answers after a real timer of BASE_MS,
 * and 1 % of its calls take TAIL_FACTOR × longer. CALLS calls run CONCURRENCY at a time through a command without
 * hedging and through one with `hedge: { delay: 'p95' }` (after a warm-up that fills the key's latency histogram),
 * with the same seeded sequence of slow calls. Prints p50/p99/p99.9/max of what callers waited, and the extra load:
 * the dependency calls per caller call.
 */
import { command, configure, metricsFor, systemClock } from '../src/index.js';
import { seededRandom } from '../test/support/seededRandom.js';

const BASE_MS = 10;
const TAIL_FACTOR = 50;
const TAIL_RATE = Number(process.env.BW_HEDGE_TAIL ?? 0.01);
const CALLS = Number(process.env.BW_HEDGE_CALLS ?? 5000);
const WARMUP = 500;
const CONCURRENCY = 50;


interface Outcome {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly dependencyCalls: number;
  readonly hedges: number;
}

async function measure(key: string, hedge: boolean): Promise<Outcome> {
  const random = seededRandom(42);
  let dependencyCalls = 0;
  const dependency = (signal: AbortSignal): Promise<number> => {
    dependencyCalls++;
    const ms = random() < TAIL_RATE ? BASE_MS * TAIL_FACTOR : BASE_MS;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => resolve(ms), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      }, { once: true });
    });
  };
  const call = command({
    key,
    timeout: 5000,
    maxConcurrent: CONCURRENCY * 4,
    circuitBreaker: { enabled: false },
    ...(hedge ? { idempotent: true, hedge: { delay: 'p95' as const, maxExtra: 1 } } : {}),
    run: (ctx) => dependency(ctx.signal),
  });
  const run = async (n: number, waits: number[] | null): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        next++;
        const started = performance.now();
        await call.execute();
        waits?.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };
  await run(WARMUP, null); // fills the key's latency histogram (and the budget's first attempts)
  await new Promise((r) => setTimeout(r, 600)); // past healthSnapshotInterval: the hedge delay is read afresh
  const callsBefore = dependencyCalls;
  const hedgesBefore = metricsFor(key).cumulativeCount('HEDGE');
  const waits: number[] = [];
  await run(CALLS, waits);
  waits.sort((a, b) => a - b);
  const at = (q: number): number => waits[Math.min(waits.length - 1, Math.ceil(q * waits.length) - 1)]!;
  return {
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: waits[waits.length - 1]!,
    dependencyCalls: dependencyCalls - callsBefore,
    hedges: metricsFor(key).cumulativeCount('HEDGE') - hedgesBefore,
  };
}

configure({ clock: systemClock });
const plain = await measure('TailPlain', false);
const hedged = await measure('TailHedged', true);
const ms = (v: number): string => `${v.toFixed(1)} ms`;
console.log(`dependency: ${BASE_MS} ms, ${TAIL_RATE * 100} % of calls ${TAIL_FACTOR}× slower (${BASE_MS * TAIL_FACTOR} ms); ${CALLS} calls, ${CONCURRENCY} at a time`);
console.log('| command | p50 | p99 | p99.9 | max | dependency calls per call |');
console.log('|---|---|---|---|---|---|');
for (const [name, o] of [['no hedge', plain], ["hedge: { delay: 'p95' }", hedged]] as const) {
  console.log(`| ${name} | ${ms(o.p50)} | ${ms(o.p99)} | ${ms(o.p999)} | ${ms(o.max)} | ${(o.dependencyCalls / CALLS).toFixed(3)} (${o.hedges} hedges) |`);
}
console.log(`p99 ratio (hedged / plain): ${(hedged.p99 / plain.p99).toFixed(3)}; extra load: +${(((hedged.dependencyCalls - plain.dependencyCalls) / plain.dependencyCalls) * 100).toFixed(1)} %`);
