/**
 * Compile errors that name their fix: test/fixtures/type-errors/messages.ts holds mistakes, each after a
 * `// error: text` line; compiled with TC39 decorators and with `experimentalDecorators`, each must give a
 * diagnostic on the next line containing that text, and nothing else may fail.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(ROOT, 'test', 'fixtures', 'type-errors', 'messages.ts');

/** The `// error:` expectations: 1-based line of the mistake → the text its diagnostic must contain. */
function expectations(): Map<number, string> {
  const lines = readFileSync(FIXTURE, 'utf8').split('\n');
  const expected = new Map<number, string>();
  lines.forEach((line, i) => {
    const m = /^\s*\/\/ error: (.*)$/.exec(line);
    if (m) expected.set(i + 2, m[1]!.trim());
  });
  return expected;
}

function diagnostics(extra: ts.CompilerOptions): Map<number, string[]> {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const program = ts.createProgram([FIXTURE], { ...parsed.options, ...extra, noEmit: true });
  const byLine = new Map<number, string[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '(global)';
    const line = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    const key = file === FIXTURE.split('\\').join('/') || dirname(file) === dirname(FIXTURE) ? line : -1;
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    byLine.set(key, [...(byLine.get(key) ?? []), key === -1 ? `${file}:${line} ${text}` : text]);
  }
  return byLine;
}

describe('compile errors name the fix', () => {
  for (const [name, extra] of [
    ['TC39 decorators', {}],
    ['experimentalDecorators', { experimentalDecorators: true }],
  ] as const) {
    it(`with ${name}`, { timeout: 60_000 }, () => {
      const expected = expectations();
      expect(expected.size).toBeGreaterThanOrEqual(6);
      const found = diagnostics(extra);
      for (const [line, text] of expected) {
        const messages = found.get(line) ?? [];
        expect(messages.some((m) => m.includes(text)), `line ${line}: expected "${text}", got ${JSON.stringify(messages)}`).toBe(true);
        found.delete(line);
      }
      expect([...found.entries()]).toEqual([]);
    });
  }
});
