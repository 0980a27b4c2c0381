import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStream, within, type LiveStream } from '../dashboard/support.js';
import { startLocalServer, type LocalServer } from '../integration/support/http.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stream server sending one fixed command object every 100 ms. */
async function instance(requestCount: number): Promise<LocalServer> {
  const server = await startLocalServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const object = { type: 'HystrixCommand', name: 'Cli.Get', group: 'Cli', requestCount, errorCount: 0, isCircuitBreakerOpen: false, reportingHosts: 1 };
    const t = setInterval(() => res.write(`data: ${JSON.stringify(object)}\n\n`), 100);
    res.once('close', () => clearInterval(t));
  });
  cleanups.push(() => server.close());
  return server;
}

describe('breakwater turbine (a child process)', () => {
  it('prints its stream URL first, aggregates --stream and --dns instances, and exits 0 on SIGTERM', async () => {
    const a = await instance(3);
    const b = await instance(4);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'turbine', '--stream', `${a.url}/hystrix.stream`, '--dns', `localhost:${b.port}/hystrix.stream`, '--port', '0'],
      { cwd: ROOT, env: { ...process.env, PORT: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const firstLine = new Promise<string>((resolve) => {
      child.stdout.on('data', () => {
        const nl = stdout.indexOf('\n');
        if (nl !== -1) resolve(stdout.slice(0, nl));
      });
    });
    const url = await within(firstLine, 15_000, 'the URL line');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/turbine\.stream$/);
    const stream: LiveStream = await openStream(url);
    cleanups.push(() => stream.close());
    await stream.waitFor((s) => s.objects().some((o) => o.name === 'Cli.Get' && o.reportingHosts === 2 && o.requestCount === 7), 10_000);
    expect(stderr).toContain('aggregating 2 source(s)');
    child.kill('SIGTERM');
    expect(await within(exit, 10_000, 'a clean exit')).toEqual({ code: 0, signal: null });
    expect(stdout.trim().split('\n')).toEqual([url]);
  }, 40_000);
});
