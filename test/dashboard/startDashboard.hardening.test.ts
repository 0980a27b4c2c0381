import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command, hystrixStreamHandler, startDashboard, type Dashboard, type DashboardOptions, type HystrixStreamHandler } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { silentClient, startLocalServer, turn, type LocalServer } from '../integration/support/http.js';
import { openStream, send, type LiveStream } from './support.js';

let clock: FakeClock;
const started: Dashboard[] = [];
const streams: LiveStream[] = [];
const sockets: Socket[] = [];
let upstream: { server: LocalServer; handler: HystrixStreamHandler; connections: () => number } | undefined;

beforeEach(() => {
  clock = useFakeClock();
});

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(started.splice(0).map((d) => d.close()));
  upstream?.handler.close();
  await upstream?.server.close();
  upstream = undefined;
});

async function start(options: DashboardOptions = {}): Promise<Dashboard> {
  const d = await startDashboard({ port: 0, ...options });
  started.push(d);
  return d;
}

async function open(url: string, headers?: Record<string, string>): Promise<LiveStream> {
  const s = await openStream(url, headers);
  streams.push(s);
  return s;
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

/** An upstream Hystrix stream that counts the TCP connections it holds. */
async function countingUpstream(): Promise<string> {
  const handler = hystrixStreamHandler();
  const server = await startLocalServer((req, res) => handler(req, res));
  let open = 0;
  server.server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
  });
  upstream = { server, handler, connections: () => open };
  return `${server.url}/hystrix.stream`;
}

describe('startDashboard hardening', () => {
  it('answers 403 on every route to a Host outside the allow-list, and serves loopback names, its host and allowedHosts', async () => {
    const d = await start({ streams: ['http://127.0.0.1:9/hystrix.stream'], allowedHosts: ['dash.example'] });
    for (const path of ['', 'index.html', 'metrics', 'hystrix.stream', 'proxy/0', 'nope']) {
      const reply = await send(`${d.url}${path}`, { headers: { host: 'rebound.attacker.example' } });
      expect(reply.status, path).toBe(403);
      expect(reply.headers['x-content-type-options'], path).toBe('nosniff');
    }
    for (const host of [`localhost:${d.port}`, '127.0.0.1', 'dash.example:7979']) {
      expect((await send(d.url, { headers: { host } })).status, host).toBe(200);
    }
    const all = await start({ allowedHosts: 'all' });
    expect((await send(`${all.url}metrics`, { headers: { host: 'anything.example' } })).status).toBe(200);
  });

  it('sends nosniff on every response, plain-text errors included', async () => {
    const d = await start({ maxConnections: 1, streams: ['http://127.0.0.1:9/hystrix.stream'] });
    const replies = await Promise.all([
      send(`${d.url}nope`),
      send(d.url, { method: 'POST' }),
      send(`${d.url}metrics`),
      send(d.url),
      send(`${d.url}proxy/0`), // unreachable upstream: 502
      send(`${d.url}proxy/7`),
    ]);
    expect(replies.map((r) => r.status)).toEqual([404, 405, 200, 200, 502, 404]);
    for (const r of replies) expect(r.headers['x-content-type-options']).toBe('nosniff');
    const live = await open(`${d.url}hystrix.stream`);
    expect(live.res.headers['x-content-type-options']).toBe('nosniff');
    const full = await send(`${d.url}hystrix.stream`);
    expect(full.status).toBe(503);
    expect(full.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers HEAD on every route with the status and headers of a GET and no body, opening no stream', async () => {
    const target = await countingUpstream();
    const d = await start({ streams: [target] });
    const page = await send(d.url, { method: 'HEAD' });
    const metrics = await send(`${d.url}metrics`, { method: 'HEAD' });
    const stream = await send(`${d.url}hystrix.stream`, { method: 'HEAD' });
    const relay = await send(`${d.url}proxy/0`, { method: 'HEAD' });
    const missing = await send(`${d.url}proxy/3`, { method: 'HEAD' });
    expect([page, metrics, stream, relay, missing].map((r) => r.status)).toEqual([200, 200, 200, 200, 404]);
    for (const r of [page, metrics, stream, relay, missing]) expect(r.body).toBe('');
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(stream.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    expect(relay.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    expect(upstream!.connections()).toBe(0);
  });

  it('opens one upstream connection per configured stream and fans it out to every viewer', async () => {
    const target = await countingUpstream();
    await command({ key: 'Relay.Shared', run: async () => 1 }).execute();
    const d = await start({ streams: [target] });
    const viewers = await Promise.all(Array.from({ length: 6 }, () => open(`${d.url}proxy/0`)));
    await until(() => upstream!.handler.stats().connections === 1, 'the upstream connection');
    for (const v of viewers) expect(v.res.statusCode).toBe(200);
    expect(upstream!.connections()).toBe(1);
    clock.advance(500);
    for (const v of viewers) await v.waitFor((s) => s.objects().some((o) => o.name === 'Relay.Shared'));
    // A late viewer joins the same connection and gets whole frames from the next sample on.
    const late = await open(`${d.url}proxy/0`);
    clock.advance(500);
    await late.waitFor((s) => s.objects().some((o) => o.name === 'Relay.Shared'));
    expect(late.text().startsWith('data: ') || late.text().startsWith('ping: ')).toBe(true);
    expect(upstream!.handler.stats().connections).toBe(1);
    for (const v of [...viewers, late]) v.close();
    await until(() => upstream!.handler.stats().connections === 0, 'the upstream connection closes with its last viewer');
  });

  it('drops a relay viewer that takes no byte for writeTimeout, without holding back the other viewers', async () => {
    const target = await countingUpstream();
    for (let i = 0; i < 300; i++) await command({ key: `Relay.Big.${i}.${'y'.repeat(200)}`, run: async () => i }).execute();
    const d = await start({ streams: [target], maxConnections: 2, writeTimeout: 3000 });
    const reader = await open(`${d.url}proxy/0`);
    sockets.push(await silentClient(d.port, '/proxy/0'));
    await until(() => upstream!.handler.stats().connections === 1, 'one upstream connection');
    let samples = 0;
    // a sample has reached the reader once its last key has (the upstream writes a sample in pieces, one per turn,
    // and skips a tick that comes while it is still writing the one before)
    const dropped = (): boolean => reader.text().split('"name":"Relay.Big.299.').length - 1 > samples;
    // The reader keeps receiving every sample while the silent viewer backs up; after writeTimeout it is dropped.
    let freedAt = -1;
    for (let tick = 1; tick <= 30 && freedAt < 0; tick++) {
      clock.advance(500);
      await until(dropped, `sample ${tick} reaches the reader`);
      samples++;
      await turn();
      if ((await send(`${d.url}proxy/0`, { method: 'HEAD' })).status === 200) freedAt = tick;
    }
    // Not before writeTimeout (3000 ms = 6 samples) has passed, and not much after.
    expect(freedAt).toBeGreaterThanOrEqual(6);
    expect(freedAt).toBeLessThanOrEqual(20);
    const again = await open(`${d.url}proxy/0`);
    expect(again.res.statusCode).toBe(200);
    expect(upstream!.handler.stats().connections).toBe(1);
  });

  it('validates writeTimeout and allowedHosts, naming the option', async () => {
    await expect(startDashboard({ writeTimeout: 0 })).rejects.toThrow(/startDashboard\.writeTimeout/);
    await expect(startDashboard({ writeTimeout: '1s' as never })).rejects.toThrow(TypeError);
    await expect(startDashboard({ allowedHosts: 'everyone' as never })).rejects.toThrow(/startDashboard\.allowedHosts/);
    await expect(startDashboard({ allowedHosts: ['a b'] })).rejects.toThrow(/startDashboard\.allowedHosts\[0\]/);
  });
});
