/**
 * The count mode of `npm run bench` (`npm run bench -- --count [filters] [--node PATH]`): instructions per call
 * instead of time, for deciding a change on a shared machine. Each unit (a scenario, the reference or floor it is
 * compared with, the bare `await fn()`) runs in its own child under `valgrind --tool=callgrind`; the child
 * (bench/countChild.ts) warms the op up, then runs it in a few windows of a fixed number of calls, and calls
 * `os.getPriority()` between windows, where callgrind (`--dump-before=getpriority`) ends one profile part and starts
 * the next. A window's part holds exactly the instructions of its calls, whatever else the machine runs, so the
 * figures repeat within about ±1 % where wall-clock ratios move by ±10–30 %.
 *
 * The ratios and targets are the timed mode's (bench/report.ts's `toRow` and `evaluateRows`, with instructions in
 * place of nanoseconds): a row against its floor, its reference or its peer's row, each side from its own child.
 * Everything here but {@link runCount} is a pure function of the counts (test/bench/count.test.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WINDOW_MARKER, type CountChildOptions, type CountChildResult, type CountUnit } from './countChild.js';
import { FLOORS } from './floor.js';
import { median, type Timing } from './harness.js';
import { evaluateRows, formatTarget, rowTargets, runOrder, times, toRow, type ChildResult, type Floors, type Row, type TargetLine } from './report.js';
import type { Scenario } from './scenario.js';

/** The knobs of a count run. */
export interface CountOptions extends CountChildOptions {
  /** Children per unit (separate valgrind runs), to show that the figures repeat across processes. */
  readonly repeat: number;
}

/**
 * Defaults: a success call runs ~3,000 instructions, so a window of 20,000 calls holds ~60 M, and a unit takes
 * 15–30 s under callgrind (about 50× slower than native, plus ~5 s of Node start-up). 100,000 warm-up calls are
 * what V8 needs here to stop compiling inside the windows (a native timed run warms up for 400 ms, 1–2 M calls).
 */
export const COUNT_DEFAULTS: CountOptions = { calls: 20_000, windows: 5, warmup: 100_000, repeat: 2 };

/** One dump of a callgrind run (one `callgrind.out.N` file). */
export interface CallgrindPart {
  /** The part number (`part:`); parts are numbered in the order they were dumped. */
  readonly part: number;
  /** What ended the part (`desc: Trigger:`), e.g. `--dump-before=getpriority` or `Program termination`. */
  readonly trigger: string;
  /** Instructions executed in the part (the `Ir` column of `summary:`, else of `totals:`). */
  readonly ir: number;
}

/** Reads the header of one callgrind profile part. */
export function parseCallgrindPart(text: string): CallgrindPart {
  const field = (name: string): string | undefined => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const events = field('events')?.split(/\s+/);
  const costs = (field('summary') ?? field('totals'))?.split(/\s+/);
  const part = Number(field('part') ?? '1');
  const trigger = field('desc: Trigger') ?? '';
  const column = events?.indexOf('Ir') ?? -1;
  const ir = column < 0 || costs === undefined ? NaN : Number(costs[column]);
  if (!Number.isFinite(ir) || !Number.isInteger(part)) throw new Error('not a callgrind profile part (no events: line with Ir, or no summary:/totals: line)');
  return { part, trigger, ir };
}

/**
 * The instructions of each window: the parts that a call of the marker ended, in order, but the first (start-up and
 * warm-up). There must be exactly one such part per window boundary: any other call of the marker would have cut a
 * window in two.
 */
export function windowCounts(parts: readonly CallgrindPart[], windows: number, marker: string = WINDOW_MARKER): number[] {
  const trigger = `--dump-before=${marker}`;
  const marked = parts.filter((p) => p.trigger === trigger).sort((a, b) => a.part - b.part);
  if (marked.length !== windows + 1) {
    throw new Error(`expected ${windows + 1} callgrind parts ended by ${marker}() (one before each of ${windows} windows and one after the last), found ${marked.length}: something else calls ${marker}()`);
  }
  return marked.slice(1).map((p) => p.ir);
}

/** The count of one unit over every run: instructions per call. */
export interface UnitCount {
  readonly unit: CountUnit;
  /** The median window over all runs. */
  readonly perCall: number;
  /** Each run's windows, instructions per call. */
  readonly runs: readonly (readonly number[])[];
  /** (max − min) ÷ median of the runs' medians: how far separate processes disagree. 0 with one run. */
  readonly runSpread: number;
  /** (max − min) ÷ median of every window of every run but the outliers. */
  readonly windowSpread: number;
  /** Windows more than {@link OUTLIER} off the median (a JIT compile that landed in one): left out of `windowSpread`. */
  readonly outliers: number;
  /**
   * A child whose median window is more than {@link OUTLIER} above its lowest: most of its windows still ran code
   * V8 had not finished optimising, so the figure is too high. Seen on Node 24 for an in-flight row, whose first
   * three windows after the full GC fell from 4,228 to 2,467 instructions per call alike after 100,000 and after
   * 400,000 warm-up calls: more `--windows` let the median fall on the steady ones.
   */
  readonly unsteady: boolean;
}

/**
 * How far off the median a window may be before it counts as an outlier: V8 now and then still compiles a function
 * inside a window (+50 % in that window); the median ignores it, and so does the windows' spread.
 */
export const OUTLIER = 0.1;

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const range = (xs: readonly number[], m: number): number => (xs.length < 2 ? 0 : (Math.max(...xs) - Math.min(...xs)) / m);

/** Summarises the windows of each run of a unit. */
export function summarize(unit: CountUnit, runs: readonly (readonly number[])[]): UnitCount {
  const all = runs.flat();
  if (all.length === 0) throw new Error(`${unit}: no window was counted`);
  const perCall = median(sorted(all));
  const medians = runs.filter((r) => r.length > 0).map((r) => median(sorted(r)));
  const typical = all.filter((w) => Math.abs(w / perCall - 1) <= OUTLIER);
  const unsteady = runs.some((r) => r.length > 0 && median(sorted(r)) > Math.min(...r) * (1 + OUTLIER));
  return { unit, perCall, runs, runSpread: range(medians, perCall), windowSpread: range(typical, perCall), outliers: all.length - typical.length, unsteady };
}

/**
 * The units a count run measures for `selected`: the bare `await fn()` (every row's × bare await, the floors' base),
 * each selected row's reference, the floors its targets name (every floor when `allFloors`), the bare batch when an
 * in-flight floor is counted, then the scenarios in the timed mode's order (a pair's peer right before its row).
 */
export function countUnits(selected: readonly Scenario[], allFloors: boolean): CountUnit[] {
  const floors = allFloors ? Object.keys(FLOORS) : selected.flatMap((s) => (s.target?.against === 'floor' && s.target.floor !== undefined ? [s.target.floor] : []));
  const references = selected.flatMap((s) => (s.reference === undefined ? [] : [s.reference]));
  if (floors.some((f) => FLOORS[f]?.base === 'inflight')) references.push('inflight');
  const units: CountUnit[] = [
    'bare',
    ...references.map((r): CountUnit => `reference:${r}`),
    ...floors.map((f): CountUnit => `floor:${f}`),
    ...runOrder(selected).map((s): CountUnit => `scenario:${s.id}`),
  ];
  return [...new Set(units)];
}

const timing = (c: UnitCount): Timing => {
  const medians = c.runs.map((r) => median(sorted(r)));
  return { ns: c.perCall, wallNs: c.perCall, p25: Math.min(...medians), p75: Math.max(...medians), samples: c.runs.flat(), calls: 0, last: undefined };
};

/**
 * The rows and floors of a count run, with the timed mode's ratios and targets: instructions per call stand where
 * the timed mode has ns per call, so `Row.ns` is instructions per call, `Row.spread` the runs' spread, `Row.ratio`
 * × the bare await's instructions, a floor's ratio its instructions ÷ its base's. A unit that was not counted
 * (a failed child) leaves its row out, or its target without a figure.
 */
export function countRows(selected: readonly Scenario[], counts: ReadonlyMap<CountUnit, UnitCount>): { rows: Row[]; floors: Floors } {
  const bare = counts.get('bare');
  const floors: Record<string, { title: string; ns: number; ratio: number }> = {};
  for (const [name, f] of Object.entries(FLOORS)) {
    const c = counts.get(`floor:${name}`);
    const base = f.base === 'inflight' ? counts.get('reference:inflight') : bare;
    if (c !== undefined && base !== undefined) floors[name] = { title: f.title, ns: c.perCall, ratio: c.perCall / base.perCall };
  }
  const rows: Row[] = [];
  for (const s of selected) {
    const c = counts.get(`scenario:${s.id}`);
    if (c === undefined || bare === undefined) continue;
    const ref = s.reference === undefined ? undefined : counts.get(`reference:${s.reference}`);
    const child: ChildResult = {
      id: s.id,
      timing: { bare: timing(bare), subject: timing(c), ...(ref === undefined ? {} : { reference: timing(ref) }) },
      retention: { calls: 0, bytesPerCall: 0, heapBefore: 0, heapAfter: 0 },
      timers: { calls: 0, timeouts: 0, immediates: 0, timersPerCall: 0 },
      check: {},
    };
    rows.push(toRow(s, child));
  }
  return { rows: evaluateRows(rows, floors), floors };
}

/** What a count run writes (`--out`, or bench/results/count*.tmp.json). */
export interface CountResults {
  readonly date: string;
  readonly mode: 'count';
  readonly src?: string;
  readonly machine: Record<string, unknown>;
  readonly options: CountOptions;
  readonly units: UnitCount[];
  readonly rows: Row[];
  readonly floors: Floors;
  readonly failures: { id: string; error: string }[];
  readonly targets: TargetLine[];
}

/** Instructions as the table prints them: `2,912`. */
const ir = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (spread: number): string => `±${(spread * 50).toFixed(1)}%`;

/** The console report of a count run: one line per row, the floors, the targets. */
export function countReport(r: Pick<CountResults, 'units' | 'rows' | 'floors' | 'targets' | 'options'>): string {
  const byUnit = new Map(r.units.map((u) => [u.unit, u]));
  const header = ['scenario', 'instr/call', 'runs', 'windows', '× bare await', '× reference', '× peer', 'target'];
  const body = r.rows.map((row) => {
    const u = byUnit.get(`scenario:${row.id}`);
    const target: string[] = [];
    if (row.like?.vsPeer !== undefined) target.push(row.like.reference === true ? 'peer: for reference' : `≤ 1.0× peer ${row.like.met === true ? '✓' : '✗'}`);
    if (row.target !== undefined) target.push(`${row.target.label}: ${row.target.actual === undefined ? 'not counted' : `${times(row.target.actual)} ${row.target.met === true ? '✓' : '✗'}`}`);
    return [
      `${row.library} · ${row.title}`,
      ir(row.ns),
      pct(u?.runSpread ?? 0),
      `${pct(u?.windowSpread ?? 0)}${u !== undefined && u.outliers > 0 ? ` (${u.outliers} out)` : ''}${u?.unsteady === true ? ' ⚠' : ''}`,
      times(row.ratio),
      row.reference === undefined ? '' : `${times(row.reference.ratio)} ${row.reference.title}`,
      row.like?.vsPeer === undefined ? '' : times(row.like.vsPeer),
      target.join('; '),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => c[i]!.length)));
  const left = new Set([0, 5, 7]);
  const line = (c: string[]): string => c.map((x, i) => (left.has(i) ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line), ''];
  const o = r.options;
  out.push(`instructions per call: median window of ${o.repeat} run${o.repeat === 1 ? '' : 's'} × ${o.windows} windows of ${o.calls.toLocaleString('en-US')} calls after ${o.warmup.toLocaleString('en-US')} warm-up calls; runs ± = half the range of the runs' medians, windows ± = half the range of every window (but those over ${OUTLIER * 100} % off the median: "n out")`);
  const unsteady = r.units.filter((u) => u.unsteady).map((u) => u.unit);
  if (unsteady.length > 0) {
    out.push(`⚠ not steady: ${unsteady.join(', ')}: in a child, most windows are over ${OUTLIER * 100} % above its lowest (V8 still optimising after the full GC before them); run again with more --windows (e.g. 9)`);
  }
  const others = r.units.filter((u) => !u.unit.startsWith('scenario:'));
  if (others.length > 0) {
    out.push('', 'references and floors:');
    for (const u of others) {
      const floor = u.unit.startsWith('floor:') ? r.floors[u.unit.slice('floor:'.length)] : undefined;
      out.push(`  ${ir(u.perCall).padStart(9)}  ${pct(u.runSpread).padStart(6)}  ${floor === undefined ? '' : `${times(floor.ratio).padStart(6)} base  `}${u.unit}`);
    }
  }
  out.push('', 'targets (issues 6 and 19), on instructions:');
  for (const t of r.targets) out.push(`  ${formatTarget(t, 'console')}`);
  return out.join('\n');
}

/** The message when valgrind cannot be run. */
export const NO_VALGRIND = '--count runs each child under valgrind (callgrind), and valgrind is not installed here: apt-get install valgrind';

/** Throws {@link NO_VALGRIND} when `valgrind` (or the command given) does not run. */
export function requireValgrind(command = 'valgrind'): void {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) throw new Error(NO_VALGRIND);
}

/** How to run one count child. */
export interface CountChildRun {
  /** The Node binary. */
  readonly node: string;
  /** The bundled bench/child.ts. */
  readonly bundle: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** The young generation's size in a count child, MB per semi-space (see {@link COUNT_NODE_FLAGS}). */
export const SEMI_SPACE_MB = 64;

/**
 * Node's flags in a count child:
 * - `--single-threaded`: V8 compiles and collects on the main thread, in order, instead of on threads valgrind
 *   schedules as it likes, so what a window holds does not depend on when a background thread got to run;
 * - a young generation of a fixed {@link SEMI_SPACE_MB} MB: a scavenge costs ~3.8 M instructions here whatever it
 *   collects (most of it walking the roots), and V8 sizes the young generation by allocation *speed*, which valgrind
 *   and the machine's load change, so two children of the same code scavenged once or twice per window and differed
 *   by 5 %. With 64 MB a window of 20,000 calls holds no scavenge at all (a failure row's fresh Errors, ~3 KB a call,
 *   at most one), and the counts are of the code's own instructions, not of the collector's.
 */
export const COUNT_NODE_FLAGS = ['--single-threaded', '--expose-gc', `--min-semi-space-size=${SEMI_SPACE_MB}`, `--max-semi-space-size=${SEMI_SPACE_MB}`];

/** Stops a count child that hangs (a unit takes well under a minute with the defaults). */
const CHILD_TIMEOUT_MS = 15 * 60_000;

/** Runs `unit` once under callgrind: the instructions per call of each window. */
export function countOnce(run: CountChildRun, unit: CountUnit, o: CountChildOptions): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-count-'));
  const args = ['--tool=callgrind', `--dump-before=${WINDOW_MARKER}`, '--dump-line=no', `--callgrind-out-file=${join(dir, 'cg')}`];
  const child = spawn('valgrind', [...args, run.node, ...COUNT_NODE_FLAGS, run.bundle, 'count', unit], {
    cwd: run.cwd,
    env: { ...run.env, BW_BENCH_COUNT: JSON.stringify({ calls: o.calls, windows: o.windows, warmup: o.warmup }), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise<number[]>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        const line = out.trim().split('\n').pop() ?? '';
        // valgrind's own lines start with ==pid==; the child's error is what is left
        if (code !== 0 || line === '') throw new Error(`count child ${unit} exited with ${code}\n${err.split('\n').filter((l) => !/^==\d+==/.test(l)).join('\n').trim()}`);
        const result = JSON.parse(line) as CountChildResult;
        const parts = readdirSync(dir).map((f) => parseCallgrindPart(readFileSync(join(dir, f), 'utf8')));
        resolve(windowCounts(parts, result.windows).map((n) => n / result.callsPerWindow));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/**
 * Counts every unit of `selected` ({@link countUnits}), one valgrind at a time, `o.repeat` children each; returns
 * the counts and the failures (a unit whose child failed is reported, the others still counted).
 */
export async function runCount(
  run: CountChildRun,
  selected: readonly Scenario[],
  allFloors: boolean,
  o: CountOptions,
  log: (text: string) => void,
): Promise<{ units: UnitCount[]; rows: Row[]; floors: Floors; failures: { id: string; error: string }[]; targets: TargetLine[] }> {
  const counts = new Map<CountUnit, UnitCount>();
  const failures: { id: string; error: string }[] = [];
  for (const unit of countUnits(selected, allFloors)) {
    const runs: number[][] = [];
    for (let i = 0; i < o.repeat; i++) {
      log(`${unit}${o.repeat > 1 ? ` (run ${i + 1} of ${o.repeat})` : ''} … `);
      const started = performance.now();
      try {
        runs.push(await countOnce(run, unit, o));
        log(`${runs.at(-1)!.map((n) => ir(n)).join(' / ')} instructions per call (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
      } catch (error) {
        log('failed\n');
        failures.push({ id: unit, error: error instanceof Error ? error.message : String(error) });
        break;
      }
    }
    if (runs.length === o.repeat) counts.set(unit, summarize(unit, runs));
  }
  const { rows, floors } = countRows(selected, counts);
  return { units: [...counts.values()], rows, floors, failures, targets: rowTargets(rows, floors) };
}
