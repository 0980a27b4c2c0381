import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command, registerPrometheus } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { exposition, writeExposition } from '../../src/prometheus/writeExposition.js';

let clock: FakeClock;
let server: Server | null = null;
beforeEach(() => {
  clock = useFakeClock();
});
afterEach(async () => {
  exposition.chunk = 1 << 20;
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
});

async function serve(registry: Registry): Promise<number> {
  server = createServer((req, res) => writeExposition(registry, req, res, { 'cache-control': 'no-store' }, () => res.writeHead(500).end('failed\n')));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function get(port: number, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string; pieces: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), pieces: chunks.length }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function traffic(keys: number): Promise<void> {
  for (let i = 0; i < keys; i++) {
    const c = command({ key: `Exp.${i}.🌊`, group: 'Grüppe', run: async () => (clock.advance(i % 5), i) });
    await c.execute();
  }
}

describe('writeExposition', () => {
  it("writes registry.metrics()'s exact text in pieces, never splitting a character", async () => {
    await traffic(40);
    const registry = new Registry();
    registerPrometheus(registry);
    new Gauge({ name: 'user_gauge', help: 'a metric of the user', registers: [registry] }).set(3);
    const whole = await registry.metrics();
    exposition.chunk = 97; // an odd size, so pieces end inside the two UTF-16 halves of 🌊 somewhere
    const port = await serve(registry);
    const got = await get(port);
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe(registry.contentType);
    expect(got.headers['cache-control']).toBe('no-store');
    expect(got.body).toBe(whole);
    expect(got.body).not.toContain('\uFFFD');
    expect(got.pieces).toBeGreaterThan(10);
  });

  it('answers an empty registry like prom-client, HEAD without a scrape, and OpenMetrics in one piece', async () => {
    const empty = new Registry();
    let port = await serve(empty);
    expect((await get(port)).body).toBe(await empty.metrics());
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const registry = new Registry();
    let asked = 0;
    new Gauge({ name: 'asked', help: 'counts scrapes', registers: [registry], collect() { asked++; } });
    port = await serve(registry);
    const head = await get(port, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(asked).toBe(0);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    await traffic(3);
    const open = new (Registry as unknown as new (contentType: string) => Registry)(Registry.OPENMETRICS_CONTENT_TYPE);
    registerPrometheus(open);
    port = await serve(open);
    const got = await get(port);
    expect(got.headers['content-type']).toBe(open.contentType);
    expect(got.body).toBe(await open.metrics());
  });

  it('answers 500 when the scrape fails before the first byte', async () => {
    const registry = new Registry();
    new Gauge({ name: 'broken', help: 'throws', registers: [registry], collect() { throw new Error('boom'); } });
    const port = await serve(registry);
    const got = await get(port);
    expect(got.status).toBe(500);
  });
});
