import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** The shipped rules and their unit tests, run by the real `promtool` (Debian `prometheus`, see .ci/system-packages.sh). */
const run = promisify(execFile);
const DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'docs', 'prometheus');

describe('docs/prometheus rules', () => {
  it('pass `promtool check rules`', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', join(DIR, 'breakwater-rules.yml')], { timeout: 30_000 });
    expect(stdout).toContain('SUCCESS: 12 rules found');
  });

  it('pass their unit tests with `promtool test rules` (recording values and alerts, firing and not)', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', 'breakwater-rules.test.yml'], { cwd: DIR, timeout: 30_000 });
    expect(stdout).toContain('SUCCESS');
    expect(stdout).not.toContain('FAILED');
  });
});
