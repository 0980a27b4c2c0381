import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';
import { bundlePageScript, PAGE_CLIENT_ENTRY } from '../src/dashboard/page/bundleScript.js';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * The dashboard page's client code (src/dashboard/page/client) is bundled here, at build time, and the module that
 * serves it (pageScript.ts, which bundles on first use when running from the sources) is replaced by one returning
 * that string: dist carries the page inline, with no asset to copy and no esbuild at run time.
 */
export const inlinePageScript: EsbuildPlugin = {
  name: 'inline-dashboard-page-script',
  setup(build) {
    let code: string | undefined;
    build.onLoad({ filter: /[\\/]src[\\/]dashboard[\\/]page[\\/]pageScript\.ts$/ }, () => {
      code ??= bundlePageScript(resolve('src/dashboard/page', PAGE_CLIENT_ENTRY));
      return { contents: `export function pageScript(): string {\n  return ${JSON.stringify(code)};\n}\n`, loader: 'ts' };
    });
  },
};

/**
 * Rooms loaded at first use (start-up cost, issue 19; docs/benchmarks.md "Start-up"). A plain command user needs
 * none of the stream server, Prometheus collector, dashboard, Turbine or cluster code, nor the `node:http`,
 * `node:https`, `node:dns` and `node:cluster` modules they pull in. Each module listed here is built as an entry of
 * its own (`dist/rooms/NAME.cjs`), and `src/index.ts`'s import of it is replaced by a facade with the same
 * function names that `require`s that entry on its first call and delegates to it. The calls stay synchronous and
 * the sources, types and docs are unchanged; only the built entry defers the work. The room and the entry share
 * every other module (the command registries, configure()'s store) through the common chunks, so there is still
 * one state per process. Only functions can be deferred: a constant or class the entry exports lives in a module
 * of its own (e.g. src/stream/streamDelay.ts). A name missing here fails the build (esbuild: no matching export);
 * one that is not a function in the room fails the check in `onSuccess`.
 */
export const ROOMS: Readonly<Record<string, readonly string[]>> = {
  'src/stream/sseHandler.ts': ['hystrixStreamHandler'],
  'src/stream/dashboardEvents.ts': ['dashboardEvents'],
  'src/prometheus/registerPrometheus.ts': ['registerPrometheus'],
  'src/dashboard/startDashboard.ts': ['startDashboard'],
  'src/fleet/startTurbine.ts': ['startTurbine'],
  'src/fleet/startClusterPrimary.ts': ['startClusterPrimary'],
  'src/fleet/reportToClusterPrimary.ts': ['reportToClusterPrimary'],
};

/** The entry file whose imports of a room get the facade. */
const LIGHT_ENTRY = resolve('src/index.ts');

/** The output name of a room's entry: `src/fleet/startTurbine.ts` → `rooms/startTurbine`. */
const roomEntry = (file: string): string => `rooms/${basename(file, '.ts')}`;

/**
 * The facade of a room, in place of the module itself for `src/index.ts`. It lands in `dist/index.cjs` (only the
 * entry imports it) and tsup's `shims` give `import.meta.url` as the URL of a file at the top of `dist/` too (the
 * shim's own chunk), so `./rooms/NAME.cjs` is resolved in `dist/`.
 */
function facade(file: string): string {
  const lines = [
    `import { createRequire } from 'node:module';`,
    `let room;`,
    `const load = () => (room ??= createRequire(import.meta.url)('./${roomEntry(file)}.cjs'));`,
  ];
  for (const name of ROOMS[file]!) lines.push(`export function ${name}(...args) { return load().${name}(...args); }`);
  return `${lines.join('\n')}\n`;
}

export const lazyRooms: EsbuildPlugin = {
  name: 'breakwater-lazy-rooms',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.importer !== LIGHT_ENTRY) return undefined;
      const file = resolve(dirname(args.importer), args.path).replace(/\.js$/, '.ts');
      const relative = `src/${file.slice(resolve('src').length + 1)}`;
      return ROOMS[relative] === undefined ? undefined : { path: relative, namespace: 'room-facade' };
    });
    build.onLoad({ filter: /.*/, namespace: 'room-facade' }, (args) => ({ contents: facade(args.path), loader: 'js' }));
  },
};

/** Fails the build when a room does not export, as a function, every name its facade delegates to. */
function checkRooms(): void {
  const check = Object.entries(ROOMS).map(([file, names]) => {
    const path = resolve('dist', `${roomEntry(file)}.cjs`);
    return `{ const m = require(${JSON.stringify(path)}); for (const n of ${JSON.stringify(names)}) if (typeof m[n] !== 'function') throw new Error(${JSON.stringify(path)} + ' does not export the function ' + n); }`;
  });
  execFileSync(process.execPath, ['-e', check.join('\n')], { stdio: 'inherit' });
}

/**
 * One implementation per process: the library is built once, as CommonJS, and the ESM entries are thin wrappers
 * that re-export it. `import 'breakwater'` and `require('breakwater')` in the same process then load the same
 * module (Node caches it by path), so there is one set of registries, one `configure()` and one dashboard, and
 * `instanceof` works across them. (Two builds, one per format, would give two copies with two states.)
 */
const ESM_ENTRIES = ['index', 'testing', 'frameworks/express', 'frameworks/fastify'] as const;

/** The file name of an entry (`frameworks/express` → `express`): a wrapper sits beside its CommonJS file. */
const base = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

async function writeEsmWrappers(): Promise<void> {
  await mkdir('dist', { recursive: true });
  for (const name of ESM_ENTRIES) {
    // Node gives the CommonJS build's exports as named exports (tsup's `exports.x = …` form is what its
    // cjs-module-lexer reads); `default` is the exports object, as `require` returns it. Types: the `.d.cts`.
    await writeFile(
      `dist/${name}.js`,
      `// ESM entry of breakwater: re-exports the CommonJS build, so import and require share one state.\nexport * from './${base(name)}.cjs';\nexport { default } from './${base(name)}.cjs';\n`,
    );
  }
}

/** The package's entries (package.json "exports"), with types. */
const PUBLIC_ENTRIES = {
  index: 'src/index.ts',
  testing: 'src/testing.ts',
  'frameworks/express': 'src/frameworks/express.ts',
  'frameworks/fastify': 'src/frameworks/fastify.ts',
};

export default defineConfig({
  entry: {
    ...PUBLIC_ENTRIES,
    'cli/main': 'src/cli/main.ts',
    ...Object.fromEntries(Object.keys(ROOMS).map((file) => [roomEntry(file), file])),
  },
  format: ['cjs'],
  // types for the public entries only (a room's types are the entry's own)
  dts: { entry: PUBLIC_ENTRIES },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // `import.meta.url` in the CommonJS build (src/internal/promClient.ts's createRequire) becomes the file's own URL.
  shims: true,
  splitting: true,
  treeshake: true,
  outDir: 'dist',
  tsconfig: 'tsconfig.json',
  onSuccess: async () => {
    await writeEsmWrappers();
    checkRooms();
  },
  esbuildPlugins: [inlinePageScript, lazyRooms],
});
