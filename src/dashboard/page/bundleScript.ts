import { buildSync } from 'esbuild';

/**
 * @internal bundles the page's client code (`client/main.ts` and what it imports) into one classic script: an
 * IIFE for the browsers of the last few years, minified, with no imports left. Used twice: by the build
 * (`.config/tsup.config.ts` inlines the result into `dist`, so the published package needs neither esbuild nor any
 * asset file) and, when breakwater runs from its sources (tests, `npm run demo`), on the first page served.
 */
export function bundlePageScript(entry: string): string {
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'none',
    charset: 'ascii',
    write: false,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error(`bundling ${entry} produced no output`);
  // One line, ASCII only: safe to inline in a <script> element (checked by test/dashboard/pageHtml.test.ts).
  return file.text.trimEnd();
}

/** @internal where the page's client code starts, relative to a given directory (`src/dashboard/page`). */
export const PAGE_CLIENT_ENTRY = 'client/main.ts';
