import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from './support/httpGet.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let child: ChildProcess;
let port = 0;

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'test/shedding/support/busyServer.ts'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 20 s')), 20_000);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /port (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
});

afterAll(() => {
  child.stdin!.end();
  child.kill();
});

const get = (path: string) => httpGet(port, path);

/** Polls `probe` until it returns true, at most `withinMs`; returns the ms it took. */
async function until(what: string | (() => string), probe: () => Promise<boolean>, withinMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < withinMs) {
    if (await probe()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${typeof what === 'string' ? what : what()}: not within ${withinMs} ms`);
}

describe('a process whose event loop is busy (real timing, loopback)', () => {
  it('sheds sheddable commands and HTTP requests while busy (never a critical one), and recovers once idle', async () => {
    // idle: served (a loaded CI machine may need a moment to settle after start-up)
    await until('served while idle', async () => (await get('/cmd')).body === 'ran' && (await get('/')).status === 200, 5000);

    // Busy until the test has seen the shedding (however long a loaded machine takes to show it), 20 s at most.
    expect((await get('/busy?ms=20000')).body).toBe('busy');
    let sawCommandShed = false;
    let sawHttpShed = false;
    let state = '';
    try {
      await until(() => `shed while busy (command shed: ${String(sawCommandShed)}, HTTP 503: ${String(sawHttpShed)}, last state ${state})`, async () => {
        state = (await get('/state')).body;
        if ((await get('/cmd')).body === 'shed') sawCommandShed = true;
        expect((await get('/critical')).body).toBe('ran'); // priority 'critical': never shed
        const page = await get('/');
        if (page.status === 503) {
          expect(page.retryAfter).toBe('2');
          sawHttpShed = true;
        }
        return sawCommandShed && sawHttpShed;
      }, 15_000);
    } finally {
      await get('/idle');
    }

    // recovery takes a few samples of 50 ms once the busy spell has ended
    const recoveredIn = await until('recovered once idle', async () => (await get('/cmd')).body === 'ran' && (await get('/')).status === 200, 6000);
    expect(recoveredIn).toBeLessThan(6000);
  }, 45_000);
});
