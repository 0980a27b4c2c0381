import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDashboard, type Dashboard } from '../../src/index.js';
import { useFakeClock } from '../../src/testing.js';
import { silentClient, turn } from '../integration/support/http.js';
import { openStream, type LiveStream } from './support.js';

/**
 * The dashboard relay (/proxy/<n>, src/dashboard/streamProxy.ts) under a large upstream burst: real loopback
 * upstream, relay and viewers. The upstream is driven frame by frame by the test, so what the relay has been given
 * when a viewer's socket asks it to wait is known exactly.
 */

const MB = 1 << 20;
let dashboard: Dashboard | undefined;
let upstreamServer: Server | undefined;
const streams: LiveStream[] = [];
const sockets: Socket[] = [];

beforeEach(() => {
  useFakeClock(); // the relay's writeTimeout watch: never fires unless the test moves the clock
});

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const s of sockets.splice(0)) s.destroy();
  await dashboard?.close();
  dashboard = undefined;
  const u = upstreamServer;
  upstreamServer = undefined;
  if (u !== undefined) {
    u.closeAllConnections();
    await new Promise<void>((resolve) => u.close(() => resolve()));
  }
});

/** An upstream stream whose frames the test writes (`send`), once the relay has connected. */
async function drivenUpstream(): Promise<{ url: string; connected: Promise<void>; send(i: number): boolean }> {
  let res: ServerResponse | undefined;
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const server = createServer((_req, r) => {
    res = r;
    r.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8' });
    r.write('ping: \n\n');
    connected();
  });
  upstreamServer = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hystrix.stream`,
    connected: ready,
    send: (i) => res!.write(frame(i)),
  };
}

/** Frame `i`: about 16 KB, numbered. */
const frame = (i: number): string => `data: {"type":"HystrixCommand","name":"F${i}","pad":"${'x'.repeat(16 * 1024)}"}\n\n`;

/** The frame numbers in `text` (whole frames only). */
function numbers(text: string): number[] {
  return text
    .slice(0, text.lastIndexOf('\n\n') + 2)
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => Number((JSON.parse(f.slice(6)) as { name: string }).name.slice(1)));
}

async function until(predicate: () => boolean, what: string, limit = 2000): Promise<void> {
  for (let i = 0; i < limit && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

describe('the dashboard relay under a large burst', () => {
  it('gives a viewer that is behind for a moment every frame, and holds at most ~1 MB for one that stopped reading', async () => {
    const upstream = await drivenUpstream();
    const d = await startDashboard({ port: 0, streams: [upstream.url] });
    dashboard = d;
    /** What the relay did with each viewer's response: whether a write asked to wait, and the most it held. */
    const viewers: { res: ServerResponse; waited: boolean; held: number; waiting: boolean; whileWaiting: number }[] = [];
    d.server.on('request', (req, res: ServerResponse) => {
      if (req.url !== '/proxy/0') return;
      const v = { res, waited: false, held: 0, waiting: false, whileWaiting: 0 };
      viewers.push(v);
      res.on('drain', () => (v.waiting = false));
      const write = res.write.bind(res) as (chunk: string) => boolean;
      (res as { write: (chunk: string) => boolean }).write = (chunk) => {
        if (v.waiting) v.whileWaiting++;
        const ok = write(chunk);
        if (!ok) v.waited = v.waiting = true;
        v.held = Math.max(v.held, res.writableLength);
        return ok;
      };
    });
    const reader = await openStream(`${d.url}proxy/0`);
    streams.push(reader);
    await upstream.connected;
    sockets.push(await silentClient(d.port, '/proxy/0'));
    await until(() => viewers.length === 2 && viewers.every((v) => v.res.headersSent), 'both viewers relayed');
    const [readerSide, silentSide] = viewers as [(typeof viewers)[0], (typeof viewers)[0]];

    // 1. The reader stops reading for a moment: frames until the relay's write to it asks to wait for drain.
    reader.res.pause();
    let sent = 0;
    while (!readerSide.waited && sent < 4000) {
      upstream.send(sent++);
      await turn();
    }
    expect(readerSide.waited).toBe(true);
    // 2. More frames, a quarter of a megabyte at once (under the bound): they reach the relay in the same turns as
    // it waits for the reader's drain.
    const behind = sent;
    for (const end = sent + 16; sent < end; ) upstream.send(sent++);
    for (let i = 0; i < 20; i++) await turn();
    // 3. It reads again; the upstream goes on until the viewer that stopped reading is well past the bound.
    reader.res.resume();
    for (let more = 0; more < 4000 && silentSide.held < MB; more++) {
      upstream.send(sent++);
      await turn();
    }
    for (let more = 0; more < 100; more++) {
      upstream.send(sent++);
      await turn();
    }
    await reader.waitFor((s) => numbers(s.text()).at(-1) === sent - 1, 10_000);
    const got = numbers(reader.text());
    expect(behind).toBeGreaterThan(0);
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => i)); // every frame, in order, once
    expect(readerSide.whileWaiting).toBeGreaterThan(0); // some came while its socket asked to wait
    // the one that stopped reading: skipped past the bound, never more than the bound and one upstream chunk held
    expect(silentSide.waited).toBe(true);
    expect(silentSide.held).toBeGreaterThan(MB - 64 * 1024);
    expect(silentSide.held).toBeLessThanOrEqual(MB + 64 * 1024 + frame(0).length);
    expect(readerSide.held).toBeLessThanOrEqual(MB + 64 * 1024 + frame(0).length);
  }, 30_000);
});
