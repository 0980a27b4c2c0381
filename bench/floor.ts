/**
 * The floors: what any wrapper with breakwater's guarantees pays on this machine before doing anything of its own.
 * An execution reads the clock twice (start and end: latency, deadline, rolling buckets), and an async execution
 * returns a Promise that its deadline can settle before the run does, so it cannot simply return `run().then(…)`.
 * Measured in their own child, as ratios to the same bare `await fn()`.
 */
import { performance } from 'node:perf_hooks';
import { timeOps, type HarnessOptions, type Op } from './harness.js';
import { IN_FLIGHT, fallbackValue, gated, inFlightBatch, work } from './scenario.js';

let resolveNext: (value: unknown) => void = () => undefined;
let rejectNext: (error: unknown) => void = () => undefined;
function capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  resolveNext = resolve;
  rejectNext = reject;
}

/** An async success's floor around `run`: a Promise that follows it and could be settled early, two clock reads. */
function settleableTwoClocks(run: () => Promise<number>): Promise<unknown> {
  const start = performance.now();
  const promise = new Promise<unknown>(capture);
  const resolve = resolveNext;
  run().then((v) => resolve(performance.now() - start > -1 ? v : 0), rejectNext);
  return promise;
}

/** What a floor is compared with: the bare `await fn()`, or the bare batch of 1,000 calls in flight. */
export type FloorBase = 'await' | 'inflight';

/** The floors measured, with what each stands for. */
export const FLOORS: Record<string, { readonly title: string; readonly op: Op; readonly base?: FloorBase }> = {
  clock: { title: 'one clock read (performance.now())', op: { kind: 'sync', fn: () => performance.now() } },
  twoClocks: { title: 'two clock reads: the floor of sync mode', op: { kind: 'sync', fn: () => performance.now() + performance.now() } },
  settleable: {
    title: 'a Promise that follows the run and could be settled early',
    op: {
      kind: 'async',
      fn: () => {
        const promise = new Promise<unknown>(capture);
        const resolve = resolveNext;
        work().then((v) => resolve(v), rejectNext);
        return promise;
      },
    },
  },
  settleableTwoClocks: {
    title: '… plus two clock reads: the floor of an async success',
    op: { kind: 'async', fn: () => settleableTwoClocks(work) },
  },
  resolvedTwoClocks: {
    title: 'two clock reads around a sync fallback, Promise.resolve: the floor of an open circuit + fallback',
    op: {
      kind: 'async',
      fn: () => {
        const start = performance.now();
        const v = fallbackValue();
        return Promise.resolve(performance.now() - start > -1 ? v : 0);
      },
    },
  },
  inflightTwoClocks: {
    title: `the async success floor, ${IN_FLIGHT.toLocaleString('en')} calls in flight (× the bare batch)`,
    op: inFlightBatch(() => settleableTwoClocks(gated)),
    base: 'inflight',
  },
};

/** One measured floor: ns per call and its ratio to its base (`base` defaults to the bare await). */
export interface FloorResult {
  readonly title: string;
  readonly ns: number;
  readonly ratio: number;
  readonly base?: FloorBase;
  /** The ratio in each child when several were measured (bench/run.ts keeps the median child's figures). */
  readonly children?: readonly number[];
}

/** Measures every floor next to a bare `await fn()` and the bare batch of calls in flight. */
export async function measureFloors(o: HarnessOptions): Promise<Record<string, unknown>> {
  const ops: Record<string, Op> = { bare: { kind: 'async', fn: work }, bareInflight: inFlightBatch(gated) };
  for (const [name, f] of Object.entries(FLOORS)) ops[name] = f.op;
  const t = await timeOps(ops, o);
  const floors: Record<string, FloorResult> = {};
  for (const [name, f] of Object.entries(FLOORS)) {
    const base = f.base === 'inflight' ? t.bareInflight!.ns : t.bare!.ns;
    floors[name] = { title: f.title, ns: t[name]!.ns, ratio: t[name]!.ns / base, ...(f.base === undefined ? {} : { base: f.base }) };
  }
  return { id: 'floors', bareNs: t.bare!.ns, bareInflightNs: t.bareInflight!.ns, floors };
}
