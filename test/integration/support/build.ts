import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time of the files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds `root`'s dist/ when it is missing or older than the sources, for tests that run the built package in a
 * real Node process (CI and landings build first; this is for `npm test` alone).
 */
export function ensureBuilt(root: string): void {
  let built = 0;
  try {
    built = statSync(join(root, 'dist', 'index.cjs')).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(newestSource(join(root, 'src')), statSync(join(root, '.config', 'tsup.config.ts')).mtimeMs, statSync(join(root, 'package.json')).mtimeMs);
  if (built >= sources) return;
  execFileSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js'), '--config', '.config/tsup.config.ts'], {
    cwd: root,
    stdio: 'ignore',
    timeout: 180_000,
  });
}
