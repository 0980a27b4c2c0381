/**
 * The scenarios of the adaptive-concurrency measurement (bench/adaptive.ts prints them, the test asserts them):
 * a dependency of capacity 20 and 20 ms of work per call (so 1 call per ms at most), offered twice that.
 */
import { simulate, type SimulationOptions, type SimulationResult } from './adaptiveSimulation.js';

/** Unloaded latency of the simulated dependency, ms. */
export const UNLOADED_MS = 20;
/** Its capacity, concurrent calls. */
export const CAPACITY = 20;

/** The fixed semaphores each scenario is compared with, in the same run. */
export const TOO_BIG = 200;
export const TOO_SMALL = 5;

/** Steady overload (2× the dependency's throughput) for 30 s: every algorithm and two fixed semaphores. */
export const OVERLOAD: readonly SimulationOptions[] = (
  [
  { name: 'vegas', bulkhead: { adaptive: { algorithm: 'vegas' } } },
  { name: 'gradient2', bulkhead: { adaptive: { algorithm: 'gradient2' } } },
  { name: 'aimd', bulkhead: { adaptive: { algorithm: 'aimd' } } },
  { name: 'aimd, timeout 50 ms', bulkhead: { adaptive: { algorithm: 'aimd', timeout: 50, minLimit: 1 } } },
  { name: 'semaphore 200 (too big)', bulkhead: { maxConcurrent: TOO_BIG } },
  { name: 'semaphore 5 (too small)', bulkhead: { maxConcurrent: TOO_SMALL } },
    { name: 'semaphore 20 (hand-sized)', bulkhead: { maxConcurrent: 20 } },
  ] satisfies SimulationOptions[]
).map((o): SimulationOptions => ({ ...o, durationMs: 30_000 }));

/** The dependency's work per call steps from 20 to 80 ms at 10 s, or climbs there between 10 and 30 s. */
export const STEP = (t: number): number => (t < 10_000 ? 20 : 80);
export const RAMP = (t: number): number => (t < 10_000 ? 20 : Math.min(80, 20 + (60 * (t - 10_000)) / 20_000));

/**
 * Latency changes at half the unloaded throughput (0.5 calls per ms: overloaded once the work reaches 40 ms), for
 * an algorithm or a fixed semaphore of `maxConcurrent`.
 */
export function latencyChange(bulkhead: 'vegas' | 'gradient2' | 'aimd' | number, shape: 'step' | 'ramp'): SimulationOptions {
  return {
    name: typeof bulkhead === 'number' ? `semaphore ${bulkhead}, ${shape}` : `${bulkhead}, ${shape}`,
    bulkhead:
      typeof bulkhead === 'number'
        ? { maxConcurrent: bulkhead }
        : { adaptive: bulkhead === 'aimd' ? { algorithm: bulkhead, timeout: 200, minLimit: 1 } : { algorithm: bulkhead } },
    offeredPerMs: 0.5,
    durationMs: 30_000,
    workMs: shape === 'step' ? STEP : RAMP,
  };
}

/** The limit at time t (the last sample at or before it). */
export function limitAt(result: SimulationResult, t: number): number {
  let limit = result.limits[0]![1];
  for (const [at, l] of result.limits) if (at <= t) limit = l;
  return limit;
}

/** Runs a list of scenarios one after another. */
export async function runAll(list: readonly SimulationOptions[]): Promise<SimulationResult[]> {
  const out: SimulationResult[] = [];
  for (const o of list) out.push(await simulate(o));
  return out;
}
