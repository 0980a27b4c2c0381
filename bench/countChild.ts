/**
 * The count mode's side of a benchmark child (`npm run bench -- --count`, bench/count.ts): warms one op up, then runs
 * it for a fixed number of calls in a few back-to-back windows, each opened and closed by a call of
 * {@link WINDOW_MARKER}'s libc function. The child runs under `valgrind --tool=callgrind
 * --dump-before=<that function>`, so callgrind writes one profile part per window boundary and each window's part
 * holds exactly the instructions its calls ran (bench/count.ts reads them). Nothing here reads a clock: the same
 * warm-up and windows run the same calls however slow valgrind makes them.
 */
import { getPriority } from 'node:os';
import { FLOORS } from './floor.js';
import { compileLoop, fullGc, type Op } from './harness.js';
import { BARE_AWAIT, REFERENCES, type Reference } from './scenario.js';
import { scenarios } from './scenarios.js';

/**
 * The libc function whose every call ends one callgrind part and starts the next (`--dump-before=getpriority`).
 * `os.getPriority()` calls it exactly once, and neither Node nor V8 calls it otherwise, so bench/count.ts can check
 * that it found one part per window boundary and no other.
 */
export const WINDOW_MARKER = 'getpriority';

/** What one count child measures, as bench/count.ts names it: `scenario:<id>`, `reference:<name>`, `floor:<name>`, `bare`. */
export type CountUnit = `scenario:${string}` | `reference:${Reference}` | `floor:${string}` | 'bare';

/** The knobs of one count child (the runner passes them in `BW_BENCH_COUNT`). */
export interface CountChildOptions {
  /** Calls per window (rounded to whole ops: a batch op stands for 1,000 calls). */
  readonly calls: number;
  /** Windows per child, back to back. */
  readonly windows: number;
  /** Calls before the first window, so the optimising compilers have settled. */
  readonly warmup: number;
}

/** What a count child prints: the calls of each window (the instructions are in callgrind's parts). */
export interface CountChildResult {
  readonly unit: CountUnit;
  readonly callsPerWindow: number;
  readonly windows: number;
}

interface Counted {
  readonly op: Op;
  /** What every call must return; undefined: not checked (the floors return what they compute). */
  readonly expect?: unknown;
  readonly verify?: () => void;
}

async function resolveUnit(unit: string): Promise<Counted> {
  const colon = unit.indexOf(':');
  const kind = colon < 0 ? unit : unit.slice(0, colon);
  const name = unit.slice(colon + 1);
  if (unit === 'bare') return { op: BARE_AWAIT, expect: 42 };
  if (kind === 'reference' && name in REFERENCES) {
    const r = REFERENCES[name as Reference];
    return { op: r.op, expect: r.expect };
  }
  if (kind === 'floor' && FLOORS[name] !== undefined) return { op: FLOORS[name].op };
  if (kind === 'scenario') {
    const s = scenarios.find((x) => x.id === name);
    if (s !== undefined) {
      const subject = await s.setup();
      return { op: subject.op, expect: subject.expect, ...(subject.verify === undefined ? {} : { verify: () => subject.verify!() }) };
    }
  }
  throw new Error(`unknown count unit '${unit}' (scenario:<id>, reference:<name>, floor:<name> or bare)`);
}

/**
 * Warms `unit`'s op up with the timed mode's loop (the same compiled loop function, called again and again with
 * growing counts, as its calibration and warm-up do), collects the garbage once as the timed mode does before its
 * samples, then runs `windows` windows of `calls` calls, calling the marker before each window and after the last.
 */
export async function countWindows(unit: string, o: CountChildOptions): Promise<CountChildResult> {
  const { op, expect, verify } = await resolveUnit(unit);
  const perOp = op.callsPerOp ?? 1;
  const loop = compileLoop(op.kind);
  let warmed = 0;
  for (let n = 16; warmed < o.warmup; n *= 4) {
    const ops = Math.max(1, Math.round(Math.min(n, o.warmup - warmed) / perOp));
    await loop(op.fn, ops);
    warmed += ops * perOp;
  }
  fullGc();
  const ops = Math.max(1, Math.round(o.calls / perOp));
  // One window's worth of calls after the collection, not counted: V8 still tiers something up on the first calls
  // after a full GC (a TurboFan compile of ~90 M instructions was seen there after 200,000 warm-up calls). The
  // windows then follow each other with no collection in between (one before every window made a bare await cost
  // 3× as much: the young generation starts small again after each), as the timed mode's samples do.
  await loop(op.fn, ops);
  const lasts: unknown[] = [];
  for (let w = 0; w < o.windows; w++) {
    getPriority(0);
    lasts.push(await loop(op.fn, ops));
  }
  getPriority(0);
  for (const last of lasts) {
    if (expect !== undefined && !Object.is(last, expect)) throw new Error(`${unit}: the last call returned ${String(last)}, expected ${String(expect)}`);
  }
  verify?.();
  return { unit: unit as CountUnit, callsPerWindow: ops * perOp, windows: o.windows };
}
