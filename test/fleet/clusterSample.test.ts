import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startClusterPrimary, type ClusterPrimary } from '../../src/index.js';
import { isClusterSamplePiece, OBJECTS_PER_PIECE, type ClusterSamplePiece } from '../../src/fleet/clusterMessages.js';
import { forkReady, killAll } from './support/workers.js';
import { resetBreakwater } from '../../src/testing.js';
import { openStream, within, type LiveStream } from '../dashboard/support.js';

/**
 * The workers' dashboard samples reaching the primary in pieces, with real node:cluster workers
 * (test/fleet/support/sampleWorker.ts): this test file is the primary. Every wait is bounded; the workers are
 * stopped after each test.
 */
const open: ClusterPrimary[] = [];
const streams: LiveStream[] = [];
const forked: Worker[] = [];
/** Every sample piece the primary received, by worker id. */
const received = new Map<number, ClusterSamplePiece[]>();
const record = (worker: Worker, message: unknown): void => {
  if (!isClusterSamplePiece(message)) return;
  received.set(worker.id, [...(received.get(worker.id) ?? []), message]);
};

beforeAll(() => {
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./support/sampleWorker.ts', import.meta.url)), execArgv: ['--import', 'tsx'], silent: true });
});

afterEach(async () => {
  cluster.off('message', record);
  received.clear();
  for (const s of streams.splice(0)) s.close();
  for (const p of open.splice(0)) await p.close();
  await killAll(forked);
  resetBreakwater();
});

/** Forks one worker per mode; resolves once each has run its keys. */
const fork = (...modes: string[]): Promise<Worker[]> => forkReady(forked, ...modes);

const latestByName = (stream: LiveStream, prefix: string): Map<string, Record<string, unknown>> => {
  const out = new Map<string, Record<string, unknown>>();
  for (const o of stream.objects()) if (o.type === 'HystrixCommand' && String(o.name).startsWith(prefix)) out.set(String(o.name), o);
  return out;
};

describe("the workers' dashboard samples reach the primary in pieces", () => {
  it('a sample of 1,000 keys arrives as ten numbered pieces of at most 100 objects, each message bounded, and is shown whole', async () => {
    cluster.on('message', record);
    const primary = await startClusterPrimary({ port: 0, intervalMs: 100 });
    open.push(primary);
    const [worker] = await fork('keys');
    const stream = await openStream(`${primary.url}hystrix.stream`);
    streams.push(stream);
    await stream.waitFor((s) => latestByName(s, 'Sample.').size === 1000, 15_000);
    const shown = latestByName(stream, 'Sample.');
    for (let i = 0; i < 1000; i++) {
      expect(shown.get(`Sample.K${i}`), `Sample.K${i}`).toMatchObject({ reportingHosts: 1, rollingCountSuccess: (i % 5) + 1 });
    }
    // the pieces of each whole sample: numbered 0…9 in order, only the last marked, one sample number
    const pieces = received.get(worker!.id)!;
    const first = pieces.findIndex((p) => p.piece === 0);
    const sample = pieces.slice(first, first + 10);
    expect(sample.map((p) => [p.sample, p.piece, p.last])).toEqual(Array.from({ length: 10 }, (_, i) => [sample[0]!.sample, i, i === 9]));
    expect(sample.flatMap((p) => p.objects).filter((o) => o.type === 'HystrixCommand')).toHaveLength(1000);
    for (const p of pieces) {
      expect(p.objects.length).toBeLessThanOrEqual(OBJECTS_PER_PIECE);
      expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThan(400 * 1024);
    }
  }, 40_000);

  it('a worker that dies in the middle of its sample is never shown, not even in part; the other worker is', async () => {
    cluster.on('message', record);
    const primary = await startClusterPrimary({ port: 0, intervalMs: 100 });
    open.push(primary);
    const stream = await openStream(`${primary.url}hystrix.stream`);
    streams.push(stream);
    const [, torn] = await fork('keys', 'die-mid-sample');
    if (!torn!.isDead()) await within(new Promise((resolve) => torn!.once('exit', resolve)), 10_000, 'the torn worker to exit');
    // its first piece (100 of its 300 keys) did reach the primary
    expect(received.get(torn!.id)?.map((p) => [p.piece, p.last, p.objects.length])).toEqual([[0, false, 100]]);
    await stream.waitFor((s) => latestByName(s, 'Sample.').size === 1000, 15_000);
    // a few more samples of the primary after that
    const frames = stream.objects().length;
    await stream.waitFor((s) => s.objects().filter((o) => o.type === 'TurbineInstances').length >= 3 && s.objects().length > frames + 1000, 10_000);
    expect(latestByName(stream, 'Torn.').size).toBe(0);
    const status = stream.objects().filter((o) => o.type === 'TurbineInstances').pop()!;
    expect(status.instances).toEqual([expect.objectContaining({ id: `worker ${forked[0]!.id}`, state: 'up' })]);
    expect(primary.workers().map((w) => w.id)).toEqual([`worker ${forked[0]!.id}`]);
  }, 40_000);

  it('without a primary that acknowledges its pieces, a worker sends the first piece of a sample, gives up after 2 s, and begins a new one', async () => {
    cluster.on('message', record);
    const [worker] = await fork('keys');
    // no startClusterPrimary: nobody acknowledges (bounded wait: 2 s of giving up, then the next interval's sample)
    await within(
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if ((received.get(worker!.id) ?? []).length >= 2) {
            clearInterval(check);
            resolve();
          }
        }, 50);
      }),
      10_000,
      'a second sample to begin',
    );
    const pieces = received.get(worker!.id)!;
    expect(pieces.map((p) => p.piece)).toEqual(pieces.map(() => 0));
    expect(pieces[1]!.sample).toBeGreaterThan(pieces[0]!.sample);
  }, 30_000);
});
