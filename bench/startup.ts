/**
 * Start-up cost (issue 19): how long loading each library takes in a fresh Node process, breakwater's built dist/
 * beside opossum and cockatiel, measured in the same run. Each run starts one process per library and loader, in turn
 * (so a busy moment of a shared machine falls on all of them alike), and each figure is the median over the runs.
 * Only the load itself is timed (from just before it to its settling), not Node's own boot: `import()` (the issue's
 * figure) and `require()` (a CommonJS app; cockatiel is ESM only, which Node can `require` since 20.19 and 22.12).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './harness.js';

/** One library's load time: the median over the runs, and every run's figure. */
export interface StartupRow {
  readonly library: string;
  readonly ms: number;
  readonly runs: number[];
}

export interface StartupResult {
  /** `import()` of each library. */
  readonly rows: StartupRow[];
  /** breakwater's `import()` median over cockatiel's. */
  readonly ratioToCockatiel: number;
  /** `require()` of each library this Node can `require` (cockatiel is ESM only: not before Node 20.19). */
  readonly requireRows?: StartupRow[];
  /** breakwater's `require()` median over cockatiel's, when this Node can `require` cockatiel. */
  readonly requireRatioToCockatiel?: number;
}

/** The target of issue 19: breakwater's import at most this many times cockatiel's. */
export const STARTUP_TARGET = 2;

type Loader = 'import' | 'require';

/** Prints the milliseconds `import(specifier)` or `require(specifier)` took in this fresh process. */
function script(loader: Loader, specifier: string): string {
  const print = `process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6))`;
  return loader === 'import'
    ? `const t = process.hrtime.bigint(); import(${JSON.stringify(specifier)}).then(() => ${print});`
    : `const t = process.hrtime.bigint(); require(${JSON.stringify(specifier)}); ${print};`;
}

/**
 * Measures the import (and require) of `root`'s dist/ (run `npm run build` first), opossum and cockatiel (resolved
 * from `root`'s node_modules), `runs` times each.
 */
export function measureStartup(node: string, root: string, runs: number): StartupResult {
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'index.js'))) throw new Error(`${dist}/index.js is missing: run \`npm run build\` first (the start-up row measures the built library)`);
  const libraries: [string, Record<Loader, string>][] = [
    ['breakwater', { import: pathToFileURL(join(dist, 'index.js')).href, require: join(dist, 'index.cjs') }],
    ['opossum', { import: 'opossum', require: 'opossum' }],
    ['cockatiel', { import: 'cockatiel', require: 'cockatiel' }],
  ];
  const run = (loader: Loader, specifier: string): number | undefined => {
    const r = spawnSync(node, ['-e', script(loader, specifier)], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const ms = Number(r.stdout);
    return r.status === 0 && r.stdout !== '' && Number.isFinite(ms) ? ms : undefined;
  };
  // a library this Node cannot require (cockatiel before require(esm)) has no require row
  const requirable = libraries.filter(([, spec]) => run('require', spec.require) !== undefined).map(([name]) => name);
  const figures = new Map<string, number[]>(libraries.flatMap(([name]) => [[`import ${name}`, []], [`require ${name}`, []]]));
  for (let i = 0; i < runs; i++) {
    for (const [name, spec] of libraries) {
      for (const loader of ['import', 'require'] as const) {
        if (loader === 'require' && !requirable.includes(name)) continue;
        const ms = run(loader, spec[loader]);
        if (ms === undefined) throw new Error(`${loader} of ${name} failed`);
        figures.get(`${loader} ${name}`)!.push(ms);
      }
    }
  }
  const row = (loader: Loader, library: string): StartupRow => {
    const all = figures.get(`${loader} ${library}`)!;
    return { library, ms: median([...all].sort((a, b) => a - b)), runs: all };
  };
  const rows = libraries.map(([library]) => row('import', library));
  const requireRows = requirable.map((library) => row('require', library));
  const own = requireRows.find((r) => r.library === 'breakwater');
  const peer = requireRows.find((r) => r.library === 'cockatiel');
  return {
    rows,
    ratioToCockatiel: rows[0]!.ms / rows[2]!.ms,
    requireRows,
    ...(own !== undefined && peer !== undefined ? { requireRatioToCockatiel: own.ms / peer.ms } : {}),
  };
}

/** The markdown table of a start-up measurement and its target lines. */
export function startupMarkdown(s: StartupResult): string[] {
  const cockatiel = s.rows[2]!.ms;
  const met = s.ratioToCockatiel <= STARTUP_TARGET;
  const required = new Map((s.requireRows ?? []).map((r) => [r.library, r.ms]));
  const peer = required.get('cockatiel');
  const lines = [
    '| library | `import()` ms (median) | × cockatiel | `require()` ms (median) | × cockatiel |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...s.rows.map((r) => {
      const req = required.get(r.library);
      const reqCells = req === undefined ? '— (ESM only, this Node cannot require it) | —' : `${req.toFixed(1)} | ${peer === undefined ? '—' : `${(req / peer).toFixed(2)}×`}`;
      return `| ${r.library} | ${r.ms.toFixed(1)} | ${(r.ms / cockatiel).toFixed(2)}× | ${reqCells} |`;
    }),
    '',
    `- ${met ? '✅ met' : '❌ missed'}: import of breakwater at most ${STARTUP_TARGET}× cockatiel's (${s.ratioToCockatiel.toFixed(2)}×)`,
  ];
  if (s.requireRatioToCockatiel !== undefined) {
    const reqMet = s.requireRatioToCockatiel <= STARTUP_TARGET;
    lines.push(`- ${reqMet ? '✅ met' : '❌ missed'}: require of breakwater at most ${STARTUP_TARGET}× cockatiel's (${s.requireRatioToCockatiel.toFixed(2)}×)`);
  }
  return lines;
}
