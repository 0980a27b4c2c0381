import { request } from 'node:http';
import type { Socket } from 'node:net';
import compression from 'compression';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  command,
  hystrixStreamHandler,
  type HystrixStreamHandler,
  type HystrixStreamOptions,
  type StreamAlreadyAnswered,
  type StreamClientDropped,
} from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { openStream, silentClient, startLocalServer, turn, type LocalServer } from '../integration/support/http.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

let clock: FakeClock;
let handler: HystrixStreamHandler | undefined;
let server: LocalServer | undefined;
const sockets: Socket[] = [];

beforeEach(() => {
  clock = useFakeClock();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  handler?.close();
  await server?.close();
  handler = undefined;
  server = undefined;
});

type Listener = (req: IncomingMessage, res: ServerResponse, stream: HystrixStreamHandler) => void;

async function serve(options: HystrixStreamOptions = {}, listener: Listener = (req, res, h) => h(req, res)): Promise<{ url: string; port: number }> {
  const h = hystrixStreamHandler(options);
  handler = h;
  server = await startLocalServer((req, res) => listener(req, res, h));
  return { url: `${server.url}/hystrix.stream`, port: server.port };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

/** Command keys with long names, so one sample is a few hundred kilobytes and a client that does not read backs up. */
async function bigSample(n = 300): Promise<void> {
  for (let i = 0; i < n; i++) await command({ key: `Hard.Cmd.${i}.${'x'.repeat(200)}`, run: async () => i }).execute();
}

async function silent(port: number): Promise<Socket> {
  const socket = await silentClient(port, '/hystrix.stream');
  sockets.push(socket);
  return socket;
}

/**
 * Ticks the sampling clock until the server has had to wait for `drain` (it then drops samples). Each tick gets the
 * turns its sample's pieces need (one piece per turn): a tick that comes while a sample is still being written also
 * drops it, without any wait for `drain`.
 */
async function backUp(): Promise<void> {
  for (let i = 0; i < 200 && handler!.stats().droppedSamples === 0; i++) {
    clock.advance(500);
    for (let t = 0; t < 20; t++) await turn();
  }
  expect(handler!.stats().droppedSamples).toBeGreaterThan(0);
}

interface Head {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with a chosen method and Host; a streaming answer is cut after its headers. */
function ask(url: string, { method = 'GET', host }: { method?: string; host?: string } = {}): Promise<Head> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: host === undefined ? {} : { host } }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream') && method === 'GET') {
        resolve({ status: res.statusCode!, headers: res.headers, body: '' });
        req.destroy();
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('no answer')));
    req.once('error', reject);
    req.end();
  });
}

describe('hystrixStreamHandler hardening: writeTimeout', () => {
  it('drops a client that takes no byte for writeTimeout and frees its slot for the next client', async () => {
    const { url, port } = await serve({ maxConnections: 1, writeTimeout: 2000 });
    await bigSample();
    const dropped: StreamClientDropped[] = [];
    handler!.events.on('clientDropped', (e) => dropped.push(e));
    const quiet = await silent(port);
    await until(() => handler!.stats().connections === 1, 'connected');
    await backUp(); // the write that blocked came one tick (500 ms) before the first dropped sample
    expect((await ask(url)).status).toBe(503); // the slot is held
    clock.advance(1499);
    await turn();
    expect(handler!.stats().connections).toBe(1);
    clock.advance(1);
    await until(() => handler!.stats().connections === 0, 'the silent client is dropped');
    expect(dropped).toEqual([{ reason: 'writeTimeout', bufferedBytes: expect.any(Number) }]);
    expect(dropped[0]!.bufferedBytes).toBeGreaterThan(0);
    expect(handler!.stats()).toMatchObject({ droppedClients: 1, bufferedBytes: 0 });
    void quiet;
    const next = await openStream(url);
    expect(next.res.statusCode).toBe(200);
    next.close();
    await until(() => handler!.stats().connections === 0, 'all gone');
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps a slow client that takes bytes before writeTimeout runs out', async () => {
    const { port } = await serve({ writeTimeout: 2000 });
    await bigSample();
    const socket = await silent(port);
    await until(() => handler!.stats().connections === 1, 'connected');
    await backUp(); // blocked one tick (500 ms) ago
    clock.advance(1000);
    // Read until the server's queue shrinks, and stop again: some bytes went out, so the wait starts over.
    const before = handler!.stats().bufferedBytes;
    let holding = true;
    socket.on('data', () => {
      if (holding && handler!.stats().bufferedBytes < before) socket.pause();
    });
    socket.resume();
    await until(() => handler!.stats().bufferedBytes < before, 'the server sees progress');
    clock.advance(1000); // 2500 ms since the client first blocked, but it took bytes less than 2000 ms ago
    await turn();
    expect(handler!.stats().connections).toBe(1);
    holding = false;
    socket.resume(); // and reads everything now: never dropped
    for (let i = 0; i < 10; i++) {
      await until(() => handler!.stats().bufferedBytes === 0, 'the client catches up');
      clock.advance(500);
    }
    expect(handler!.stats()).toMatchObject({ connections: 1, droppedClients: 0 });
  });

  it('refuses a writeTimeout that is not a positive integer number of ms, naming the option', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => hystrixStreamHandler({ writeTimeout: bad })).toThrow(RangeError);
    }
    expect(() => hystrixStreamHandler({ writeTimeout: '30s' as unknown as number })).toThrow(/hystrixStreamHandler\.writeTimeout.*"30s"/);
    expect(() => hystrixStreamHandler({ allowedHosts: 'any' as never })).toThrow(/hystrixStreamHandler\.allowedHosts/);
    expect(() => hystrixStreamHandler({ allowedHosts: ['example.com:80'] })).toThrow(/hystrixStreamHandler\.allowedHosts\[0\]/);
    expect(() => hystrixStreamHandler({ allowedHosts: [''] })).toThrow(RangeError);
    expect(() => hystrixStreamHandler({ allowedHosts: [7 as unknown as string] })).toThrow(TypeError);
  });
});

describe('hystrixStreamHandler hardening: Host, nosniff, HEAD', () => {
  it('answers 403 to a Host outside the allow-list and streams for loopback names and the local address', async () => {
    const { url, port } = await serve();
    const evil = await ask(url, { host: 'rebind.attacker.example' });
    expect(evil.status).toBe(403);
    expect(evil.headers['x-content-type-options']).toBe('nosniff');
    expect(evil.body).not.toContain('attacker');
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'LOCALHOST', '[::1]:80', '127.0.0.2']) {
      expect((await ask(url, { host })).status, host).toBe(200);
    }
    expect(handler!.stats().connections).toBeLessThanOrEqual(5);
  });

  it('answers allowedHosts names and subdomains of a dotted entry, and everything with allowedHosts: "all"', async () => {
    const { url } = await serve({ allowedHosts: ['service.internal', '.example.com'] });
    expect((await ask(url, { host: 'service.internal:8080' })).status).toBe(200);
    expect((await ask(url, { host: 'a.b.example.com' })).status).toBe(200);
    expect((await ask(url, { host: 'example.com' })).status).toBe(200);
    expect((await ask(url, { host: 'badexample.com' })).status).toBe(403);
    handler!.close();
    await server!.close();
    const open = await serve({ allowedHosts: 'all' });
    expect((await ask(open.url, { host: 'anything.example' })).status).toBe(200);
  });

  it('sends nosniff on the stream and on every plain-text answer (403, 405, 400, 503)', async () => {
    const { url } = await serve({ maxConnections: 1, authorize: (req) => req.headers.authorization === 'ok' });
    const answers = [
      await ask(url),
      await ask(url, { method: 'POST' }),
      await ask(`${url}?delay=soon`),
    ];
    expect(answers.map((a) => a.status)).toEqual([403, 405, 400]);
    expect(answers[1]!.headers.allow).toBe('GET, HEAD');
    for (const a of answers) expect(a.headers['x-content-type-options']).toBe('nosniff');
    const live = await openStream(url, { authorization: 'ok' });
    expect(live.res.headers['x-content-type-options']).toBe('nosniff');
    const full = await new Promise<Head>((resolve, reject) => {
      const req = request(url, { agent: false, headers: { authorization: 'ok' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: '' }));
      });
      req.once('error', reject);
      req.end();
    });
    expect(full.status).toBe(503);
    expect(full.headers['x-content-type-options']).toBe('nosniff');
    live.close();
  });

  it('answers HEAD with the status and headers a GET would get, no body, and holds no slot', async () => {
    const { url } = await serve({ maxConnections: 1 });
    const head = await ask(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    expect(head.headers['cache-control']).toBe('no-cache, no-transform');
    expect(head.body).toBe('');
    expect(handler!.stats().connections).toBe(0);
    const live = await openStream(url);
    expect((await ask(url, { method: 'HEAD' })).status).toBe(503); // as a GET would be
    live.close();
    expect((await ask(url, { method: 'HEAD', host: 'evil.example' })).status).toBe(403);
  });
});

describe('hystrixStreamHandler behind middleware (issue 20)', () => {
  it('passes through Express compression() uncompressed, frame by frame, for a client that accepts gzip', async () => {
    const gzip = compression();
    const { url } = await serve({}, (req, res, h) => {
      gzip(req as never, res as never, () => h(req, res));
    });
    await command({ key: 'Hard.Gzip', run: async () => 1 }).execute();
    const s = await openStream(url, { 'accept-encoding': 'gzip' });
    expect(s.res.headers['content-encoding']).toBeUndefined();
    expect(s.res.headers['cache-control']).toBe('no-cache, no-transform');
    await s.waitFor((t) => t === 'ping: \n\n');
    clock.advance(500);
    await s.waitFor((t) => t.includes('"name":"Hard.Gzip"') && t.endsWith('\n\n'));
    s.close();
  });

  it('flushes after each frame when the response offers res.flush()', async () => {
    let flushes = 0;
    const { url } = await serve({}, (req, res, h) => {
      (res as unknown as { flush: () => void }).flush = () => flushes++;
      h(req, res);
    });
    await command({ key: 'Hard.Flush', run: async () => 1 }).execute();
    const s = await openStream(url);
    await s.waitFor((t) => t.length > 0);
    expect(flushes).toBe(1); // the first ping
    clock.advance(500);
    await s.waitFor((t) => t.includes('Hard.Flush'));
    clock.advance(500);
    await s.waitFor((t) => t.split('"name":"Hard.Flush"').length === 3);
    expect(flushes).toBe(3);
    s.close();
  });

  it('reports a response something else already answered, with an event and one process warning, never silently', async () => {
    const seen: StreamAlreadyAnswered[] = [];
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      if ((w as { code?: string }).code === 'BW_STREAM_ALREADY_ANSWERED') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      // As Fastify does with an async route whose handler does not hijack: it answers an empty 200 first.
      const { url } = await serve({ authorize: async (req) => req.headers.authorization === 'ok' }, (req, res, h) => {
        h(req, res);
        if (!res.headersSent) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end();
        }
      });
      handler!.events.on('alreadyAnswered', (e) => seen.push(e));
      expect((await ask(url)).status).toBe(200); // the framework's answer, not ours
      await until(() => seen.length === 1, 'the event');
      expect(seen[0]).toEqual({ url: '/hystrix.stream', statusCode: 200, intended: 403 });
      await ask(`${url}?delay=200`, {});
      await until(() => seen.length === 2, 'the second event');
      await until(() => warnings.length === 1, 'the warning');
      expect(warnings[0]!.message).toMatch(/already been answered.*reply\.hijack\(\)/);
      expect(handler!.stats().connections).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
