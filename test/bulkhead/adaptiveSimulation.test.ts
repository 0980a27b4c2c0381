/**
 * The adaptive limits against a simulated dependency with a real capacity (bench/adaptiveSimulation.ts: 20 workers,
 * 20 ms of work per call, latency n·20/20 ms beyond 20 calls by Little's law), on a FakeClock, deterministic
 * (seeded arrivals). The figures asserted here are the ones docs/adaptive-concurrency.md and docs/benchmarks.md state.
 */
import { describe, expect, it } from 'vitest';
import { CAPACITY, latencyChange, limitAt, OVERLOAD, runAll, UNLOADED_MS } from '../../bench/adaptiveScenarios.js';
import { limitPercentile, type SimulationResult } from '../../bench/adaptiveSimulation.js';

let overload: Map<string, SimulationResult> | null = null;
async function results(): Promise<Map<string, SimulationResult>> {
  overload ??= new Map((await runAll(OVERLOAD)).map((r) => [r.name, r]));
  return overload;
}

describe('adaptive limits under twice the dependency throughput (30 s, statistics from 10 s on)', () => {
  it('vegas finds the capacity: median limit 1–2× capacity, p99 within 2.5× the unloaded latency, ≥ 90% of its throughput', async () => {
    const r = (await results()).get('vegas')!;
    const median = limitPercentile(r, 50, 10_000);
    expect(median).toBeGreaterThanOrEqual(CAPACITY);
    expect(median).toBeLessThanOrEqual(2 * CAPACITY);
    expect(limitPercentile(r, 10, 10_000)).toBeGreaterThanOrEqual(0.5 * CAPACITY);
    expect(limitPercentile(r, 90, 10_000)).toBeLessThanOrEqual(2.5 * CAPACITY);
    expect(r.p99).toBeLessThanOrEqual(2.5 * UNLOADED_MS);
    expect(r.goodputPerMs).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('aimd with a 50 ms timeout saws around the capacity: median 0.75–2× capacity, p99 within 3.5× unloaded', async () => {
    const r = (await results()).get('aimd, timeout 50 ms')!;
    const median = limitPercentile(r, 50, 10_000);
    expect(median).toBeGreaterThanOrEqual(0.75 * CAPACITY);
    expect(median).toBeLessThanOrEqual(2 * CAPACITY);
    expect(r.p99).toBeLessThanOrEqual(3.5 * UNLOADED_MS);
  }, 60_000);

  it('aimd with its default 5 s timeout and gradient2 do not settle: latency rises without drops or steps, the limit reaches maxLimit', async () => {
    for (const name of ['aimd', 'gradient2']) {
      const r = (await results()).get(name)!;
      expect(limitPercentile(r, 10, 10_000)).toBe(200);
      expect(r.p99).toBe(10 * UNLOADED_MS); // as the semaphore that is too big
    }
  }, 60_000);

  it('against fixed semaphores: 200 is 10× slower at p99, 5 serves a quarter of the throughput', async () => {
    const all = await results();
    expect(all.get('semaphore 200 (too big)')!.p99).toBe(10 * UNLOADED_MS);
    expect(all.get('semaphore 5 (too small)')!.goodputPerMs).toBeLessThan(0.26);
    expect(all.get('semaphore 20 (hand-sized)')!.p99).toBe(UNLOADED_MS);
    expect(all.get('vegas')!.goodputPerMs).toBeGreaterThan(3.5 * all.get('semaphore 5 (too small)')!.goodputPerMs);
  }, 60_000);
});

describe('gradient2 reacts to a sudden rise of latency, not to a slow climb', () => {
  it('halves its limit within 500 ms of a step from 20 to 80 ms, but not on a ramp over 20 s', async () => {
    const [step, ramp] = await runAll([latencyChange('gradient2', 'step'), latencyChange('gradient2', 'ramp')]);
    const before = limitAt(step!, 9_900);
    expect(limitAt(step!, 10_500)).toBeLessThanOrEqual(before / 2);
    expect(limitAt(ramp!, 9_900)).toBe(before);
    for (let t = 10_000; t <= 20_000; t += 500) expect(limitAt(ramp!, t)).toBeGreaterThanOrEqual(before); // climbs along, never cut
  }, 60_000);

  it('vegas follows both, by the no-load RTT it measures', async () => {
    const [step, ramp] = await runAll([latencyChange('vegas', 'step'), latencyChange('vegas', 'ramp')]);
    expect(limitAt(step!, 12_000)).toBeLessThan(limitAt(step!, 9_900));
    expect(limitAt(ramp!, 20_000)).toBeLessThan(limitAt(ramp!, 9_900));
  }, 60_000);
});
