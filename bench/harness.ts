/**
 * Measurement primitives used inside a benchmark child process: compiled loops, calibration, interleaved samples,
 * medians, heap bytes retained per call and timers created per call. Nothing here knows about any library.
 */
import { createHook } from 'node:async_hooks';

/** How a measured operation is called: awaited (`await op()`) or called (`op()`). */
export type OpKind = 'async' | 'sync';

/** One thing to time. `callsPerOp` > 1 when an op stands for a batch (1,000 calls in flight). */
export interface Op {
  readonly kind: OpKind;
  readonly fn: () => unknown;
  readonly callsPerOp?: number;
}

/** Knobs of one run (full or quick). */
export interface HarnessOptions {
  /** Target duration of one sample (ms). */
  readonly sampleMs: number;
  /** Samples per op (odd, so the median is a sample). */
  readonly samples: number;
  /** Warm-up time per op before sampling (ms). */
  readonly warmupMs: number;
  /** Calls for the heap-retention measurement. */
  readonly memoryCalls: number;
  /** Upper bound on the time the heap-retention measurement may take (ms); fewer calls when an op is slow. */
  readonly memoryBudgetMs: number;
  /** Calls for the timer count. */
  readonly timerCalls: number;
}

/**
 * The timing of one op: median and spread, per call. Times are the process's CPU time (user + system, from
 * `process.cpuUsage()`), not wall-clock time: on a shared machine another process taking the core inflates wall
 * time but not CPU time. On an idle machine the two agree within a few percent (`wallNs` keeps the wall-clock
 * median for comparison).
 */
export interface Timing {
  /** Median CPU ns per call. */
  readonly ns: number;
  /** Median wall-clock ns per call. */
  readonly wallNs: number;
  /** 25th and 75th percentile of the samples, ns per call. */
  readonly p25: number;
  readonly p75: number;
  /** Every sample, ns per call, in the order taken. */
  readonly samples: number[];
  /** Calls per sample. */
  readonly calls: number;
  /** What the last call returned (a sanity check: the op really produced its value). */
  readonly last: unknown;
}

type Loop = (op: () => unknown, n: number) => Promise<unknown>;

/**
 * A fresh loop function per op, compiled from source: each op gets its own feedback vector, so one op's inline
 * caches never make another's call site polymorphic.
 */
export function compileLoop(kind: OpKind): Loop {
  const body =
    kind === 'async'
      ? 'return (async function asyncLoop() { let last; for (let i = 0; i < n; i++) last = await op(); return last; })();'
      : 'let last; for (let i = 0; i < n; i++) last = op(); return Promise.resolve(last);';
  return new Function('op', 'n', body) as Loop;
}

const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    throw new Error('run the benchmark child with node --expose-gc');
  });

/** Two full collections (the second one catches what the first one's finalizers freed). */
export function fullGc(): void {
  gc();
  gc();
}

/** The median of an ascending array. */
export function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

interface Prepared {
  readonly name: string;
  readonly op: Op;
  readonly loop: Loop;
  n: number;
  readonly samples: number[];
  readonly wallSamples: number[];
  last: unknown;
}

/** Runs the loop once; returns [CPU ms, wall ms]. */
async function timeOnce(p: Prepared, n: number): Promise<[number, number]> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  p.last = await p.loop(p.op.fn, n);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / 1000, wall];
}

/** Finds a loop count whose run takes about `ms`. */
async function calibrate(p: Prepared, ms: number): Promise<number> {
  let n = 16;
  for (;;) {
    const t = (await timeOnce(p, n))[1];
    if (t >= ms / 4 || n >= 1 << 26) return Math.max(1, Math.ceil((n * ms) / Math.max(t, 0.001)));
    n *= 4;
  }
}

/**
 * Times several ops in one process, interleaved: warm every op, then take `samples` rounds in which each op runs
 * once (order rotating every round). Interleaving spreads slow drift (CPU frequency, a noisy neighbour, garbage
 * one op leaves for the next) evenly over the ops, so their ratio is steadier than either number.
 */
export async function timeOps(ops: Record<string, Op>, o: HarnessOptions): Promise<Record<string, Timing>> {
  const prepared: Prepared[] = Object.entries(ops).map(([name, op]) => ({
    name,
    op,
    loop: compileLoop(op.kind),
    n: 0,
    samples: [],
    wallSamples: [],
    last: undefined,
  }));
  for (const p of prepared) {
    // Warm-up: the first calibration rounds plus a timed stretch, so the optimising compiler has settled.
    p.n = await calibrate(p, Math.min(o.sampleMs, o.warmupMs));
    const until = performance.now() + o.warmupMs;
    while (performance.now() < until) await timeOnce(p, p.n);
    p.n = await calibrate(p, o.sampleMs);
  }
  // One full GC before sampling, none between samples: a forced full GC every few tens of milliseconds changes
  // V8's steady state (it made breakwater's sync path 50% slower and a bare await faster), which no real
  // process sees.
  fullGc();
  for (let round = 0; round < o.samples; round++) {
    for (let k = 0; k < prepared.length; k++) {
      const p = prepared[(round + k) % prepared.length]!;
      const [cpu, wall] = await timeOnce(p, p.n);
      const calls = p.n * (p.op.callsPerOp ?? 1);
      p.samples.push((cpu * 1e6) / calls);
      p.wallSamples.push((wall * 1e6) / calls);
    }
  }
  const out: Record<string, Timing> = {};
  for (const p of prepared) {
    const sorted = [...p.samples].sort((a, b) => a - b);
    out[p.name] = {
      ns: median(sorted),
      wallNs: median([...p.wallSamples].sort((a, b) => a - b)),
      p25: quantile(sorted, 0.25),
      p75: quantile(sorted, 0.75),
      samples: p.samples,
      calls: p.n * (p.op.callsPerOp ?? 1),
      last: p.last,
    };
  }
  return out;
}

/** Heap retention of one op. */
export interface Retention {
  /** Calls made between the two heap readings. */
  readonly calls: number;
  /** Heap bytes retained per call after a full GC (noise is about ±0.1 B/call over 1,000,000 calls). */
  readonly bytesPerCall: number;
  /** Heap used before and after (bytes). */
  readonly heapBefore: number;
  readonly heapAfter: number;
}

/**
 * Heap bytes retained per call: full GC, read `heapUsed`, make `calls` calls, full GC, read again. A per-call
 * leak of even one small object shows up as ≥ 16 B/call; state that grows with time rather than with calls
 * (a new metrics bucket) is spread over the calls and stays far below 1 B/call.
 */
export async function measureRetention(op: Op, o: HarnessOptions, nsPerCall: number): Promise<Retention> {
  const perOp = op.callsPerOp ?? 1;
  const affordable = Math.floor((o.memoryBudgetMs * 1e6) / Math.max(nsPerCall, 1));
  const calls = Math.max(perOp, Math.min(o.memoryCalls, affordable));
  const n = Math.max(1, Math.round(calls / perOp));
  const loop = compileLoop(op.kind);
  await loop(op.fn, Math.min(n, 1000)); // the loop itself warm, so its code is not counted
  fullGc();
  const heapBefore = process.memoryUsage().heapUsed;
  await loop(op.fn, n);
  fullGc();
  const heapAfter = process.memoryUsage().heapUsed;
  return { calls: n * perOp, bytesPerCall: (heapAfter - heapBefore) / (n * perOp), heapBefore, heapAfter };
}

/** Timers created by one op. */
export interface TimerCount {
  readonly calls: number;
  /** `Timeout` resources (setTimeout / setInterval) created. */
  readonly timeouts: number;
  /** `Immediate` resources (setImmediate) created. */
  readonly immediates: number;
  readonly timersPerCall: number;
}

/**
 * Counts the timers an op creates, with an async_hooks `init` hook on `Timeout` and `Immediate` resources: this
 * sees every Node timer however it was started (global `setTimeout`, `node:timers`, `timers/promises`). The hook
 * slows promises down, so this runs after the timing, never during it.
 */
export async function countTimers(op: Op, calls: number): Promise<TimerCount> {
  const perOp = op.callsPerOp ?? 1;
  const n = Math.max(1, Math.round(calls / perOp));
  const loop = compileLoop(op.kind);
  let timeouts = 0;
  let immediates = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout') timeouts++;
      else if (type === 'Immediate') immediates++;
    },
  });
  hook.enable();
  try {
    await loop(op.fn, n);
  } finally {
    hook.disable();
  }
  return { calls: n * perOp, timeouts, immediates, timersPerCall: timeouts / (n * perOp) };
}
