import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamSamples } from '../../src/stream/sseHandler.js';
import type { HystrixStreamHandler } from '../../src/index.js';
import type { Done } from '../../src/stream/sampleSlices.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { openStream, silentClient, turn, type OpenStream } from '../integration/support/http.js';

/**
 * The stream's close guards on its `setImmediate` path: a sample is written to each client one piece per event-loop
 * turn (or on `drain`), and a client can go, or the handler be closed, between any two of those turns. Real loopback
 * server and clients, the stream's timers on a fake clock; the source is a fixed list of frames (the pump is the
 * same for every source: `hystrixStreamHandler`, the turbine and the cluster primary all serve through
 * `streamSamples`).
 *
 * Which path a piece takes is forced, not left to the kernel: a server whose sockets have a huge `highWaterMark`
 * never asks to wait for `drain` (each next piece follows on `setImmediate`); with the default one, pieces of 2 MB
 * always do (a loopback socket never takes 2 MB in one write).
 */

let clock: FakeClock;
let handler: HystrixStreamHandler | undefined;
let server: Server | undefined;
const clients: { close(): void }[] = [];
const sockets: Socket[] = [];

/** Every `res.write` the handler made, and whether the response was already closed, destroyed or ended then. */
interface Write {
  readonly text: string;
  readonly afterClose: boolean;
}
let writes: Write[] = [];
/** Runs right after each data piece is written (inside the handler's write), with the piece's number. */
let onData: ((res: ServerResponse, n: number) => void) | undefined;
/** Runs on a response's `drain`, after the handler's own listener. */
let onDrain: ((res: ServerResponse) => void) | undefined;
let builds = 0;
let idles = 0;

beforeEach(() => {
  clock = useFakeClock();
  writes = [];
  onData = undefined;
  onDrain = undefined;
  builds = 0;
  idles = 0;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  handler?.close();
  const s = server;
  if (s !== undefined) {
    await new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  }
  handler = undefined;
  server = undefined;
});

/** `count` frames of about `chars` characters, named `S<sample>.<i>`. */
function frames(sample: number, count: number, chars: number): string[] {
  return Array.from({ length: count }, (_, i) => `data: {"name":"S${sample}.${i}","pad":"${'x'.repeat(chars)}"}\n\n`);
}

/** A build that is held: counted in `builds`, it hands over its frames only when the test calls `finish`. */
function heldBuild(): { build: (done: Done<readonly string[]>) => void; finish(frames: readonly string[]): void } {
  let pending: Done<readonly string[]> | undefined;
  return {
    build(done) {
      builds++;
      pending = done;
    },
    finish(frames) {
      if (pending === undefined) throw new Error('no build is being held');
      pending(undefined, frames);
    },
  };
}

/**
 * Serves `streamSamples` on 127.0.0.1. `build` defaults to handing over the next sample's frames at once; a test may
 * hold it to finish a build later.
 */
async function serve(
  sample: (n: number) => string[],
  { highWaterMark, build }: { highWaterMark?: number; build?: (done: Done<readonly string[]>) => void } = {},
): Promise<{ url: string; port: number }> {
  const h = streamSamples(
    { intervalMs: 500 },
    build ??
      ((done) => {
        builds++;
        done(undefined, sample(builds));
      }),
    () => idles++,
  );
  handler = h;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    record(res);
    h(req, res);
    res.on('drain', () => onDrain?.(res));
  };
  const s = highWaterMark === undefined ? createServer(listener) : createServer({ highWaterMark }, listener);
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hystrix.stream`, port };
}

function record(res: ServerResponse): void {
  let closed = false;
  res.once('close', () => (closed = true));
  let n = 0;
  const write = res.write.bind(res) as (chunk: string) => boolean;
  (res as { write: (chunk: string) => boolean }).write = (chunk: string) => {
    writes.push({ text: chunk, afterClose: closed || res.destroyed || res.writableEnded || res.socket === null || res.socket.destroyed });
    const ok = write(chunk);
    if (chunk.startsWith('data: ')) onData?.(res, n++);
    return ok;
  };
}

/** A stream client; `keepAlive` keeps its connection open after the response ends (close() then ends only it). */
async function open(url: string, keepAlive = false): Promise<OpenStream> {
  const client = await openStream(url, keepAlive ? { connection: 'keep-alive' } : {});
  clients.push(client);
  await client.waitFor((t) => t.length > 0); // the connect ping: the handler has the connection
  return client;
}

async function until(predicate: () => boolean, what: string, limit = 2000): Promise<void> {
  for (let i = 0; i < limit && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

/** Moves the fake clock from a timer callback, so the sample's first piece is written in the timers phase. */
function advanceInTimersPhase(ms: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(() => {
      clock.advance(ms);
      resolve();
    }, 0),
  );
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

const dataWrites = (): Write[] => writes.filter((w) => w.text.startsWith('data: '));
const afterClose = (): number[] => writes.filter((w) => w.afterClose).map((w) => w.text.length);
/** The frame names in `text` (whole frames only), in order. */
const names = (text: string): string[] =>
  text
    .slice(0, text.lastIndexOf('\n\n') + 2)
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => (JSON.parse(f.slice('data: '.length)) as { name: string }).name);
const expectedNames = (sample: number, count: number): string[] => Array.from({ length: count }, (_, i) => `S${sample}.${i}`);

/** Huge: no write ever asks to wait for `drain`, so each next piece follows on `setImmediate`. */
const NEVER_DRAIN = 1 << 30;
/** 40 frames of ~64 KB: ten pieces of ~256 KB. */
const tenPieces = (n: number): string[] => frames(n, 40, 64 * 1024);
/** 4 frames of 2 MB: four pieces, each of which waits for `drain`. */
const bigPieces = (n: number): string[] => frames(n, 4, 2 << 20);

describe('the stream stops cleanly when its client goes in the middle of a sample', () => {
  it('a client that closes between two pieces (next piece due on setImmediate): no more writes, nothing kept', async () => {
    const { url } = await serve(tenPieces, { highWaterMark: NEVER_DRAIN });
    const before = clock.pendingTimers;
    const client = await open(url);
    expect(clock.pendingTimers).toBe(before + 1);
    onData = (_res, n) => {
      if (n === 1) client.close(); // the client side goes, with the third piece due on a later turn
    };
    await advanceInTimersPhase(500);
    await client.ended;
    await until(() => handler!.stats().connections === 0, 'the close seen by the handler');
    await turns(20);
    expect(afterClose()).toEqual([]);
    expect(dataWrites().length).toBeGreaterThanOrEqual(2);
    expect(dataWrites().length).toBeLessThan(10); // cut short
    expect(clock.pendingTimers).toBe(before); // its tick timer went with it
    expect(idles).toBe(1); // and the shared sample was let go
  });

  it('a response destroyed by something else between two pieces, before its close event: the next turn writes nothing', async () => {
    const { url } = await serve(tenPieces, { highWaterMark: NEVER_DRAIN });
    const before = clock.pendingTimers;
    await open(url);
    // The first piece is written in the timers phase; its socket is destroyed there; the next piece is due in the
    // check phase of the same loop iteration, before the close phase delivers the response's 'close'.
    let closedAtNext: boolean | undefined;
    onData = (res, n) => {
      if (n !== 0) return;
      res.socket!.destroy();
      res.once('close', () => (closedAtNext ??= false));
      setImmediate(() => (closedAtNext ??= true));
    };
    await advanceInTimersPhase(500);
    await until(() => handler!.stats().connections === 0, 'the close seen by the handler');
    await turns(20);
    expect(closedAtNext).toBe(true); // the next piece's turn did come before the 'close' event
    expect(afterClose()).toEqual([]);
    expect(dataWrites()).toHaveLength(1);
    expect(clock.pendingTimers).toBe(before);
  });

  it('a client that stops reading and then goes while the stream waits for drain: its timers go with it', async () => {
    const { port } = await serve(bigPieces);
    const before = clock.pendingTimers;
    const silent = await silentClient(port, '/hystrix.stream');
    sockets.push(silent);
    await until(() => handler!.stats().connections === 1, 'connected');
    let waiting = false;
    onData = (res) => (waiting = res.writableLength > 0);
    clock.advance(500);
    await until(() => dataWrites().length > 0, 'the first piece written');
    expect(waiting).toBe(true); // the 2 MB piece did not fit: the handler waits for drain
    // its next tick and the writeTimeout watch are armed
    expect(clock.pendingTimers).toBe(before + 2);
    silent.destroy();
    await until(() => handler!.stats().connections === 0, 'the close seen by the handler');
    await turns(20);
    expect(clock.pendingTimers).toBe(before);
    let dropped = 0;
    handler!.events.on('clientDropped', () => dropped++);
    clock.advance(60_000); // past writeTimeout: nothing left to fire
    await turns(5);
    expect(dropped).toBe(0);
    expect(handler!.stats()).toMatchObject({ connections: 0, bufferedBytes: 0, droppedClients: 0 });
    expect(afterClose()).toEqual([]);
    expect(dataWrites()).toHaveLength(1);
    expect(idles).toBe(1);
  });

  it('a client that leaves while its sample is being built gets nothing written, and the sample is not kept', async () => {
    const held = heldBuild();
    const { url } = await serve(tenPieces, { highWaterMark: NEVER_DRAIN, build: held.build });
    const before = clock.pendingTimers;
    const client = await open(url);
    clock.advance(500);
    expect(builds).toBe(1);
    client.close();
    await until(() => handler!.stats().connections === 0, 'the close seen by the handler');
    expect(idles).toBe(0); // not while the sample is being built
    held.finish(tenPieces(1));
    await turns(20);
    expect(idles).toBe(1);
    expect(dataWrites()).toEqual([]);
    expect(afterClose()).toEqual([]);
    expect(clock.pendingTimers).toBe(before);
    // the next client gets a sample built for it, not the one nobody was left to read
    const next = await open(url);
    clock.advance(500);
    expect(builds).toBe(2);
    held.finish(tenPieces(2));
    await next.waitFor((t) => t.length >= 'ping: \n\n'.length + tenPieces(2).join('').length);
    expect(names(next.text())).toEqual(expectedNames(2, 40));
  });
});

describe('the stream stops cleanly when it is closed in the middle of a sample', () => {
  it('closed while the next piece is due on setImmediate after a drain: nothing more is written, nothing throws', async () => {
    const { url } = await serve(bigPieces);
    const before = clock.pendingTimers;
    const client = await open(url, true);
    // On the first drain in the middle of the sample the handler has scheduled the next piece; close then. The
    // response has nothing left to send, so close() ends it (a destroyed one would stop the pump by itself).
    let endedWithNothingQueued: boolean | undefined;
    onDrain = (res) => {
      if (dataWrites().length === 0 || endedWithNothingQueued !== undefined) return;
      endedWithNothingQueued = res.writableLength === 0;
      handler!.close();
      expect(res.writableEnded && !res.destroyed && res.socket?.writable).toBe(true); // ended, its connection open
    };
    clock.advance(500);
    await client.ended;
    await turns(20);
    expect(endedWithNothingQueued).toBe(true);
    expect(afterClose()).toEqual([]);
    expect(dataWrites().length).toBeLessThan(4);
    expect(client.text().endsWith('\n\n')).toBe(true); // whole frames only
    expect(handler!.stats()).toMatchObject({ connections: 0 });
    expect(clock.pendingTimers).toBe(before);
    expect(idles).toBe(1);
  });

  it('closed while a sample is being built: the finished build writes nothing', async () => {
    const held = heldBuild();
    const { url } = await serve(tenPieces, { highWaterMark: NEVER_DRAIN, build: held.build });
    const client = await open(url, true);
    clock.advance(500);
    expect(builds).toBe(1);
    handler!.close();
    await client.ended;
    held.finish(tenPieces(1));
    await turns(20);
    expect(dataWrites()).toEqual([]);
    expect(afterClose()).toEqual([]);
    expect(handler!.stats().connections).toBe(0);
  });
});

describe('a client arriving in the middle of another client\'s sample', () => {
  it('gets whole frames of a sample of its own, while the first client gets its sample whole and once', async () => {
    // Six pieces of 4 MB: more than loopback sockets hold for a client that does not read.
    const { url } = await serve((n) => frames(n, 6, 4 << 20));
    const a = await open(url);
    a.res.pause(); // the first client stops reading in the middle of its sample
    clock.advance(500);
    await until(() => handler!.stats().bufferedBytes > 0, 'the first client backed up');
    await turns(20);
    const written = dataWrites().length;
    await turns(20);
    expect(dataWrites()).toHaveLength(written); // waiting for drain,
    expect(written).toBeLessThan(6); // in the middle of its sample
    const b = await open(url);
    // Both clients' timers come due: the first is still in its sample (skipped, never restarted or interleaved),
    // the new one gets a sample of its own, from its first frame.
    clock.advance(500);
    expect(builds).toBe(2);
    const whole = 'ping: \n\n'.length + frames(1, 6, 4 << 20).join('').length; // by length: parsing 24 MB per chunk is slow
    await b.waitFor((t) => t.length >= whole, 10_000);
    a.res.resume();
    await a.waitFor((t) => t.length >= whole, 10_000);
    await turns(20);
    expect(names(a.text())).toEqual(expectedNames(1, 6));
    expect(names(b.text())).toEqual(expectedNames(2, 6));
    expect(b.text().startsWith('ping: \n\n')).toBe(true);
    expect(handler!.stats().droppedSamples).toBe(1);
  });
});
