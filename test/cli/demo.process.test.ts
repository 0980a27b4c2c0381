import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStream, send, within, type LiveStream } from '../dashboard/support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
const streams: LiveStream[] = [];

afterEach(() => {
  for (const s of streams.splice(0)) s.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Runs `breakwater …` from the TypeScript sources, as `npm run demo` does. */
function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: env.PORT ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const firstLine = new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const nl = stdout.indexOf('\n');
      if (nl !== -1) resolve(stdout.slice(0, nl));
    };
    child.stdout!.on('data', check);
    void exit.then(() => reject(new Error(`exited before printing a line; stderr:\n${stderr}`)));
  });
  firstLine.catch(() => undefined); // only some tests read it
  return { child, exit, firstLine, stdout: () => stdout, stderr: () => stderr };
}

describe('breakwater demo (a child process)', () => {
  it('prints its URL first, serves the page and a live stream of its commands, and exits 0 on SIGTERM', async () => {
    const demo = cli(['demo', '--port', '0']);
    const url = await within(demo.firstLine, 15_000, 'the URL line');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await send(url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('breakwater dashboard');

    const stream = await openStream(`${url}hystrix.stream`);
    streams.push(stream);
    expect(stream.res.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    const names = (s: LiveStream): Set<unknown> => new Set(s.objects().map((o) => o.name));
    await stream.waitFor((s) => names(s).has('Payments.Charge') && names(s).has('CatalogPool'), 10_000);
    const users = stream.objects().find((o) => o.name === 'Users.GetProfile')!;
    expect(users.type).toBe('HystrixCommand');
    expect(Number(users.requestCount)).toBeGreaterThan(0);
    expect(stream.objects().find((o) => o.name === 'Catalog.Search')).toMatchObject({ propertyValue_executionIsolationStrategy: 'THREAD' });
    stream.close();

    const metrics = await send(`${url}metrics`);
    expect(metrics.body).toContain('breakwater_command_events_total{command="Geo.Lookup"');

    demo.child.kill('SIGTERM');
    expect(await within(demo.exit, 10_000, 'a clean exit')).toEqual({ code: 0, signal: null });
    expect(demo.stderr()).toContain('SIGTERM received, closing');
    expect(demo.stdout().trim().split('\n')).toEqual([url]);
    await expect(send(url)).rejects.toThrow();
  }, 40_000);

  it('lists its subcommands with --help and refuses a bad port with exit code 2', async () => {
    const help = cli(['--help']);
    expect(await within(help.exit, 15_000, 'exit')).toEqual({ code: 0, signal: null });
    expect(help.stdout()).toMatch(/demo[\s\S]*dashboard/);
    const bad = cli(['demo'], { PORT: 'http' });
    expect(await within(bad.exit, 15_000, 'exit')).toEqual({ code: 2, signal: null });
    expect(bad.stderr()).toContain('the PORT environment variable must be an integer from 0 to 65535');
  }, 40_000);
});
