import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  circuitBreakerFor,
  command,
  dashboardEvents,
  hystrixStreamHandler,
  registerPrometheus,
  RequestContext,
  startDashboard,
  type Dashboard,
} from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { openStream } from '../integration/support/http.js';

let clock: FakeClock;
let dashboard: Dashboard | undefined;
beforeEach(() => {
  clock = useFakeClock();
});
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

/** A value that must never leave the process through the stream, /metrics or the page. */
const SECRET = `s3cr3t-${Math.random().toString(36).slice(2)}-${Date.now()}`;

/** Runs commands whose arguments, results, errors, cache keys and fallbacks all carry the secret. */
async function runSecretCommands(): Promise<void> {
  const ok = command({ key: 'Sec.Ok', run: async (arg: string) => `${arg} result ${SECRET}`, cacheKey: (arg: string) => `${arg}:${SECRET}` });
  const fails = command({
    key: 'Sec.Fails',
    group: 'Sec',
    circuitBreaker: { requestVolumeThreshold: 1 },
    metrics: { healthSnapshotInterval: 1 },
    run: async (arg: string) => {
      throw new Error(`failure with ${arg} and ${SECRET}`);
    },
    fallback: (error) => `fallback ${String(error)} ${SECRET}`,
  });
  const bad = command({ key: 'Sec.Bad', run: async () => { throw new BadRequestError(`bad ${SECRET}`); } });
  const slow = command({ key: 'Sec.Slow', timeout: 10, isolation: 'pool', pool: 'Sec.Pool', run: (_arg: string) => new Promise<string>(() => {}), fallback: () => SECRET });
  await RequestContext.run(async () => {
    await ok.execute(`arg ${SECRET}`);
    await ok.execute(`arg ${SECRET}`); // a cache hit
  });
  await fails.execute(`arg ${SECRET}`);
  clock.advance(2);
  await fails.execute(`arg ${SECRET}`); // short-circuited
  await bad.execute().catch(() => undefined);
  const pending = slow.execute(`arg ${SECRET}`);
  clock.advance(10);
  await pending;
  expect(circuitBreakerFor('Sec.Fails').state).toBe('OPEN');
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('security defaults', () => {
  it('startDashboard binds 127.0.0.1 unless told otherwise', async () => {
    dashboard = await startDashboard({ port: 0 });
    expect((dashboard.server.address() as AddressInfo).address).toBe('127.0.0.1');
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('the stream, /metrics, the page and dashboardEvents carry command names and numbers, never arguments, results, cache keys or error messages', async () => {
    await runSecretCommands();
    dashboard = await startDashboard({ port: 0 });
    const base = dashboard.url;
    const stream = await openStream(`${base}hystrix.stream`);
    clock.advance(500);
    const text = await stream.waitFor((t) => t.includes('"name":"Sec.Slow"') && t.includes('HystrixThreadPool'));
    stream.close();
    expect(text).toContain('"name":"Sec.Fails"');
    const metrics = await get(`${base}metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('Sec.Fails');
    const page = await get(base);
    expect(page.status).toBe(200);
    const objects: unknown[] = [];
    const sub = dashboardEvents({ intervalMs: 100 }).subscribe((o) => objects.push(o));
    clock.advance(100);
    sub.unsubscribe();
    const registry = new Registry();
    registerPrometheus(registry);
    const exposition = await registry.metrics();
    for (const [what, body] of [
      ['stream', text],
      ['/metrics', metrics.body],
      ['page', page.body],
      ['dashboardEvents', JSON.stringify(objects)],
      ['registerPrometheus', exposition],
    ] as const) {
      expect(body.includes(SECRET), `${what} leaked the secret`).toBe(false);
      expect(body.includes('failure with'), `${what} leaked an error message`).toBe(false);
    }
  });

  it('the standalone stream handler leaks nothing either', async () => {
    await runSecretCommands();
    const handler = hystrixStreamHandler();
    const { startLocalServer } = await import('../integration/support/http.js');
    const server = await startLocalServer((req, res) => handler(req, res));
    try {
      const s = await openStream(`${server.url}/hystrix.stream`);
      clock.advance(500);
      const text = await s.waitFor((t) => t.includes('Sec.Ok'));
      s.close();
      expect(text.includes(SECRET)).toBe(false);
    } finally {
      handler.close();
      await server.close();
    }
  });

  it('authorize guards every route (page, stream, metrics, relays, unknown and odd paths), before anything is read or sent', async () => {
    await runSecretCommands();
    const seen: string[] = [];
    dashboard = await startDashboard({
      port: 0,
      authorize: (req) => {
        seen.push(`${req.method} ${req.url}`);
        return req.headers.authorization === 'Bearer let-me-in';
      },
    });
    const base = dashboard.url.replace(/\/$/, '');
    const paths = ['/', '/index.html', '/hystrix.stream', '/hystrix.stream?delay=100', '/metrics', '/proxy/0', '/nope', '//hystrix.stream', '/%68ystrix.stream', '/metrics/../metrics'];
    for (const path of paths) {
      for (const method of ['GET', 'HEAD', 'POST']) {
        const r = await get(`${base}${path}`, {}, method);
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(r.body.includes('Sec.'), `${method} ${path} body`).toBe(false);
        const wrong = await get(`${base}${path}`, { authorization: 'Bearer nope' }, method);
        expect(wrong.status, `${method} ${path} with a wrong token`).toBe(403);
      }
    }
    expect(seen.length).toBe(paths.length * 6);
    expect((await get(`${base}/metrics`, { authorization: 'Bearer let-me-in' })).status).toBe(200);
    const s = await openStream(`${base}/hystrix.stream`, { authorization: 'Bearer let-me-in' });
    expect(s.res.statusCode).toBe(200);
    s.close();
  });
});
