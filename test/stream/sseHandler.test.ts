import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command, hystrixStreamHandler, isConfigError, type HystrixStreamHandler, type HystrixStreamOptions } from '../../src/index.js';
import { streamSamples } from '../../src/stream/sseHandler.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { openStream, startLocalServer, turn, type LocalServer } from '../integration/support/http.js';

let clock: FakeClock;
let handler: HystrixStreamHandler | undefined;
let server: LocalServer | undefined;

beforeEach(() => {
  clock = useFakeClock();
});

afterEach(async () => {
  handler?.close();
  await server?.close();
  handler = undefined;
  server = undefined;
});

async function serve(options: HystrixStreamOptions = {}): Promise<string> {
  const h = hystrixStreamHandler(options);
  handler = h;
  server = await startLocalServer((req, res) => h(req, res));
  return `${server.url}/hystrix.stream`;
}

/** The complete frames received (a frame still arriving is left out). */
function frames(text: string): string[] {
  const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
  return complete.split('\n\n').filter((f) => f.length > 0);
}

function dataObjects(text: string): Record<string, unknown>[] {
  return frames(text)
    .filter((f) => f.startsWith('data: '))
    .map((f) => JSON.parse(f.slice('data: '.length)) as Record<string, unknown>);
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

describe('hystrixStreamHandler', () => {
  it('speaks text/event-stream: a ping on connect, then one data frame per object every interval', async () => {
    const url = await serve();
    const ok = command({ key: 'Sse.A', run: async () => 1 });
    await ok.execute();
    await command({ key: 'Sse.B', isolation: 'pool', pool: 'SsePool', run: async () => 2 }).execute();
    const s = await openStream(url);
    expect(s.res.statusCode).toBe(200);
    expect(s.res.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    expect(s.res.headers['cache-control']).toContain('no-cache');
    expect(s.res.headers['content-encoding']).toBeUndefined();
    await s.waitFor((t) => t.length > 0);
    expect(s.text()).toBe('ping: \n\n');

    clock.advance(499);
    await turn();
    expect(s.text()).toBe('ping: \n\n');
    clock.advance(1);
    await s.waitFor((t) => dataObjects(t).length === 3);
    const objects = dataObjects(s.text());
    expect(objects.map((o) => `${String(o.type)}:${String(o.name)}`)).toEqual([
      'HystrixCommand:Sse.A',
      'HystrixCommand:Sse.B',
      'HystrixThreadPool:SsePool',
    ]);
    expect(objects[0]!.rollingCountSuccess).toBe(1);
    // every frame is exactly `data: <one JSON object>\n\n` on one line
    for (const f of frames(s.text()).slice(1)) expect(f).toMatch(/^data: \{[^\n]*\}$/);

    clock.advance(500);
    await s.waitFor((t) => dataObjects(t).length === 6);
    s.close();
  });

  it('sends a ping heartbeat on a sample with nothing to report', async () => {
    const url = await serve({ intervalMs: 200 });
    const s = await openStream(url);
    await s.waitFor((t) => t === 'ping: \n\n');
    clock.advance(200);
    await s.waitFor((t) => t === 'ping: \n\nping: \n\n');
    clock.advance(200);
    await s.waitFor((t) => frames(t).length === 3);
    expect(frames(s.text())).toEqual(['ping: ', 'ping: ', 'ping: ']);
    s.close();
  });

  it('honours ?delay, clamps it to at least 100 ms, and refuses a delay that is not a number', async () => {
    const url = await serve();
    const slow = await openStream(`${url}?delay=1000`);
    const fast = await openStream(`${url}?delay=1`);
    await slow.waitFor((t) => t.length > 0);
    await fast.waitFor((t) => t.length > 0);
    clock.advance(99);
    await turn();
    expect(frames(fast.text())).toHaveLength(1);
    clock.advance(1); // 100 ms: the clamped delay
    await fast.waitFor((t) => frames(t).length === 2);
    clock.advance(400); // 500 ms: the default interval, not this client's
    await fast.waitFor((t) => frames(t).length === 6);
    expect(frames(slow.text())).toHaveLength(1);
    clock.advance(500); // 1000 ms
    await slow.waitFor((t) => frames(t).length === 2);
    slow.close();
    fast.close();

    for (const bad of ['abc', '-5', '', '1e3']) {
      const r = await openStream(`${url}?delay=${bad}`);
      expect(r.res.statusCode, bad).toBe(400);
      await r.ended;
      expect(r.text()).toContain('delay');
    }
    await until(() => handler!.stats().connections === 0, 'connections closed');
  });

  it('answers 503 beyond maxConnections and accepts again once a client leaves', async () => {
    const url = await serve({ maxConnections: 2 });
    const a = await openStream(url);
    const b = await openStream(url);
    const c = await openStream(url);
    expect([a.res.statusCode, b.res.statusCode, c.res.statusCode]).toEqual([200, 200, 503]);
    await c.ended;
    expect(c.text()).toBe('MaxConcurrentConnections reached: 2\n');
    expect(handler!.stats().connections).toBe(2);
    a.close();
    await until(() => handler!.stats().connections === 1, 'one connection left');
    const d = await openStream(url);
    expect(d.res.statusCode).toBe(200);
    b.close();
    d.close();
    await until(() => handler!.stats().connections === 0, 'all closed');
  });

  it('answers 403 when authorize says no, synchronously or asynchronously, and 500 when it throws', async () => {
    const seen: string[] = [];
    const url = await serve({
      authorize: (req) => {
        const token = req.headers.authorization ?? '';
        seen.push(token);
        if (token === 'throw') throw new Error('secret detail');
        if (token === 'reject') return Promise.reject(new Error('secret detail'));
        if (token.startsWith('async ')) return Promise.resolve(token === 'async good');
        return token === 'good';
      },
    });
    const cases: [string, number][] = [
      ['', 403],
      ['bad', 403],
      ['async bad', 403],
      ['throw', 500],
      ['reject', 500],
      ['good', 200],
      ['async good', 200],
    ];
    for (const [token, status] of cases) {
      const s = await openStream(url, token === '' ? {} : { authorization: token });
      expect(s.res.statusCode, token).toBe(status);
      if (status !== 200) {
        await s.ended;
        expect(s.text()).not.toContain('secret');
      } else {
        expect(s.res.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
      }
      s.close();
    }
    expect(seen).toHaveLength(cases.length);
    await until(() => handler!.stats().connections === 0, 'all closed');
  });

  it('cancels a client timer when it disconnects (no timers left)', async () => {
    const url = await serve();
    const before = clock.pendingTimers;
    const a = await openStream(url);
    const b = await openStream(url);
    await a.waitFor((t) => t.length > 0);
    await b.waitFor((t) => t.length > 0);
    expect(clock.pendingTimers).toBe(before + 2);
    a.close();
    await until(() => handler!.stats().connections === 1, 'one disconnect seen');
    expect(clock.pendingTimers).toBe(before + 1);
    clock.advance(500); // the remaining client keeps streaming
    await b.waitFor((t) => frames(t).length === 2);
    b.close();
    await until(() => handler!.stats().connections === 0, 'second disconnect seen');
    expect(clock.pendingTimers).toBe(before);
  });

  it('close() ends live streams, cancels their timers and refuses new ones with 503', async () => {
    const url = await serve();
    const before = clock.pendingTimers;
    const a = await openStream(url);
    await a.waitFor((t) => t.length > 0);
    handler!.close();
    await a.ended;
    expect(handler!.stats().connections).toBe(0);
    expect(clock.pendingTimers).toBe(before);
    const b = await openStream(url);
    expect(b.res.statusCode).toBe(503);
    await b.ended;
    expect(b.text()).toBe('Service has been shut down.\n');
    handler!.close(); // idempotent
  });

  it('drops samples for a client that does not read instead of buffering them', async () => {
    const url = await serve({ intervalMs: 100 });
    // Many keys make each sample large, so the socket fills after a few samples.
    // (percentiles off: this test is about bytes, and HDR snapshots cost milliseconds per key)
    for (let i = 0; i < 150; i++) {
      await command({ key: `Sse.Bulk.${String(i).padStart(3, '0')}`, metrics: { percentileEnabled: false }, run: async () => i }).execute();
    }
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /hystrix.stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    socket.pause(); // a client that never reads
    await until(() => handler!.stats().connections === 1, 'connected');

    let maxBuffered = 0;
    let sampleBytes = 0;
    // (the kernel takes a few MB first: about 14 samples here)
    for (let i = 0; i < 300 && handler!.stats().droppedSamples < 5; i++) {
      clock.advance(100);
      maxBuffered = Math.max(maxBuffered, handler!.stats().bufferedBytes);
      await new Promise((r) => setTimeout(r, 2)); // let the socket flush what the kernel accepts
      maxBuffered = Math.max(maxBuffered, handler!.stats().bufferedBytes);
    }
    const probe = await openStream(url);
    clock.advance(100);
    await probe.waitFor((t) => dataObjects(t).length === 150);
    sampleBytes = Buffer.byteLength(probe.text()) - 'ping: \n\n'.length;
    probe.close();

    const stats = handler!.stats();
    expect(stats.droppedSamples).toBeGreaterThanOrEqual(5);
    // never more than the one sample the socket was still taking when it asked to wait
    expect(maxBuffered).toBeLessThanOrEqual(sampleBytes + 64);
    socket.destroy();
    await until(() => handler!.stats().connections === 0, 'slow client gone');
  });

  it('validates its options with errors naming the option', () => {
    const bad: [unknown, string][] = [
      [{ intervalMs: 0 }, 'hystrixStreamHandler.intervalMs'],
      [{ intervalMs: 1.5 }, 'hystrixStreamHandler.intervalMs'],
      [{ intervalMs: '500' }, 'hystrixStreamHandler.intervalMs'],
      [{ maxConnections: 0 }, 'hystrixStreamHandler.maxConnections'],
      [{ maxConnections: Infinity }, 'hystrixStreamHandler.maxConnections'],
      [{ authorize: true }, 'hystrixStreamHandler.authorize'],
      [{ maxConections: 3 }, 'hystrixStreamHandler.maxConections'],
    ];
    for (const [options, option] of bad) {
      let error: unknown;
      try {
        hystrixStreamHandler(options as HystrixStreamOptions);
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error), JSON.stringify(options)).toBe(true);
      expect((error as { option: string }).option).toBe(option);
      expect((error as Error).message).toContain(option);
    }
  });
});

describe('streamSamples: nothing kept once the last client has left', () => {
  /** A stream over a counting build whose samples can be held back (`hold`), and how often each hook ran. */
  async function counted(): Promise<{ url: string; builds: () => number; idles: () => number; hold: (on: boolean) => void; release: () => void }> {
    let builds = 0;
    let idles = 0;
    let holding = false;
    let held: (() => void) | null = null;
    const h = streamSamples(
      { intervalMs: 100 },
      (done) => {
        builds++;
        const give = (): void => done(undefined, [`data: {"build":${builds}}\n\n`]);
        if (holding) held = give;
        else give();
      },
      () => idles++,
    );
    handler = h;
    server = await startLocalServer((req, res) => h(req, res));
    return {
      url: `${server.url}/hystrix.stream`,
      builds: () => builds,
      idles: () => idles,
      hold: (on) => (holding = on),
      release: () => {
        const give = held;
        held = null;
        give?.();
      },
    };
  }
  const until = async (predicate: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 400 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
    if (!predicate()) throw new Error(`never happened: ${what}`);
  };

  it('says so when the last client leaves, and builds afresh for the next one instead of sending the kept sample', async () => {
    const s = await counted();
    const a = await openStream(s.url);
    const b = await openStream(s.url);
    clock.advance(100);
    await a.waitFor((t) => t.includes('"build":1'));
    await b.waitFor((t) => t.includes('"build":1'));
    expect(s.builds()).toBe(1); // shared by both clients
    a.close();
    await until(() => handler!.stats().connections === 1, 'a gone');
    expect(s.idles()).toBe(0); // b still reads
    b.close();
    await until(() => s.idles() === 1, 'idle once the last client left');
    // a client right after (the clock has not moved: the kept sample would still count as fresh) gets a new build
    const c = await openStream(s.url);
    clock.advance(100);
    await c.waitFor((t) => t.includes('"build":2'));
    c.close();
    await until(() => s.idles() === 2, 'idle again');
  });

  it('waits for a sample being built when the last client leaves, then lets it go', async () => {
    const s = await counted();
    const a = await openStream(s.url);
    s.hold(true);
    clock.advance(100); // the build starts and is held back
    await until(() => s.builds() === 1, 'build started');
    a.close();
    await until(() => handler!.stats().connections === 0, 'a gone');
    for (let i = 0; i < 5; i++) await turn();
    expect(s.idles()).toBe(0); // the build is still running: what it makes is let go once it is done
    s.release();
    expect(s.idles()).toBe(1);
    s.hold(false);
    const b = await openStream(s.url);
    clock.advance(100);
    await b.waitFor((t) => t.includes('"build":2')); // the sample built for nobody was not kept
    b.close();
  });
});
