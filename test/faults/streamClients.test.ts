import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command, hystrixStreamHandler, type HystrixStreamHandler } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { openStream, startLocalServer, turn, type LocalServer } from '../integration/support/http.js';

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

async function serve(maxConnections = 20): Promise<{ url: string; port: number }> {
  const h = hystrixStreamHandler({ maxConnections });
  handler = h;
  server = await startLocalServer((req, res) => h(req, res));
  return { url: `${server.url}/hystrix.stream`, port: server.port };
}

/** Many command keys, so one sample is several hundred kilobytes. */
async function manyCommands(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await command({ key: `Stream.Cmd.${i}.${'x'.repeat(200)}`, run: async () => i }).execute();
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

/** A raw client: sends a GET, never reads unless told to (a paused socket). */
function rawClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /hystrix.stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      resolve(socket);
    });
    socket.once('error', reject);
    sockets.push(socket);
  });
}

describe('faults: hystrix.stream clients that misbehave', () => {
  it('clients that disconnect in the middle of a frame leave no connection, timer or buffer behind', async () => {
    const { port } = await serve();
    await manyCommands(400);
    const clients = await Promise.all(Array.from({ length: 5 }, () => rawClient(port)));
    const received = clients.map(() => 0);
    clients.forEach((socket, i) => socket.on('data', (chunk: Buffer) => (received[i]! += chunk.length)));
    await until(() => handler!.stats().connections === 5, 'five connections');
    clock.advance(500); // a sample of several hundred KB is written to each
    await until(() => received.every((n) => n > 1000), 'each client receives part of the frame');
    for (const socket of clients) socket.destroy(); // mid-frame: the sample is far larger than what arrived
    await until(() => handler!.stats().connections === 0, 'connections cleaned up');
    expect(handler!.stats().bufferedBytes).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(5000); // later ticks find nobody to write to, and throw nothing
    expect(clock.pendingTimers).toBe(0);
  });

  it('a client that stops reading gets samples dropped, not queued: the server buffer stays bounded, and reading resumes with whole frames', async () => {
    const { port } = await serve();
    await manyCommands(300);
    const socket = await rawClient(port);
    socket.pause(); // reads nothing: the kernel buffers fill, then the server's
    await until(() => handler!.stats().connections === 1, 'connected');
    for (let i = 0; i < 40; i++) {
      clock.advance(500);
      await turn();
    }
    const stats = handler!.stats();
    expect(stats.droppedSamples).toBeGreaterThan(0);
    // At most one sample is buffered beyond the 1 MB cap (a sample here is ~0.5 MB); 40 samples would be ~20 MB.
    expect(stats.bufferedBytes).toBeLessThan(4 * 1024 * 1024);
    const heldBefore = stats.bufferedBytes;
    let body = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (body += chunk));
    socket.resume();
    await until(() => handler!.stats().bufferedBytes === 0, 'the backlog is read');
    clock.advance(500);
    const payload = (): string => dechunk(body.slice(body.indexOf('\r\n\r\n') + 4));
    await until(() => body.length > heldBefore && payload().endsWith('\n\n') && payload().split('data: ').length > 300, 'a fresh sample arrives whole');
    // Every data frame received (after the HTTP headers and chunk framing are removed) is complete JSON.
    const frames = payload().split('\n\n').filter((f) => f.startsWith('data: '));
    expect(frames.length).toBeGreaterThan(300);
    for (const f of frames) expect(() => JSON.parse(f.slice(6))).not.toThrow();
  });

  it('connections past the cap are answered 503 at once, and a freed slot is usable again', async () => {
    const { url } = await serve(3);
    const open = await Promise.all(Array.from({ length: 3 }, () => openStream(url)));
    const statuses = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<number>((resolve, reject) => {
            const req = get(url, { agent: false }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            });
            req.once('error', reject);
          }),
      ),
    );
    expect(statuses.every((s) => s === 503)).toBe(true);
    expect(handler!.stats().connections).toBe(3);
    open[0]!.close();
    await until(() => handler!.stats().connections === 2, 'a slot frees up');
    const again = await openStream(url);
    expect(again.res.statusCode).toBe(200);
    for (const s of [...open, again]) s.close();
    await until(() => handler!.stats().connections === 0, 'all gone');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a client that sends half a request and hangs up, or garbage, does not disturb the streams', async () => {
    const { url, port } = await serve();
    const good = await openStream(url);
    const half = connect(port, '127.0.0.1');
    sockets.push(half);
    await new Promise<void>((r) => half.once('connect', () => r()));
    half.write('GET /hystrix.stream HTTP/1.1\r\nHost: 127.0');
    half.destroy();
    const garbage = connect(port, '127.0.0.1');
    sockets.push(garbage);
    await new Promise<void>((r) => garbage.once('connect', () => r()));
    garbage.write('\u0000\u0001 not http at all\r\n\r\n');
    await turn();
    await command({ key: 'Stream.Survivor', run: async () => 1 }).execute();
    clock.advance(500);
    await good.waitFor((t) => t.includes('"name":"Stream.Survivor"'));
    expect(handler!.stats().connections).toBe(1);
    good.close();
  });
});

/** Removes HTTP/1.1 chunked transfer framing. */
function dechunk(raw: string): string {
  let out = '';
  let rest = raw;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) break;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
  return out;
}
