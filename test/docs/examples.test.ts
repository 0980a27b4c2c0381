/**
 * The documentation's examples are code: every ```ts block of the README and of the guides listed below is
 * extracted, type-checked with the project's compiler settings and run in its own process. A block whose first
 * line is `// not-run` is only a sketch and is skipped (use it sparingly). Imports from 'breakwater' and
 * 'breakwater/testing' are rewritten to this repository's src/, so the examples test the code beside them.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The documents whose examples are tested (the guides owned with the README; others may add theirs here). */
const DOCUMENTS = [
  'README.md',
  'docs/index.md',
  'docs/getting-started.md',
  'docs/commands-and-modes.md',
  'docs/circuit-breaker.md',
  'docs/fallbacks-and-errors.md',
  'docs/configuration.md',
  'docs/differences-from-hystrix.md',
  'docs/dashboard.md',
  'docs/bulkheads-and-pools.md',
  'docs/rate-limiting.md',
  'docs/request-scope.md',
  'docs/load-shedding.md',
  'docs/adaptive-concurrency.md',
  'docs/decorators.md',
  'docs/fleet.md',
  'docs/retries-and-hedging.md',
  'docs/frameworks.md',
] as const;

/** Longest a single example may run. */
const RUN_TIMEOUT_MS = 20_000;
/** Examples running at once (the CI machine has 2 cores). */
const PARALLEL = 2;

interface Example {
  /** The document, relative to the repository root. */
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  readonly skipped: boolean;
  /** The generated file's name inside the work directory. */
  readonly file: string;
}

/** Splits a Markdown document into its ```ts / ```typescript blocks. */
function extract(doc: string): Example[] {
  const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${doc}:${start + 1}: unclosed code fence`);
    const code = body.join('\n');
    const firstLine = body.find((l) => l.trim() !== '') ?? '';
    const name = doc.replace(/^docs\//, '').replace(/\.md$/i, '').replace(/[^A-Za-z0-9]+/g, '-');
    examples.push({ doc, line: start + 1, code, skipped: /^\s*\/\/\s*not-run\b/.test(firstLine), file: `${name}-L${start + 1}.ts` });
  }
  return examples;
}

const examples = DOCUMENTS.flatMap((doc) => extract(doc));
const runnable = examples.filter((e) => !e.skipped);
const workDir = join(ROOT, '.cache', `docs-examples-${process.pid}`);

/** The package's subpath entries and their sources. */
const ENTRIES: Record<string, string> = {
  '': 'src/index.js',
  '/testing': 'src/testing.js',
  '/express': 'src/frameworks/express.js',
  '/fastify': 'src/frameworks/fastify.js',
};

/** Points the package's own name at its sources, relative to the generated file. */
function rewriteImports(code: string): string {
  const rel = (target: string): string => relative(workDir, join(ROOT, target)).split('\\').join('/');
  return code.replace(
    /(from\s+|import\s*\(\s*)(['"])breakwater(\/testing|\/express|\/fastify)?\2/g,
    (_m, lead: string, quote: string, entry: string | undefined) => `${lead}${quote}${rel(ENTRIES[entry ?? ''] ?? 'src/index.js')}${quote}`,
  );
}

function writeExamples(): void {
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(
    join(workDir, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(workDir, join(ROOT, 'tsconfig.json')),
      compilerOptions: { noEmit: true, rootDir: relative(workDir, ROOT), sourceMap: false, declaration: false },
      include: ['*.ts'],
    }),
  );
  for (const example of runnable) {
    // `export {}` keeps every example a module (top-level await, no global name clashes between examples).
    writeFileSync(join(workDir, example.file), `${rewriteImports(example.code)}\nexport {};\n`);
  }
}

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly timedOut: boolean;
}

/** Runs one generated example with tsx in a child process, bounded in time. */
function runExample(example: Example): Promise<Outcome> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(workDir, example.file)], {
      cwd: workDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1', PORT: '0' },
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, output, timedOut });
    });
  });
}

/**
 * Type-checks every generated example at once; returns the compiler's diagnostics in the examples, mapped back to
 * the docs. (Errors inside src/ are `npm run typecheck`'s to report.)
 */
function typecheck(): Promise<string[]> {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [tsc, '-p', join(workDir, 'tsconfig.json'), '--pretty', 'false'], { cwd: ROOT, maxBuffer: 8 << 20 }, (_error, stdout, stderr) => {
      const byFile = new Map(runnable.map((e) => [e.file, e]));
      const problems = `${stdout}${stderr}`
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith(' '))
        .flatMap((l) => {
          const m = /([^/\\]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(l);
          const example = m && l.includes(workDir.split('/').pop()!) ? byFile.get(m[1]!) : undefined;
          if (example) return [`${example.doc}:${example.line + Number(m![2])} ${m![4]}`];
          return /^error TS/.test(l) ? [l] : []; // a configuration error: nothing was checked
        });
      resolvePromise(problems);
    });
  });
}

/** Runs every example, at most PARALLEL at a time, starting at once (each test awaits its own). */
function runAll(): Map<Example, Promise<Outcome>> {
  const results = new Map<Example, Promise<Outcome>>();
  let active = 0;
  const waiting: (() => void)[] = [];
  const slot = async (): Promise<void> => {
    if (active >= PARALLEL) await new Promise<void>((r) => waiting.push(r));
    active++;
  };
  const release = (): void => {
    active--;
    waiting.shift()?.();
  };
  for (const example of runnable) {
    results.set(
      example,
      slot().then(async () => {
        try {
          return await runExample(example);
        } finally {
          release();
        }
      }),
    );
  }
  return results;
}

let outcomes: Map<Example, Promise<Outcome>>;
let typeProblems: Promise<string[]>;

beforeAll(() => {
  writeExamples();
  typeProblems = typecheck();
  outcomes = runAll();
});

afterAll(async () => {
  await Promise.allSettled([typeProblems, ...(outcomes?.values() ?? [])]);
  rmSync(workDir, { recursive: true, force: true });
});

describe('documentation examples', () => {
  it('finds runnable examples in every document that has code, and few sketches', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(20);
    for (const doc of ['README.md', 'docs/getting-started.md', 'docs/commands-and-modes.md', 'docs/circuit-breaker.md']) {
      expect(runnable.some((e) => e.doc === doc), `${doc} has a runnable example`).toBe(true);
    }
    expect(examples.filter((e) => e.skipped).length).toBeLessThanOrEqual(Math.ceil(examples.length / 5));
  });

  it('type-checks every example with the project settings', { timeout: 120_000 }, async () => {
    expect(await typeProblems).toEqual([]);
  });

  for (const example of runnable) {
    it(`runs ${example.doc}:${example.line}`, { timeout: 180_000 }, async () => {
      const outcome = await outcomes.get(example)!;
      const where = `${example.doc}:${example.line}\n--- output ---\n${outcome.output}`;
      expect(outcome.timedOut, `timed out after ${RUN_TIMEOUT_MS} ms: ${where}`).toBe(false);
      expect(outcome.code, where).toBe(0);
    });
  }
});

/** Where the repository lives (package.json's `repository`); the README links there by absolute URLs. */
const REPOSITORY = 'https://github.com/breakwater-js/breakwater';

describe('documentation text', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('gives the two commands a newcomer needs, exactly as CI runs the tests', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm ci && npm test');
  });

  it('links to every guide from the README', () => {
    const guides = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    expect(guides.length).toBeGreaterThan(10);
    expect(guides.filter((f) => !readme.includes(`](${REPOSITORY}/blob/main/docs/${f})`))).toEqual([]);
  });

  it('links and shows images in the README by absolute repository URLs, so they work on the npm package page', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.homepage).toBe(`${REPOSITORY}#readme`);
    expect(pkg.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git` });
    expect(pkg.bugs).toEqual({ url: `${REPOSITORY}/issues` });
    const relative: string[] = [];
    const missing: string[] = [];
    for (const match of readme.replace(/```[\s\S]*?```/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (target.startsWith('#')) continue;
      if (!/^[a-z]+:/i.test(target)) {
        relative.push(`${target}: write ${REPOSITORY}/blob/main/${target} (npm shows the README without the repository's files)`);
        continue;
      }
      const file = /^https:\/\/(?:github\.com\/breakwater-js\/breakwater\/(?:blob|tree)\/main|raw\.githubusercontent\.com\/breakwater-js\/breakwater\/main)\/([^#?]+)/.exec(target)?.[1];
      if (file !== undefined && !existsSync(join(ROOT, file))) missing.push(target);
    }
    expect(relative).toEqual([]);
    expect(missing).toEqual([]);
  });

  it('links only to files that exist', () => {
    const broken: string[] = [];
    for (const doc of DOCUMENTS) {
      const text = readFileSync(join(ROOT, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!.split('#')[0]!;
        if (target === '' || /^[a-z]+:/i.test(target)) continue;
        if (!existsSync(join(ROOT, dirname(doc), target))) broken.push(`${doc} → ${match[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
