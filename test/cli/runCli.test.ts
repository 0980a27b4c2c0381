import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/runCli.js';
import type { CliIo } from '../../src/cli/cliIo.js';
import { startDashboard, type Dashboard } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { send, within } from '../dashboard/support.js';

interface FakeIo extends CliIo {
  readonly stdout: string[];
  readonly stderr: string[];
  /** Simulates SIGTERM. */
  stop(): void;
  /** Resolves when the first stdout line has been written. */
  readonly firstLine: Promise<string>;
}

function fakeIo(env: Record<string, string> = {}): FakeIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  let gotLine!: (line: string) => void;
  const firstLine = new Promise<string>((resolve) => (gotLine = resolve));
  return {
    stdout,
    stderr,
    env,
    out: (text) => {
      stdout.push(text);
      gotLine(stdout.join('').split('\n')[0]!);
    },
    err: (text) => stderr.push(text),
    untilStopped: () => stopped,
    stop: () => stop('SIGTERM'),
    firstLine,
  };
}

const others: Dashboard[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((d) => d.close()));
  resetBreakwater();
});

describe('runCli', () => {
  it('prints the help on stdout with exit code 0', async () => {
    const io = fakeIo();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.stdout.join('')).toMatch(/^Usage: breakwater <command>/);
    expect(io.stdout.join('')).toMatch(/demo[\s\S]*dashboard/);
    expect(io.stderr).toEqual([]);
    const sub = fakeIo();
    expect(await runCli(['dashboard', '--help'], sub)).toBe(0);
    expect(sub.stdout.join('')).toMatch(/^Usage: breakwater dashboard --stream URL/);
  });

  it('prints the package version for --version, -v and version, with exit code 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v', 'version']) {
      const io = fakeIo();
      expect(await runCli([flag], io)).toBe(0);
      expect(io.stdout.join('')).toBe(`${version}\n`);
      expect(io.stderr).toEqual([]);
    }
  });

  it('explains a bad command line on stderr, points at the help, and exits with 2', async () => {
    const io = fakeIo();
    expect(await runCli(['demo', '--port', 'x'], io)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr.join('')).toBe(
      `breakwater: --port must be an integer from 0 to 65535 (0 = a free port), got "x"\nRun 'breakwater demo --help' for usage.\n`,
    );
    const none = fakeIo();
    expect(await runCli([], none)).toBe(2);
    expect(none.stderr.join('')).toMatch(/missing command[\s\S]*Run 'breakwater --help'/);
  });

  it('serves the dashboard for --stream URLs, prints its URL first, and closes cleanly when stopped', async () => {
    const upstream = await startDashboard({ port: 0, intervalMs: 100 });
    others.push(upstream);
    const io = fakeIo();
    const exit = runCli(['dashboard', '--stream', `${upstream.url}hystrix.stream`, '--port', '0'], io);
    const url = await within(io.firstLine, 5000, 'the URL line');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await send(url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('"url":"proxy/0"');
    expect(io.stderr.join('')).toContain(`/proxy/0  <-  ${upstream.url}hystrix.stream`);
    io.stop();
    expect(await within(exit, 5000, 'exit')).toBe(0);
    await expect(send(url)).rejects.toThrow();
  });

  it('answers a Host named by --allowed-host, and refuses other names with 403', async () => {
    const io = fakeIo();
    const exit = runCli(['dashboard', '--stream', 'http://127.0.0.1:1/hystrix.stream', '--port', '0', '--allowed-host', 'dash.example.test'], io);
    const url = await within(io.firstLine, 5000, 'the URL line');
    const port = new URL(url).port;
    expect((await send(url, { headers: { host: `dash.example.test:${port}` } })).status).toBe(200);
    expect((await send(url, { headers: { host: `other.example.test:${port}` } })).status).toBe(403);
    expect((await send(url)).status).toBe(200); // loopback names stay allowed
    io.stop();
    expect(await within(exit, 5000, 'exit')).toBe(0);
  });

  it('exits with 1 and a hint when the port is taken', async () => {
    const busy = await startDashboard({ port: 0 });
    others.push(busy);
    const io = fakeIo({ PORT: String(busy.port) });
    expect(await runCli(['dashboard', '--stream', 'http://127.0.0.1:1/hystrix.stream'], io)).toBe(1);
    expect(io.stdout).toEqual([]);
    expect(io.stderr.join('')).toBe(`breakwater dashboard: port ${busy.port} on 127.0.0.1 is already in use (try --port 0 for a free port)\n`);
  });

  it('does not print stream credentials', async () => {
    const io = fakeIo();
    const exit = runCli(['dashboard', '--stream', 'http://me:s3cret@127.0.0.1:1/hystrix.stream', '--port', '0'], io);
    await within(io.firstLine, 5000, 'the URL line');
    io.stop();
    expect(await within(exit, 5000, 'exit')).toBe(0);
    expect(io.stdout.join('') + io.stderr.join('')).not.toContain('s3cret');
  });
});
