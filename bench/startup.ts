/**
 * Start-up cost (issue 19): how long `import()` of each library takes in a fresh Node process, breakwater's built
 * dist/ beside opossum and cockatiel, measured in the same run. Each run starts one process per library, in turn
 * (so a busy moment of a shared machine falls on all three alike), and each figure is the median over the runs.
 * Only the `import()` itself is timed (from just before it to its settling), not Node's own boot.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './harness.js';

/** One library's import time: the median over the runs, and every run's figure. */
export interface StartupRow {
  readonly library: string;
  readonly ms: number;
  readonly runs: number[];
}

export interface StartupResult {
  readonly rows: StartupRow[];
  /** breakwater's median over cockatiel's. */
  readonly ratioToCockatiel: number;
}

/** The target of issue 19: breakwater's import at most this many times cockatiel's. */
export const STARTUP_TARGET = 2;

/** Prints the milliseconds `import(specifier)` took in this fresh process. */
function script(specifier: string): string {
  return `const t = process.hrtime.bigint(); import(${JSON.stringify(specifier)}).then(() => process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6)));`;
}

/**
 * Measures the import of `root`'s dist/index.js (run `npm run build` first), opossum and cockatiel (resolved from
 * `root`'s node_modules), `runs` times each.
 */
export function measureStartup(node: string, root: string, runs: number): StartupResult {
  const dist = join(root, 'dist', 'index.js');
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npm run build\` first (the start-up row measures the built library)`);
  const libraries: [string, string][] = [
    ['breakwater', pathToFileURL(dist).href],
    ['opossum', 'opossum'],
    ['cockatiel', 'cockatiel'],
  ];
  const figures = new Map<string, number[]>(libraries.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, specifier] of libraries) {
      const r = spawnSync(node, ['-e', script(specifier)], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      const ms = Number(r.stdout);
      if (r.status !== 0 || !Number.isFinite(ms)) throw new Error(`importing ${name} failed (${String(r.status)}): ${r.stderr}`);
      figures.get(name)!.push(ms);
    }
  }
  const rows = libraries.map(([library]) => ({ library, ms: median([...figures.get(library)!].sort((a, b) => a - b)), runs: figures.get(library)! }));
  return { rows, ratioToCockatiel: rows[0]!.ms / rows[2]!.ms };
}

/** The markdown table of a start-up measurement and its target line. */
export function startupMarkdown(s: StartupResult): string[] {
  const cockatiel = s.rows[2]!.ms;
  const met = s.ratioToCockatiel <= STARTUP_TARGET;
  return [
    '| library | `import()` ms (median) | × cockatiel |',
    '| --- | ---: | ---: |',
    ...s.rows.map((r) => `| ${r.library} | ${r.ms.toFixed(1)} | ${(r.ms / cockatiel).toFixed(2)}× |`),
    '',
    `- ${met ? '✅ met' : '❌ missed'}: import of breakwater at most ${STARTUP_TARGET}× cockatiel's (${s.ratioToCockatiel.toFixed(2)}×)`,
  ];
}
