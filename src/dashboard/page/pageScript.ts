import { fileURLToPath } from 'node:url';
import { bundlePageScript, PAGE_CLIENT_ENTRY } from './bundleScript.js';

let bundled: string | undefined;

/**
 * @internal the dashboard page's script (the client code in `client/`, bundled into one classic script).
 *
 * Running from the sources (tests, `npm run demo` through tsx), it is bundled with esbuild on the first call and
 * kept. In the published build this whole module is replaced by the build (see `.config/tsup.config.ts`) with one
 * that returns the string bundled at build time, so `dist` neither imports esbuild nor reads any file.
 */
export function pageScript(): string {
  bundled ??= bundlePageScript(fileURLToPath(new URL(PAGE_CLIENT_ENTRY, import.meta.url)));
  return bundled;
}
