import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
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

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing.ts',
    'cli/main': 'src/cli/main.ts',
    'frameworks/express': 'src/frameworks/express.ts',
    'frameworks/fastify': 'src/frameworks/fastify.ts',
  },
  format: ['cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // `import.meta.url` in the CommonJS build (src/internal/promClient.ts's createRequire) becomes the file's own URL.
  shims: true,
  splitting: true,
  treeshake: true,
  outDir: 'dist',
  tsconfig: 'tsconfig.json',
  onSuccess: writeEsmWrappers,
  esbuildPlugins: [inlinePageScript],
});
