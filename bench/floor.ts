/**
 * The floors: what any wrapper with breakwater's guarantees pays on this machine before doing anything of its own.
 * An execution reads the clock twice (start and end: latency, deadline, rolling buckets), and an async execution
 * returns a Promise that its deadline can settle before the run does, so it cannot simply return `run().then(…)`.
 * Measured in their own child, as ratios to the same bare `await fn()`.
 */
import { performance } from 'node:perf_hooks';
import { timeOps, type HarnessOptions, type Op } from './harness.js';
import { fallbackValue, work } from './scenario.js';

let resolveNext: (value: unknown) => void = () => undefined;
let rejectNext: (error: unknown) => void = () => undefined;
function capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  resolveNext = resolve;
  rejectNext = reject;
}

/** The floors measured, with what each stands for. */
export const FLOORS: Record<string, { readonly title: string; readonly op: Op }> = {
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
    op: {
      kind: 'async',
      fn: () => {
        const start = performance.now();
        const promise = new Promise<unknown>(capture);
        const resolve = resolveNext;
        work().then((v) => resolve(performance.now() - start > -1 ? v : 0), rejectNext);
        return promise;
      },
    },
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
};

/** Measures every floor next to a bare `await fn()`. */
export async function measureFloors(o: HarnessOptions): Promise<Record<string, unknown>> {
  const ops: Record<string, Op> = { bare: { kind: 'async', fn: work } };
  for (const [name, f] of Object.entries(FLOORS)) ops[name] = f.op;
  const t = await timeOps(ops, o);
  const floors: Record<string, { title: string; ns: number; ratio: number }> = {};
  for (const [name, f] of Object.entries(FLOORS)) floors[name] = { title: f.title, ns: t[name]!.ns, ratio: t[name]!.ns / t.bare!.ns };
  return { id: 'floors', bareNs: t.bare!.ns, floors };
}
