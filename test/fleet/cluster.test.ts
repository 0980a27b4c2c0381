import cluster, { type Worker } from 'node:cluster';
import { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { isClusterSamplePiece, PieceAcks, samplePieces, SampleAssembly, type ClusterSamplePiece } from '../../src/fleet/clusterMessages.js';
import { reportToClusterPrimary, startClusterPrimary, type ClusterPrimary } from '../../src/index.js';
import { heldAggregates } from '../../src/fleet/startClusterPrimary.js';
import { useFakeClock } from '../../src/testing.js';
import { openStream, send } from '../dashboard/support.js';

/** In-process checks; the real primary with forked workers is test/integration/cluster.test.ts. */
const open: ClusterPrimary[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
});

describe('startClusterPrimary / reportToClusterPrimary', () => {
  it('refuse to run on the wrong side of the cluster, and bad options, naming them', async () => {
    expect(() => reportToClusterPrimary()).toThrow(/reportToClusterPrimary\(\) must be called in a node:cluster worker/);
    await expect(startClusterPrimary({ port: -1 })).rejects.toThrow(/startClusterPrimary\.port/);
    await expect(startClusterPrimary({ workerTimeout: 5 })).rejects.toThrow(/startClusterPrimary\.workerTimeout/);
    await expect(startClusterPrimary({ colour: 'red' } as never)).rejects.toThrow(/startClusterPrimary\.colour/);
  });

  it('with no worker yet, serves an empty /metrics and a stream holding only the status object, on 127.0.0.1', async () => {
    const primary = await startClusterPrimary({ port: 0, intervalMs: 50 });
    open.push(primary);
    expect(primary.url).toBe(`http://127.0.0.1:${primary.port}/`);
    expect(primary.server.address()).toMatchObject({ address: '127.0.0.1' });
    const metrics = await send(`${primary.url}metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toBe('');
    const stream = await openStream(`${primary.url}hystrix.stream`);
    await stream.waitFor((s) => s.objects().some((o) => o.type === 'TurbineInstances'));
    expect(stream.objects().find((o) => o.type === 'TurbineInstances')).toMatchObject({ reporting: 0, instances: [] });
    stream.close();
    expect(primary.workers()).toEqual([]);
    expect((await send(`${primary.url}metrics`, { headers: { host: 'evil.example' } })).status).toBe(403);
    expect((await send(`${primary.url}nothing`)).status).toBe(404);
  });

  it("says since when each worker is up, silent or gone, and keeps only the latest 64 departures", async () => {
    const clock = useFakeClock(1_000);
    const wallAt = (ms: number) => clock.wallTime() - (clock.now() - ms);
    const primary = await startClusterPrimary({ port: 0, workerTimeout: 3000 });
    open.push(primary);
    const worker = (id: number) => ({ id }) as Worker;
    const numbers = new Map<number, number>();
    const sample = (id: number) => {
      const n = numbers.get(id) ?? 0;
      numbers.set(id, n + 1);
      for (const piece of samplePieces(n, [{ type: 'HystrixCommand', name: 'A', reportingHosts: 1 }])) cluster.emit('message', worker(id), piece);
    };
    sample(1);
    clock.advance(100);
    sample(2);
    clock.advance(400);
    sample(1); // later samples do not move "since": it is when the worker started counting
    sample(2);
    expect(primary.workers()).toEqual([
      { id: 'worker 1', state: 'up', reason: '', since: wallAt(1_000) },
      { id: 'worker 2', state: 'up', reason: '', since: wallAt(1_100) },
    ]);
    cluster.emit('exit', worker(1));
    clock.advance(3_100); // worker 2 last sent at 1 500: silent for more than 3 000 ms at 4 600
    expect(primary.workers()).toEqual([
      { id: 'worker 1', state: 'down', reason: 'exited', since: wallAt(1_500) },
      { id: 'worker 2', state: 'down', reason: 'silent for 3000 ms', since: wallAt(4_500) },
    ]);
    sample(2); // back: up again from now
    expect(primary.workers()).toContainEqual({ id: 'worker 2', state: 'up', reason: '', since: wallAt(clock.now()) });
    for (let id = 3; id < 103; id++) {
      sample(id);
      cluster.emit('exit', worker(id));
    }
    const down = primary.workers().filter((w) => w.state === 'down');
    expect(down).toHaveLength(64);
    expect(down.at(-1)!.id).toBe('worker 102');
  });

  it('aggregates again only once a worker sent a new sample, and the stream then shows the new figures', async () => {
    const clock = useFakeClock(1_000);
    const primary = await startClusterPrimary({ port: 0, intervalMs: 100, workerTimeout: 60_000 });
    open.push(primary);
    const worker = (id: number) => ({ id }) as Worker;
    const sample = (id: number, n: number, requestCount: number) => {
      for (const piece of samplePieces(n, [{ type: 'HystrixCommand', name: 'A', reportingHosts: 1, requestCount }])) cluster.emit('message', worker(id), piece);
    };
    sample(1, 0, 5);
    sample(2, 0, 7);
    const stream = await openStream(`${primary.url}hystrix.stream`);
    const shown = () => stream.objects().filter((o) => o.name === 'A');
    const status = () => stream.objects().filter((o) => o.type === 'TurbineInstances');
    for (let i = 1; i <= 3; i++) {
      clock.advance(100);
      await stream.waitFor(() => shown().length === i && status().length === i);
    }
    // the same two samples: the same aggregate each interval, and a status object of its own each time
    expect(shown().map((o) => [o.requestCount, o.reportingHosts])).toEqual([[12, 2], [12, 2], [12, 2]]);
    sample(1, 1, 10);
    clock.advance(100);
    await stream.waitFor(() => shown().length === 4);
    expect(shown()[3]).toMatchObject({ requestCount: 17, reportingHosts: 2 });
    cluster.emit('exit', worker(2));
    clock.advance(100);
    await stream.waitFor(() => shown().length === 5);
    expect(shown()[4]).toMatchObject({ requestCount: 10, reportingHosts: 1 });
    stream.close();
  });

  it('lets go of its last aggregate once the last stream client has left, and aggregates again for the next client', async () => {
    const clock = useFakeClock(1_000);
    const primary = await startClusterPrimary({ port: 0, intervalMs: 100, workerTimeout: 60_000 });
    open.push(primary);
    const held = heldAggregates.get(primary)!;
    const worker = (id: number) => ({ id }) as Worker;
    const objects = (n: number) => Array.from({ length: 50 }, (_, i) => ({ type: 'HystrixCommand', name: `K${i}`, reportingHosts: 1, requestCount: n }));
    for (const piece of samplePieces(0, objects(5))) cluster.emit('message', worker(1), piece);
    for (const piece of samplePieces(0, objects(7))) cluster.emit('message', worker(2), piece);
    const shown = (s: Awaited<ReturnType<typeof openStream>>) => s.objects().filter((o) => o.name === 'K49');
    /** Real sockets close on their own time: polls (bounded) until the primary has seen it. */
    const until = async (predicate: () => boolean, what: string) => {
      for (let i = 0; i < 400 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
      if (!predicate()) throw new Error(`never happened: ${what}`);
    };
    expect(held()).toBe(0);
    const a = await openStream(`${primary.url}hystrix.stream`);
    const b = await openStream(`${primary.url}hystrix.stream`);
    clock.advance(100);
    await a.waitFor(() => shown(a).length === 1);
    await b.waitFor(() => shown(b).length === 1);
    expect(shown(a)[0]).toMatchObject({ requestCount: 12, reportingHosts: 2 });
    expect(held()).toBeGreaterThan(50 * 100); // 50 frames of ~2 KB... at least 100 characters each
    a.close();
    await a.ended;
    clock.advance(100);
    await b.waitFor(() => shown(b).length === 2); // one client still reads: the aggregate is kept and used again
    expect(held()).toBeGreaterThan(0);
    b.close();
    await until(() => held() === 0, 'the aggregate let go once no client is left');
    // the next client gets the same figures, aggregated again from the samples the primary still has
    const c = await openStream(`${primary.url}hystrix.stream`);
    clock.advance(100);
    await c.waitFor(() => shown(c).length === 1);
    expect(shown(c)[0]).toMatchObject({ requestCount: 12, reportingHosts: 2 });
    expect(held()).toBeGreaterThan(0);
    c.close();
    await until(() => held() === 0, 'let go again');
  });

  it('stops writing its aggregate to a client that leaves in the middle of it, keeps writing to the others, and lets it go', async () => {
    const clock = useFakeClock(1_000);
    const primary = await startClusterPrimary({ port: 0, intervalMs: 100, workerTimeout: 60_000 });
    open.push(primary);
    const held = heldAggregates.get(primary)!;
    // 2,000 keys with long names: an aggregate of several ~256 KB pieces, written one per event-loop turn
    const name = (i: number) => `Big.${String(i).padStart(4, '0')}.${'n'.repeat(1000)}`;
    const objects = Array.from({ length: 2000 }, (_, i) => ({ type: 'HystrixCommand', name: name(i), reportingHosts: 1, requestCount: i }));
    for (const piece of samplePieces(0, objects)) cluster.emit('message', { id: 1 } as Worker, piece);
    // Every write of the primary's responses, and whether that response was closed or its socket gone by then.
    const writes: { res: ServerResponse; data: boolean; after: boolean }[] = [];
    const closed = new WeakSet<ServerResponse>();
    let onData: ((res: ServerResponse) => void) | undefined;
    const write = ServerResponse.prototype.write;
    ServerResponse.prototype.write = function (this: ServerResponse, ...args: unknown[]) {
      if (!writes.some((w) => w.res === this)) this.once('close', () => closed.add(this));
      const data = typeof args[0] === 'string' && args[0].startsWith('data: ');
      writes.push({ res: this, data, after: closed.has(this) || this.destroyed || this.socket === null || this.socket.destroyed });
      const ok = (write as (...a: unknown[]) => boolean).apply(this, args);
      if (data) onData?.(this);
      return ok;
    } as typeof write;
    try {
      const leaving = await openStream(`${primary.url}hystrix.stream`);
      const reader = await openStream(`${primary.url}hystrix.stream`);
      const count = (s: Awaited<ReturnType<typeof openStream>>) => s.text().split('"name":"Big.').length - 1;
      let leavingRes: ServerResponse | undefined;
      onData = (res) => {
        if (leavingRes !== undefined) return;
        leavingRes = res;
        leaving.close(); // gone after the first piece of the aggregate
      };
      clock.advance(100);
      await reader.waitFor((s) => count(s) === 2000, 10_000);
      await leaving.ended;
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      const toLeaving = writes.filter((w) => w.res === leavingRes && w.data);
      const toReader = writes.filter((w) => w.res !== leavingRes && w.data);
      expect(toLeaving.length).toBeGreaterThanOrEqual(1);
      expect(toLeaving.length).toBeLessThan(toReader.length); // cut short
      expect(writes.filter((w) => w.after)).toEqual([]);
      expect(count(reader)).toBe(2000); // the other client got the whole aggregate
      expect(held()).toBeGreaterThan(0); // kept: a client still reads
      reader.close();
      for (let i = 0; i < 400 && held() !== 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(held()).toBe(0);
    } finally {
      ServerResponse.prototype.write = write;
    }
  });

  it('takes only well-formed sample pieces of its own format from the IPC channel (other libraries share it)', () => {
    const [piece] = samplePieces(0, [{ type: 'HystrixCommand', name: 'A' }]);
    expect(isClusterSamplePiece(piece)).toBe(true);
    for (const junk of [
      null,
      'x',
      { type: 'prom-client:getMetricsRes' },
      { type: 'breakwater:sample', objects: [{ type: 'HystrixCommand', name: 'A' }] }, // the one-message format of earlier builds
      { ...piece, version: 2 },
      { ...piece, piece: -1 },
      { ...piece, sample: 1.5 },
      { ...piece, last: 'yes' },
      { ...piece, objects: 'x' },
      { ...piece, objects: [1] },
      { ...piece, objects: [[]] },
    ]) {
      expect(isClusterSamplePiece(junk)).toBe(false);
    }
  });

  it('cuts a sample into pieces of at most 100 objects, numbered, the last marked; an empty sample is one empty piece', () => {
    const objects = Array.from({ length: 250 }, (_, i) => ({ type: 'HystrixCommand', name: `K${i}` }));
    const pieces = samplePieces(7, objects);
    expect(pieces.map((p) => [p.sample, p.piece, p.last, p.objects.length])).toEqual([
      [7, 0, false, 100],
      [7, 1, false, 100],
      [7, 2, true, 50],
    ]);
    expect(pieces.flatMap((p) => p.objects)).toEqual(objects);
    expect(samplePieces(0, objects.slice(0, 100)).map((p) => [p.piece, p.last, p.objects.length])).toEqual([[0, true, 100]]);
    expect(samplePieces(3, []).map((p) => [p.piece, p.last, p.objects.length])).toEqual([[0, true, 0]]);
  });

  it('puts each worker\'s pieces back together and drops a torn sample instead of showing part of it', () => {
    const objects = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ type: 'HystrixCommand', name: `${prefix}${i}` }));
    const names = (got: readonly Record<string, unknown>[] | null) => got?.map((o) => o.name);
    const assembly = new SampleAssembly();
    const a = samplePieces(0, objects('a', 250), 100);
    const b = samplePieces(0, objects('b', 150), 100);
    // two workers' pieces interleaved: each whole sample comes out once, at its last piece
    expect(assembly.accept('w1', a[0]!)).toBeNull();
    expect(assembly.accept('w2', b[0]!)).toBeNull();
    expect(assembly.accept('w1', a[1]!)).toBeNull();
    expect(names(assembly.accept('w2', b[1]!))).toEqual(names(objects('b', 150)));
    expect(names(assembly.accept('w1', a[2]!))).toEqual(names(objects('a', 250)));
    // a piece missing: what was gathered is dropped, and the rest of that sample too
    const next = samplePieces(1, objects('n', 250), 100);
    expect(assembly.accept('w1', next[0]!)).toBeNull();
    expect(assembly.accept('w1', next[2]!)).toBeNull();
    expect(assembly.accept('w1', { ...next[2]!, piece: 1 })).toBeNull();
    // a new sample begun before the last one ended: only the new one counts
    const torn = samplePieces(2, objects('t', 250), 100);
    const fresh = samplePieces(3, objects('f', 150), 100);
    expect(assembly.accept('w1', torn[0]!)).toBeNull();
    expect(assembly.accept('w1', fresh[0]!)).toBeNull();
    expect(assembly.accept('w1', torn[1]!)).toBeNull();
    expect(names(assembly.accept('w1', fresh[1]!))).toEqual(names(objects('f', 150)));
    // a worker that leaves takes its unfinished sample with it
    const left = samplePieces(4, objects('l', 150), 100);
    expect(assembly.accept('w1', left[0]!)).toBeNull();
    assembly.drop('w1');
    expect(assembly.accept('w1', left[1]!)).toBeNull();
  });

  it('counts a worker only from its first whole sample: one that dies in the middle of it is never shown', async () => {
    useFakeClock(1_000);
    const primary = await startClusterPrimary({ port: 0, workerTimeout: 3000 });
    open.push(primary);
    const worker = (id: number) => ({ id }) as Worker;
    const objects = Array.from({ length: 150 }, (_, i) => ({ type: 'HystrixCommand', name: `K${i}`, reportingHosts: 1 }));
    const pieces: ClusterSamplePiece[] = samplePieces(0, objects);
    cluster.emit('message', worker(1), pieces[0]);
    expect(primary.workers()).toEqual([]);
    cluster.emit('exit', worker(1));
    cluster.emit('message', worker(1), pieces[1]); // a late piece of the dead worker: not the end of a whole sample
    expect(primary.workers()).toEqual([]);
    for (const piece of pieces) cluster.emit('message', worker(2), piece);
    expect(primary.workers()).toEqual([expect.objectContaining({ id: 'worker 2', state: 'up' })]);
  });

  it("a worker waits for the primary's acknowledgement of each piece, of its own kind, and gives up after the bound", async () => {
    const clock = useFakeClock();
    const acks = new PieceAcks('sample');
    const ack = (of: string, id: number, piece: number) => acks.receive({ type: 'breakwater:piece-ack', of, id, piece });
    try {
      const taken = acks.wait(4, 2, 1000);
      ack('metrics', 4, 2); // another kind
      ack('sample', 4, 1); // another piece
      ack('sample', 3, 2); // another sample
      let settled: boolean | undefined;
      void taken.then((v) => (settled = v));
      await Promise.resolve();
      expect(settled).toBeUndefined();
      ack('sample', 4, 2);
      expect(await taken).toBe(true);
      const late = acks.wait(5, 0, 1000);
      clock.advance(999);
      clock.advance(1);
      expect(await late).toBe(false);
      const closed = acks.wait(6, 0, 1000);
      acks.close();
      expect(await closed).toBe(false);
    } finally {
      acks.close();
    }
  });
});
