/**
 * A deterministic simulation of one command in front of a dependency with a real capacity, on a FakeClock: the
 * measurement behind docs/adaptive-concurrency.md and docs/benchmarks.md ("Adaptive concurrency"), also asserted by
 * test/bulkhead/adaptiveSimulation.test.ts.
 *
 * The dependency has `capacity` workers; a call needs `workMs` of work. With n calls at the dependency, each gets
 * min(1, capacity / n) of a worker per ms (processor sharing), so up to `capacity` calls take `workMs` and beyond it
 * latency grows as n·workMs/capacity — Little's law with a throughput of capacity/workMs calls per ms. Calls arrive
 * as a Poisson process (seeded) at `offeredPerMs`; a call that times out keeps the dependency busy until its work is
 * done (the dependency does not know the caller gave up). The circuit breaker is disabled so that the bulkhead
 * alone is measured.
 */
import { command, configure, type AdaptiveOptions, type CommandSettings } from '../src/index.js';
import { existingRuntime } from '../src/command/CommandRuntime.js';
import { useFakeClock } from '../src/testing.js';
import { seededRandom } from '../test/support/seededRandom.js';

/** What the simulation varies. */
export interface SimulationOptions {
  /** A label for tables. */
  readonly name: string;
  /** The bulkhead: an adaptive limit, or a fixed semaphore of `maxConcurrent`. */
  readonly bulkhead: { readonly adaptive: AdaptiveOptions } | { readonly maxConcurrent: number };
  /** Dependency workers. @defaultValue 20 */
  readonly capacity?: number;
  /** Work per call at time t (ms), e.g. a step or a ramp. @defaultValue 20 ms throughout */
  readonly workMs?: (t: number) => number;
  /** Offered calls per ms (Poisson). @defaultValue 2 (twice the dependency's throughput of 20 / 20 ms) */
  readonly offeredPerMs?: number;
  /** Simulated ms. @defaultValue 30 000 */
  readonly durationMs?: number;
  /** The command's timeout, ms. @defaultValue 1000 */
  readonly timeout?: number;
  /** The PRNG seed. @defaultValue 1 */
  readonly seed?: number;
  /** Record the limit every this many ms. @defaultValue 100 */
  readonly sampleEveryMs?: number;
}

/** What one run measured. */
export interface SimulationResult {
  readonly name: string;
  /** [t ms, limit] every `sampleEveryMs` (the fixed size for a semaphore). */
  readonly limits: readonly (readonly [number, number])[];
  /** [t ms, calls at the dependency] every `sampleEveryMs`. */
  readonly inflight: readonly (readonly [number, number])[];
  /** Latency (ms) of successful calls after the warm-up (the first third of the run): p50, p99. */
  readonly p50: number;
  readonly p99: number;
  /** Successful calls per ms after the warm-up. */
  readonly goodputPerMs: number;
  /** Fractions of the calls after the warm-up: rejected by the bulkhead, timed out. */
  readonly rejected: number;
  readonly timedOut: number;
  /** Mean limit after the warm-up. */
  readonly meanLimit: number;
  /** [start ms, latency ms] of every successful call, warm-up included, in order of completion. */
  readonly calls: readonly (readonly [number, number])[];
}


/** Poisson-distributed count with mean `lambda` (Knuth; lambda is small here). */
function poisson(lambda: number, random: () => number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= random();
  } while (p > l);
  return k - 1;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Job {
  remaining: number;
  done: () => void;
}

/** Runs one simulation (takes about a second of real time per 30 simulated seconds). */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const capacity = options.capacity ?? 20;
  const workMs = options.workMs ?? (() => 20);
  const offered = options.offeredPerMs ?? 2;
  const duration = options.durationMs ?? 30_000;
  const every = options.sampleEveryMs ?? 100;
  const random = seededRandom(options.seed ?? 1);
  const realRandom = Math.random;
  Math.random = seededRandom((options.seed ?? 1) + 7); // Vegas' probe jitter, made repeatable
  const clock = useFakeClock();
  try {
    const key = `Sim.${options.name}`;
    const bulkhead: CommandSettings =
      'adaptive' in options.bulkhead ? { isolation: 'adaptive', adaptive: options.bulkhead.adaptive } : { isolation: 'semaphore', maxConcurrent: options.bulkhead.maxConcurrent };
    configure({ commands: { [key]: { ...bulkhead, timeout: options.timeout ?? 1000, circuitBreaker: { enabled: false }, requestLog: false } } });
    const jobs: Job[] = [];
    const cmd = command({
      key,
      run: () => new Promise<string>((resolve) => jobs.push({ remaining: workMs(clock.now()), done: () => resolve('ok') })),
      fallback: (error: unknown) => ((error as { failureType?: string }).failureType === 'TIMEOUT' ? 'timeout' : 'rejected'),
    });
    const warmup = Math.floor(duration / 3);
    const latencies: number[] = [];
    const calls: [number, number][] = [];
    let counted = 0;
    let rejected = 0;
    let timedOut = 0;
    let limitSum = 0;
    let limitCount = 0;
    const limits: [number, number][] = [];
    const inflight: [number, number][] = [];
    const runtime = () => existingRuntime(key)!;
    const currentLimit = () => runtime().adaptive?.limit ?? runtime().semaphore.limit;
    for (let t = 0; t < duration; t++) {
      const arrivals = poisson(offered, random);
      for (let i = 0; i < arrivals; i++) {
        const startedAt = clock.now();
        const measured = startedAt >= warmup;
        void cmd.execute().then((outcome) => {
          if (outcome === 'ok') calls.push([startedAt, clock.now() - startedAt]);
          if (!measured) return;
          counted++;
          if (outcome === 'ok') latencies.push(clock.now() - startedAt);
          else if (outcome === 'timeout') timedOut++;
          else rejected++;
        });
      }
      // one ms of work, shared by the calls at the dependency
      const share = Math.min(1, capacity / Math.max(1, jobs.length));
      let w = 0;
      for (const job of jobs) {
        job.remaining -= share;
        if (job.remaining <= 1e-9) job.done();
        else jobs[w++] = job;
      }
      jobs.length = w;
      clock.advance(1);
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the settled calls reach the executor
      if (t % every === 0) {
        limits.push([t, currentLimit()]);
        inflight.push([t, jobs.length]);
      }
      if (t >= warmup) {
        limitSum += currentLimit();
        limitCount++;
      }
    }
    latencies.sort((a, b) => a - b);
    const measuredMs = duration - warmup;
    return {
      name: options.name,
      limits,
      inflight,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      goodputPerMs: latencies.length / measuredMs,
      rejected: counted === 0 ? 0 : rejected / counted,
      timedOut: counted === 0 ? 0 : timedOut / counted,
      meanLimit: limitCount === 0 ? 0 : limitSum / limitCount,
      calls,
    };
  } finally {
    Math.random = realRandom;
  }
}

/** The p-th percentile of the recorded limits from `fromMs` on. */
export function limitPercentile(result: SimulationResult, p: number, fromMs: number): number {
  const values = result.limits.filter(([t]) => t >= fromMs).map(([, l]) => l);
  values.sort((a, b) => a - b);
  return percentile(values, p);
}

/** The p-th percentile latency (ms) of the successful calls started in [fromMs, toMs). */
export function latencyPercentile(result: SimulationResult, p: number, fromMs: number, toMs: number): number {
  const values = result.calls.filter(([t]) => t >= fromMs && t < toMs).map(([, l]) => l);
  values.sort((a, b) => a - b);
  return percentile(values, p);
}

/** Throughput: successful calls per ms that completed in [fromMs, toMs). */
export function servedPerMs(result: SimulationResult, fromMs: number, toMs: number): number {
  return result.calls.filter(([t, latency]) => t + latency >= fromMs && t + latency < toMs).length / (toMs - fromMs);
}

/** The median and the mean of the recorded limit in each window of `windowMs` (from 0), for saw-tooth limits. */
export function windowedLimits(result: SimulationResult, windowMs: number): { readonly from: number; readonly median: number; readonly mean: number }[] {
  const out: { from: number; median: number; mean: number }[] = [];
  for (let from = 0; ; from += windowMs) {
    const values = result.limits.filter(([t]) => t >= from && t < from + windowMs).map(([, l]) => l);
    if (values.length === 0) return out;
    values.sort((a, b) => a - b);
    out.push({ from, median: percentile(values, 50), mean: values.reduce((a, b) => a + b, 0) / values.length });
  }
}

/**
 * The end (ms) of the first window of `windowMs` from which the windowed `stat` of the limit stays within
 * [low, high] to the end of the run: "settled within the band by then"; -1 if the last window is outside it.
 */
export function bandReachedBy(result: SimulationResult, windowMs: number, stat: 'median' | 'mean', low: number, high: number): number {
  let since = -1;
  for (const w of windowedLimits(result, windowMs)) {
    if (w[stat] >= low && w[stat] <= high) {
      if (since < 0) since = w.from + windowMs;
    } else since = -1;
  }
  return since;
}
