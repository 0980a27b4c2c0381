import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command, hystrixStreamHandler, type HystrixStreamHandler } from '../../src/index.js';
import { PieceJoiner, PIECE_CHARS, SamplePieces } from '../../src/stream/samplePieces.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { openStream, silentClient, startLocalServer, turn, type LocalServer } from '../integration/support/http.js';

/** Keys of the big-sample tests: ~2.5 KB of JSON each, so one sample is ~5 MB, about twenty pieces. */
const KEYS = 2000;
const keyName = (i: number): string => `Sse.Piece.${String(i).padStart(4, '0')}`;

let clock: FakeClock;
let handler: HystrixStreamHandler | undefined;
let server: LocalServer | undefined;
const sockets: Socket[] = [];

/** Every `res.write` the handler made: the chunk, and whether the response was already closed when it was made. */
interface Write {
  readonly text: string;
  readonly afterClose: boolean;
}
let writes: Write[] = [];
/** Runs once, right after the first data piece is written (inside the handler's write). */
let afterFirstData: ((res: ServerResponse, ok: boolean) => void) | undefined;

beforeEach(() => {
  clock = useFakeClock();
  writes = [];
  afterFirstData = undefined;
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  handler?.close();
  await server?.close();
  handler = undefined;
  server = undefined;
});

/** The keys (percentiles off: this is about bytes, and HDR snapshots cost ms per key). */
async function makeKeys(): Promise<void> {
  for (let i = 0; i < KEYS; i++) await command({ key: keyName(i), metrics: { percentileEnabled: false }, run: async () => i }).execute();
}

async function serve(): Promise<{ url: string; port: number }> {
  const h = hystrixStreamHandler();
  handler = h;
  server = await startLocalServer((req, res) => {
    record(res);
    h(req, res);
  });
  return { url: `${server.url}/hystrix.stream`, port: server.port };
}

function record(res: ServerResponse): void {
  let closed = false;
  res.once('close', () => (closed = true));
  const write = res.write.bind(res) as (chunk: string) => boolean;
  (res as { write: (chunk: string) => boolean }).write = (chunk: string) => {
    writes.push({ text: chunk, afterClose: closed || res.destroyed });
    const ok = write(chunk);
    const hook = afterFirstData;
    if (hook !== undefined && chunk.startsWith('data: ')) {
      afterFirstData = undefined;
      hook(res, ok);
    }
    return ok;
  };
}

async function until(predicate: () => boolean, what: string, limit = 2000): Promise<void> {
  for (let i = 0; i < limit && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

/** The command names of the data frames in `text`, in order; throws on a frame that is not whole JSON. */
function names(text: string): string[] {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => (JSON.parse(f.slice('data: '.length)) as { name: string }).name);
}

/** Whole data frames received so far (counted, not parsed: the predicate runs on every chunk). */
function wholeFrames(text: string): number {
  // every data frame follows a `\n\n` (the connect ping's or the previous frame's)
  return text.slice(0, text.lastIndexOf('\n\n') + 2).split('\n\ndata: ').length - 1;
}

const dataWrites = (): Write[] => writes.filter((w) => w.text.startsWith('data: '));

describe('the stream writes a large sample in pieces', () => {
  it('cuts a frame list into pieces of whole frames of about PIECE_CHARS, joined once and shared', () => {
    const frames = Array.from({ length: 100 }, (_, i) => `data: {"i":${i},"pad":"${'x'.repeat(90)}"}\n\n`);
    const pieces = new SamplePieces(frames, 1000);
    const got: string[] = [];
    for (let k = 0; pieces.has(k); k++) got.push(pieces.piece(k)!);
    expect(got.length).toBeGreaterThan(5);
    expect(got.join('')).toBe(frames.join(''));
    for (const p of got) {
      expect(p.length).toBeLessThanOrEqual(1000);
      expect(p.startsWith('data: {')).toBe(true);
      expect(p.endsWith('}\n\n')).toBe(true);
    }
    expect(pieces.piece(0)).toBe(got[0]); // the same string, not joined again
    expect(pieces.piece(got.length)).toBeUndefined();
    // a frame larger than a piece is a piece of its own
    const big = new SamplePieces(['data: ' + 'y'.repeat(5000) + '\n\n', 'data: 1\n\n'], 1000);
    expect([big.piece(0)!.length, big.piece(1), big.has(2)]).toEqual([5008, 'data: 1\n\n', false]);
    // a builder joining as it goes cuts the same pieces
    const joiner = new PieceJoiner(1000);
    for (const f of frames) joiner.push(f);
    expect(joiner.pieces()).toEqual(got);
    expect(joiner.pieces()).toEqual([]);
    const bigJoiner = new PieceJoiner(1000);
    for (const f of ['data: ' + 'y'.repeat(5000) + '\n\n', 'data: 1\n\n']) bigJoiner.push(f);
    expect(bigJoiner.pieces().map((p) => p.length)).toEqual([5008, 9]);
  });

  it(`sends every key of a ${KEYS}-key sample exactly once per sample, whole and in order, in several writes`, async () => {
    await makeKeys();
    const { url } = await serve();
    const client = await openStream(url);
    await client.waitFor((t) => t.length > 0);
    // the next tick comes while the sample is still being written: skipped, never interleaved
    afterFirstData = () => (afterFirstData = () => clock.advance(500)); // on the second piece (the tick is armed)
    clock.advance(500);
    await until(() => dataWrites().length > 1, 'the second piece written');
    expect(handler!.stats().droppedSamples).toBe(1);
    await client.waitFor((t) => wholeFrames(t) === KEYS, 10_000);
    await until(() => handler!.stats().bufferedBytes === 0, 'first sample written');
    const first = dataWrites();
    // several pieces, each of whole frames and bounded
    expect(first.length).toBeGreaterThanOrEqual(Math.floor(first.reduce((n, w) => n + w.text.length, 0) / PIECE_CHARS));
    expect(first.length).toBeGreaterThan(5);
    for (const w of first) {
      expect(w.text.endsWith('\n\n')).toBe(true);
      expect(w.text.length).toBeLessThanOrEqual(PIECE_CHARS + 4096);
    }
    clock.advance(500);
    await client.waitFor((t) => wholeFrames(t) === 2 * KEYS, 10_000);
    await until(() => handler!.stats().bufferedBytes === 0, 'all written');
    const got = names(client.text());
    const expected = Array.from({ length: KEYS }, (_, i) => keyName(i));
    const ours = got.filter((n) => n.startsWith('Sse.Piece.'));
    expect(ours).toEqual([...expected, ...expected]); // each key once per sample, in sample order, no interleaving
    client.close();
  }, 30_000);

  it('writes one piece per event-loop turn, also when the socket takes each piece at once (drain on the next tick)', async () => {
    await makeKeys();
    const { url } = await serve();
    const client = await openStream(url);
    await client.waitFor((t) => t.length > 0);
    let turns = 0;
    let counting = true;
    const count = (): void => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const turnOf: number[] = [];
    afterFirstData = () => {
      const note = (): void => {
        turnOf.push(turns);
        afterFirstData = note;
      };
      note();
    };
    clock.advance(500);
    await client.waitFor((t) => wholeFrames(t) === KEYS, 10_000);
    counting = false;
    expect(turnOf.length).toBeGreaterThan(5);
    // other work (the counter) ran between any two pieces
    for (let i = 1; i < turnOf.length; i++) expect(turnOf[i]! - turnOf[i - 1]!).toBeGreaterThan(0);
    client.close();
  }, 30_000);

  it('keeps writing to a reading client while another client does not read', async () => {
    await makeKeys();
    const { url, port } = await serve();
    const silent = await silentClient(port, '/hystrix.stream');
    sockets.push(silent);
    const reader = await openStream(url);
    await reader.waitFor((t) => t.length > 0);
    await until(() => handler!.stats().connections === 2, 'both connected');
    let samples = 0;
    for (let round = 1; round <= 4; round++) {
      clock.advance(500);
      await reader.waitFor((t) => wholeFrames(t) === round * KEYS, 10_000);
      samples = round;
      // let the reader's sample finish and the silent one back up
      await until(() => handler!.stats().bufferedBytes <= 2 * PIECE_CHARS + (1 << 20), 'buffers bounded');
    }
    expect(samples).toBe(4);
    const stats = handler!.stats();
    expect(stats.droppedSamples).toBeGreaterThan(0); // the silent client skipped samples instead of queueing them
    // what is buffered is at most the one sample the silent client was being written when its socket filled
    expect(stats.bufferedBytes).toBeLessThan(2 * PIECE_CHARS + (1 << 20));
    reader.close();
  }, 30_000);

  it('stops writing a sample to a connection that closes in the middle of it, and leaves no timer', async () => {
    await makeKeys();
    const { url } = await serve();
    const before = clock.pendingTimers;
    const client = await openStream(url);
    await client.waitFor((t) => t.length > 0);
    expect(clock.pendingTimers).toBe(before + 1);
    let brokenAt = -1;
    afterFirstData = (res) => {
      brokenAt = dataWrites().length;
      res.socket?.destroy(); // the connection breaks right after the sample's first piece
    };
    clock.advance(500);
    await client.ended;
    await until(() => handler!.stats().connections === 0, 'close seen');
    for (let i = 0; i < 50; i++) await turn();
    expect(dataWrites().length).toBeGreaterThan(0);
    expect(writes.filter((w) => w.afterClose).map((w) => w.text.length)).toEqual([]);
    expect(brokenAt).toBe(1);
    expect(dataWrites().length).toBe(1); // cut short: the rest of the ~4 MB sample was never written
    expect(clock.pendingTimers).toBe(before);
  }, 30_000);
});
