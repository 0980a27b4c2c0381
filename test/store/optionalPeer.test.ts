import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('ioredis is an optional peer dependency', () => {
  it('is never imported by the library (not even as a type): the user passes their own client', () => {
    const code = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)) // TSDoc examples may show `import Redis from 'ioredis'`
        .join('\n');
    const importing = sources(SRC).filter((file) => /(from|import\()\s*['"]ioredis['"]|require\(\s*['"]ioredis['"]/.test(code(file)));
    expect(importing).toEqual([]);
  });

  it('is declared as an optional peer and a devDependency, never as a dependency', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(pkg.peerDependencies?.ioredis).toBeDefined();
    expect(pkg.peerDependenciesMeta?.ioredis).toEqual({ optional: true });
    expect(pkg.devDependencies?.ioredis).toBeDefined();
    expect(pkg.dependencies?.ioredis).toBeUndefined();
  });
});
