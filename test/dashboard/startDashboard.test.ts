import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command, startDashboard, type Dashboard, type DashboardOptions } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { openStream, send, within, type LiveStream } from './support.js';

const started: Dashboard[] = [];
const streams: LiveStream[] = [];

async function start(options: DashboardOptions = {}): Promise<Dashboard> {
  const d = await startDashboard({ port: 0, intervalMs: 100, ...options });
  started.push(d);
  return d;
}

async function open(url: string, headers?: Record<string, string>): Promise<LiveStream> {
  const s = await openStream(url, headers);
  streams.push(s);
  return s;
}

beforeEach(() => resetBreakwater());

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await Promise.all(started.splice(0).map((d) => d.close()));
  resetBreakwater();
});

async function someTraffic(): Promise<void> {
  const ok = command({ key: 'Dash.Ok', group: 'DashGroup', run: async () => 'fine' });
  const bad = command({ key: 'Dash.Bad', run: async (): Promise<string> => { throw new Error('secret detail 12345'); }, fallback: () => 'fallback' });
  await command({ key: 'Dash.Pooled', isolation: 'pool', pool: 'DashPool', run: async () => 1 }).execute();
  for (let i = 0; i < 5; i++) {
    await ok.execute();
    await bad.execute();
  }
}

describe('startDashboard', () => {
  it('listens on 127.0.0.1 by default, on a free port with port 0, and reports its URL', async () => {
    const d = await start();
    const address = d.server.address();
    expect(address).toMatchObject({ address: '127.0.0.1', port: d.port });
    expect(d.port).toBeGreaterThan(0);
    expect(d.url).toBe(`http://127.0.0.1:${d.port}/`);
    expect(d.server.listening).toBe(true);
  });

  it('serves the page at / with everything inline and a strict Content-Security-Policy', async () => {
    const d = await start();
    const page = await send(d.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<title>breakwater dashboard</title>');
    expect(page.body).toContain('"url":"hystrix.stream"');
    // Nothing is loaded from anywhere else: no absolute or protocol-relative src/href, no @import, no url(http…).
    expect(page.body).not.toMatch(/(?:src|href)\s*=\s*["']?(?:[a-z]+:)?\/\//i);
    expect(page.body).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect((await send(`${d.url}index.html`)).status).toBe(200);
    const head = await send(d.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves the Hystrix stream at /hystrix.stream with command and pool objects', async () => {
    await someTraffic();
    const d = await start();
    const s = await open(`${d.url}hystrix.stream`);
    expect(s.res.statusCode).toBe(200);
    expect(s.res.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    await s.waitFor((x) => x.objects().some((o) => o.type === 'HystrixThreadPool'));
    const ok = s.objects().find((o) => o.name === 'Dash.Ok')!;
    expect(ok).toMatchObject({ type: 'HystrixCommand', group: 'DashGroup', rollingCountSuccess: 5, isCircuitBreakerOpen: false });
    const bad = s.objects().find((o) => o.name === 'Dash.Bad')!;
    expect(bad).toMatchObject({ rollingCountFailure: 5, rollingCountFallbackSuccess: 5, errorPercentage: 100 });
    expect(s.objects().find((o) => o.type === 'HystrixThreadPool')).toMatchObject({ name: 'DashPool' });
    expect(s.text()).not.toContain('secret detail');
  });

  it('serves Prometheus metrics at /metrics, read at scrape time', async () => {
    const d = await start();
    await someTraffic();
    const metrics = await send(`${d.url}metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('breakwater_command_events_total{command="Dash.Ok",group="DashGroup",event="success"} 5');
    expect(metrics.body).toContain('command="Dash.Bad"');
    expect(metrics.body).not.toContain('secret detail');
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const d = await start();
    expect((await send(`${d.url}nope`)).status).toBe(404);
    expect((await send(`${d.url}proxy/0`)).status).toBe(404);
    const post = await send(d.url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('close() ends live stream connections, stops listening, and can be called twice', async () => {
    await someTraffic();
    const d = await start();
    const a = await open(`${d.url}hystrix.stream`);
    const b = await open(`${d.url}hystrix.stream?delay=200`);
    await a.waitFor((x) => x.objects().length > 0);
    await b.waitFor((x) => x.text().length > 0);
    await within(d.close(), 3000, 'close()');
    await within(Promise.all([a.ended, b.ended]), 3000, 'the streams ending');
    expect(d.server.listening).toBe(false);
    await d.close();
    await expect(send(d.url)).rejects.toThrow();
  });

  it('authorize guards every route with 403, lets approved requests through, and answers 500 when it throws', async () => {
    await someTraffic();
    const seen: string[] = [];
    const d = await start({
      authorize: (req) => {
        seen.push(req.url ?? '');
        return req.headers['x-token'] === 'let-me-in';
      },
    });
    for (const path of ['', 'index.html', 'hystrix.stream', 'metrics', 'nope']) {
      const denied = await send(`${d.url}${path}`);
      expect(denied.status, path).toBe(403);
      expect(denied.body).not.toContain('Dash.Ok');
    }
    expect(seen).toEqual(['/', '/index.html', '/hystrix.stream', '/metrics', '/nope']);
    const token = { 'x-token': 'let-me-in' };
    expect((await send(d.url, { headers: token })).status).toBe(200);
    expect((await send(`${d.url}metrics`, { headers: token })).status).toBe(200);
    const s = await open(`${d.url}hystrix.stream`, token);
    expect(s.res.statusCode).toBe(200);

    const asyncGate = await start({ authorize: async (req) => req.headers['x-token'] === 'ok' });
    expect((await send(asyncGate.url)).status).toBe(403);
    expect((await send(asyncGate.url, { headers: { 'x-token': 'ok' } })).status).toBe(200);

    const broken = await start({
      authorize: () => {
        throw new Error('hook bug');
      },
    });
    const reply = await send(broken.url);
    expect(reply.status).toBe(500);
    expect(reply.body).not.toContain('hook bug');
  });

  it('relays upstream streams at /proxy/<n> and tells the page to read them', async () => {
    await someTraffic();
    const upstream = await start();
    const d = await start({ streams: [`${upstream.url}hystrix.stream`] });
    const page = await send(d.url);
    expect(page.body).toContain(`{"url":"proxy/0","label":"127.0.0.1:${upstream.port}/hystrix.stream"}`);
    const relay = await open(`${d.url}proxy/0`);
    expect(relay.res.statusCode).toBe(200);
    expect(relay.res.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    await relay.waitFor((x) => x.objects().some((o) => o.name === 'Dash.Ok'));
    expect((await send(`${d.url}proxy/1`)).status).toBe(404);
    await within(d.close(), 3000, 'close()');
    await within(relay.ended, 3000, 'the relay ending');
  });

  it('answers 502 when an upstream stream is unreachable, and hides its credentials from the page', async () => {
    const free = await freePort();
    const d = await start({ streams: [`http://user:hunter2@127.0.0.1:${free}/hystrix.stream?token=abc`] });
    const reply = await send(`${d.url}proxy/0`);
    expect(reply.status).toBe(502);
    expect(reply.body).toBe('upstream stream 0 is unreachable (ECONNREFUSED)\n'); // the page shows why
    const page = await send(d.url);
    expect(page.body).toContain(`"label":"127.0.0.1:${free}/hystrix.stream"`);
    expect(page.body).not.toContain('hunter2');
    expect(page.body).not.toContain('token=abc');
  });

  it('rejects an occupied port with EADDRINUSE', async () => {
    const d = await start();
    await expect(startDashboard({ port: d.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('rejects bad options, naming the option and the value', async () => {
    await expect(startDashboard({ port: -1 })).rejects.toThrow(/startDashboard\.port.*-1/);
    await expect(startDashboard({ port: 70000 })).rejects.toThrow(RangeError);
    await expect(startDashboard({ port: 1.5 })).rejects.toThrow(/startDashboard\.port/);
    await expect(startDashboard({ port: '80' as unknown as number })).rejects.toThrow(TypeError);
    await expect(startDashboard({ host: '' })).rejects.toThrow(/startDashboard\.host/);
    await expect(startDashboard({ intervalMs: 0 })).rejects.toThrow(/startDashboard\.intervalMs/);
    await expect(startDashboard({ authorize: 'yes' as never })).rejects.toThrow(/startDashboard\.authorize/);
    await expect(startDashboard({ streams: ['ftp://example.test/x'] })).rejects.toThrow(/startDashboard\.streams\[0\]/);
    await expect(startDashboard({ streams: ['not a url'] })).rejects.toThrow(/startDashboard\.streams\[0\]/);
    await expect(startDashboard({ prot: 1 } as never)).rejects.toThrow(/startDashboard\.prot/);
    await expect(startDashboard({ aggregate: 'yes' as never })).rejects.toThrow(/startDashboard\.aggregate.*a boolean/);
  });

  it('tells the page to merge the streams with aggregate: true', async () => {
    const d = await start({ aggregate: true, streams: ['http://127.0.0.1:9/a.stream', 'http://127.0.0.1:9/b.stream'] });
    const config = /<script id="bw-config" type="application\/json">(.*?)<\/script>/.exec((await send(d.url)).body)![1]!;
    expect(JSON.parse(config)).toEqual({
      streams: [{ url: 'proxy/0', label: '127.0.0.1:9/a.stream' }, { url: 'proxy/1', label: '127.0.0.1:9/b.stream' }],
      aggregate: true,
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
