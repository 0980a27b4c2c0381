/**
 * One breakwater per process, however it is loaded: a real Node process imports the built package with `import`
 * and with `require` (as an ESM app with a CommonJS dependency does) and checks that both see one state.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support/build.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let work: string;

function runNode(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: work, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), output: `${stdout}${stderr}` });
    });
  });
}

beforeAll(() => {
  ensureBuilt(ROOT);
  work = mkdtempSync(join(tmpdir(), 'bw-one-library-'));
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(ROOT, join(work, 'node_modules', 'breakwater'), 'dir'); // resolved through package.json "exports"
  // a CommonJS dependency of the app that uses breakwater through require()
  mkdirSync(join(work, 'node_modules', 'cjs-dep'));
  writeFileSync(join(work, 'node_modules', 'cjs-dep', 'package.json'), JSON.stringify({ name: 'cjs-dep', main: 'index.js' }));
  writeFileSync(
    join(work, 'node_modules', 'cjs-dep', 'index.js'),
    `const bw = require('breakwater');
module.exports = {
  bw,
  testing: require('breakwater/testing'),
  getUser: bw.command({ key: 'FromRequire', run: async (id) => 'user ' + id }),
};
`,
  );
}, 240_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('one breakwater per process (import and require of the built package)', () => {
  it('shares registries, configure(), errors and the fake clock between an ESM app and a CommonJS dependency', async () => {
    writeFileSync(
      join(work, 'app.mjs'),
      `import assert from 'node:assert/strict';
import { CommandError, command, commandKeys, configure, isCommandError, metricsFor } from 'breakwater';
import * as esmTesting from 'breakwater/testing';
import dep from 'cjs-dep';

// the same functions and classes, not two copies
assert.equal(dep.bw.command, command);
assert.equal(dep.bw.CommandError, CommandError);
assert.equal(dep.testing.useFakeClock, esmTesting.useFakeClock);

// a command made through require() is in import's registries
assert.equal(await dep.getUser.execute('1'), 'user 1');
assert.ok(commandKeys().includes('FromRequire'));
assert.equal(metricsFor('FromRequire').snapshot().cumulative.SUCCESS, 1);

// configure() through import reaches it; its error is an instance of import's CommandError
configure({ commands: { FromRequire: { circuitBreaker: { forceOpen: true } } } });
const error = await dep.getUser.execute('2').catch((e) => e);
assert.ok(error instanceof CommandError, 'instanceof across import and require');
assert.ok(isCommandError(error));
assert.equal(error.failureType, 'SHORT_CIRCUIT');

// and the other way round: a command made through import is seen by require's lookups
const local = command({ key: 'FromImport', run: async () => 1 });
await local.execute();
assert.equal(dep.bw.metricsFor('FromImport').snapshot().cumulative.SUCCESS, 1);

// a fake clock installed through one entry drives timeouts of commands made through the other
const clock = esmTesting.useFakeClock();
const slow = dep.bw.command({ key: 'SlowRequire', timeout: 50, run: () => new Promise(() => {}), fallback: () => 'late' });
const pending = slow.execute();
clock.advance(50);
assert.equal(await pending, 'late');
console.log('one state');
`,
    );
    const { code, output } = await runNode(join(work, 'app.mjs'));
    expect(output).toContain('one state');
    expect(code, output).toBe(0);
  });

  it('loads prom-client and rxjs lazily, yet they stay the instances the app imports', async () => {
    // the app's own rxjs and prom-client: the very packages breakwater uses (as npm would dedupe them)
    for (const name of ['rxjs', 'prom-client']) symlinkSync(join(ROOT, 'node_modules', name), join(work, 'node_modules', name), 'dir');
    writeFileSync(
      join(work, 'lazy.cjs'),
      `const assert = require('node:assert/strict');
const bw = require('breakwater');
const express = require('breakwater/express');
require('breakwater/fastify');
const loaded = () => Object.keys(require.cache);
assert.ok(!loaded().some((p) => p.includes('prom-client')), 'prom-client is not loaded by require("breakwater") nor by the framework adapters');
assert.ok(!loaded().some((p) => /rxjs.dist.cjs.index\\.js$/.test(p)), "rxjs's whole index is not loaded");
(async () => {
  const { Observable, of, isObservable, lastValueFrom, toArray } = require('rxjs');
  const ticks = bw.observableCommand({ key: 'LazyTicks', construct: () => of(1, 2) });
  const out = ticks.toObservable();
  assert.ok(out instanceof Observable, "a command's Observable is an instance of the app's rxjs Observable");
  assert.ok(isObservable(out));
  assert.deepEqual(await lastValueFrom(out.pipe(toArray())), [1, 2]);
  // an adapter set up with its /metrics route makes its registry then, loading prom-client
  assert.equal(typeof express.breakwater({ streamPath: false }), 'function');
  assert.ok(loaded().some((p) => p.includes('prom-client')), 'the adapter loaded prom-client at set-up');
  const { Registry } = require('prom-client');
  const registry = new Registry();
  bw.registerPrometheus(registry);
  assert.match(await registry.metrics(), /LazyTicks/);
  console.log('lazy ok');
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const { code, output } = await runNode(join(work, 'lazy.cjs'));
    expect(output).toContain('lazy ok');
    expect(code, output).toBe(0);
  });

  /**
   * What `import`/`require('breakwater')` loads (start-up cost, docs/benchmarks.md "Start-up"): none of the rooms a
   * plain command does not use (built as dist/rooms/*, loaded at their first call) and none of the Node modules they
   * need; then a room used afterwards works and sees the commands made before it.
   */
  function roomsScript(format: 'esm' | 'cjs'): string {
    // what Node had loaded before breakwater (the assert module itself loads net, for its colours)
    const head =
      format === 'esm'
        ? `import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const before = new Set(process.moduleLoadList);
const bw = await import('breakwater');
`
        : `const assert = require('node:assert/strict');
const before = new Set(process.moduleLoadList);
const bw = require('breakwater');
`;
    return `${head}const natives = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
for (const heavy of ['http', 'https', 'net', 'tls', 'crypto', 'cluster', 'dns/promises']) {
  assert.ok(!natives.includes(heavy), heavy + ' is not loaded at import (loaded: ' + natives.join(' ') + ')');
}
assert.ok(natives.length > 0, 'process.moduleLoadList lists what importing loaded (so the check above can fail)');
const { readdirSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const dep = require('cjs-dep');
const dist = dirname(require.resolve('breakwater'));
const built = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.cjs')).map((f) => join(dist, f));
const loaded = () => Object.keys(require.cache).filter((f) => f.startsWith(dist + '/'));
// each built file's source map lists the source modules whose code it holds (a room's facade is not one of them)
const ROOMS = ['src/stream/sseHandler.ts', 'src/stream/dashboardEvents.ts', 'src/prometheus/registerPrometheus.ts', 'src/dashboard/startDashboard.ts',
  'src/dashboard/page/pageHtml.ts', 'src/fleet/startTurbine.ts', 'src/fleet/startClusterPrimary.ts', 'src/fleet/reportToClusterPrimary.ts'];
const sourcesOf = (file) => JSON.parse(readFileSync(file + '.map', 'utf8')).sources.map((s) => join(dirname(file), s));
const holds = (files, source) => files.some((f) => sourcesOf(f).includes(join(dist, '..', source)));
for (const source of ROOMS) {
  assert.ok(holds(built, source), source + ' is somewhere in the build (so the check below can fail)');
  assert.ok(!holds(loaded(), source), source + ' is not loaded at import');
}
assert.ok(!loaded().some((f) => f.includes('/rooms/')), 'no dist/rooms entry is loaded at import');
assert.equal(dep.bw.startDashboard, bw.startDashboard, 'one facade for import and require');

const hello = bw.command({ key: 'RoomsLater${format}', run: async () => 'hi' });
await hello.execute();
// a synchronous room stays synchronous
const handler = bw.hystrixStreamHandler();
assert.equal(typeof handler, 'function');
handler.close();
const dashboard = await bw.startDashboard({ port: 0 });
try {
  const metrics = await (await fetch(dashboard.url + 'metrics')).text();
  assert.match(metrics, /RoomsLater${format}/, 'the dashboard loaded afterwards sees the command made before');
} finally {
  await dashboard.close();
}
assert.ok(holds(loaded(), 'src/dashboard/startDashboard.ts'), 'startDashboard loaded its room');
assert.ok(!holds(loaded(), 'src/fleet/startTurbine.ts'), 'and only what it needs');
console.log('rooms ok');
`;
  }

  it.each(['esm', 'cjs'] as const)('%s: importing loads none of the rooms nor node:http, and a room loaded later shares the registries', async (format) => {
    const file = join(work, `rooms.${format === 'esm' ? 'mjs' : 'cjs'}`);
    const body = roomsScript(format);
    // CommonJS has no top-level await: the checks run in an async function there
    writeFileSync(file, format === 'esm' ? body : `(async () => {\n${body}})().catch((e) => { console.error(e); process.exit(1); });\n`);
    const { code, output } = await runNode(file);
    expect(output).toContain('rooms ok');
    expect(code, output).toBe(0);
  });

  it('the built CLI prints its version', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.cjs'), '--version'], { encoding: 'utf8', timeout: 30_000 });
    const { version } = JSON.parse(execFileSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: ROOT, encoding: 'utf8' })) as { version: string };
    expect(out).toBe(`${version}\n`);
  });
});
