/**
 * The cluster primary's `/metrics` section of the scale benchmark (`npm run bench -- keys primary`): a real
 * `node:cluster` primary with two forked workers, each holding N busy command keys (and a few metrics of the
 * user's own: a labelled histogram, a summary, a gauge merged by its maximum), scraped over loopback HTTP from
 * `startClusterPrimary`. The primary's longest event-loop block during one scrape (a `setImmediate` chain, as in
 * bench/keysStream.ts), the scrape's time and the primary's peak resident memory are measured, and beside them, in
 * the same primary and the same rounds, prom-client's own `AggregatorRegistry.clusterMetrics()` (what the primary
 * served before breakwater merged the workers' metrics itself).
 *
 * The workers are this same bundle forked by node:cluster (same arguments): in a worker, `measure` sets up the keys,
 * reports to the primary and waits for the primary to disconnect it.
 */
import cluster, { type Worker } from 'node:cluster';
import { request } from 'node:http';
import { AggregatorRegistry, Gauge, Histogram, Summary, register } from 'prom-client';
import * as bw from '../src/index.js';
import { median, type HarnessOptions } from './harness.js';
import { BenchClock, type KeySection } from './keys.js';
import { busyKeys, longestBlock } from './keysStream.js';

const COUNTS = [100, 1000, 10_000] as const;
const WORKERS = 2;
const READY = 'bench:worker-ready';
const TRAFFIC = 'bench:traffic';
const TRAFFIC_DONE = 'bench:traffic-done';

/** A worker: N busy keys and the user's own metrics in prom-client's global registry; never resolves. */
function workerRole(keys: number): Promise<never> {
  const clock = new BenchClock();
  bw.configure({ clock });
  const traffic = busyKeys(clock, keys);
  const id = cluster.worker!.id;
  const latency = new Histogram({ name: 'app_request_seconds', help: 'the application own histogram', labelNames: ['route'], registers: [register] });
  const sizes = new Summary({ name: 'app_payload_bytes', help: 'the application own summary', labelNames: ['route'], registers: [register] });
  const queue = new Gauge({ name: 'app_queue_depth', help: 'deepest queue of any worker', aggregator: 'max', registers: [register] });
  for (let r = 0; r < 20; r++) {
    for (let i = 0; i < 50; i++) {
      latency.observe({ route: `/r${r}` }, ((i * 7 + id) % 100) / 250);
      sizes.observe({ route: `/r${r}` }, i * 10 + id);
    }
  }
  queue.set(id * 3);
  // The stream's sample goes once, at the start: this section measures /metrics alone (at 10,000 keys a worker's
  // sample is a message of about 20 MB, parsed by the primary in one piece; see the notes in docs/fleet.md).
  bw.reportToClusterPrimary({ intervalMs: 600_000 });
  traffic();
  // Traffic before each scrape, when the primary asks: each scrape reads moving counts, and no worker is busy with
  // traffic while the primary is measured.
  process.on('message', (message: { type?: unknown }) => {
    if (message?.type !== TRAFFIC) return;
    traffic();
    process.send!({ type: TRAFFIC_DONE });
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: READY });
  return new Promise<never>(() => {});
}

function fetchMetrics(url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
/** Peak resident set size of this process so far, bytes. */
const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

const primary: KeySection = {
  id: 'primary',
  title:
    "the node:cluster primary's /metrics, 2 workers of N busy keys each, served over loopback by startClusterPrimary, beside prom-client's AggregatorRegistry.clusterMetrics() in the same primary (medians; blocks are the longest of the rounds)",
  counts: COUNTS,
  columns: {
    megabytes: 'MB of text',
    servedMs: '/metrics ms',
    servedBlockMs: 'longest block ms',
    peakRssMb: 'primary peak RSS growth MB',
    promClientMs: 'clusterMetrics() ms',
    promClientBlockMs: 'clusterMetrics() longest block ms',
    promClientTimeouts: 'clusterMetrics() rounds timed out',
    blockRatio: 'longest block ÷ clusterMetrics()',
  },
  async measure(keys: number, o: HarnessOptions) {
    if (cluster.isWorker) return workerRole(keys);
    const workers = Array.from({ length: WORKERS }, () => cluster.fork());
    /** Resolves once every worker has sent `type` (bounded: 120 s). */
    const fromAll = (type: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const seen = new Set<number>();
        const timer = setTimeout(() => reject(new Error(`the workers did not send ${type} in 120 s`)), 120_000);
        const on = (worker: Worker, message: unknown): void => {
          if ((message as { type?: unknown } | null)?.type !== type) return;
          seen.add(worker.id);
          if (seen.size < WORKERS) return;
          cluster.off('message', on);
          clearTimeout(timer);
          resolve();
        };
        cluster.on('message', on);
      });
    await fromAll(READY);
    const traffic = async (): Promise<void> => {
      const done = fromAll(TRAFFIC_DONE);
      for (const w of workers) w.send({ type: TRAFFIC });
      await done;
    };
    const server = await bw.startClusterPrimary({ port: 0 });
    const url = `${server.url}metrics`;
    const n = keys >= 10_000 ? Math.max(4, o.samples >> 1) : Math.max(6, o.samples);
    const served: number[] = [];
    let servedBlock = 0;
    let bytes = 0;
    const rssBefore = maxRss();
    for (let r = 0; r < 1 + n; r++) {
      await traffic();
      const t0 = performance.now();
      const { result, blockMs } = await longestBlock(() => fetchMetrics(url));
      const ms = performance.now() - t0;
      if (result.status !== 200 || result.bytes === 0) throw new Error(`/metrics answered ${result.status} with ${result.bytes} bytes`);
      if (r === 0) continue;
      bytes = result.bytes;
      served.push(ms);
      servedBlock = Math.max(servedBlock, blockMs);
    }
    const peakRssMb = (maxRss() - rssBefore) / 2 ** 20;
    const reference = new AggregatorRegistry();
    const refMs: number[] = [];
    let refBlock = 0;
    let refTimeouts = 0;
    for (let r = 0; r < 1 + n; r++) {
      await traffic();
      const t0 = performance.now();
      // prom-client's fixed 5 s timeout can expire at 10,000 keys on a busy machine: such a round is counted, not timed
      const { result, blockMs } = await longestBlock(() => reference.clusterMetrics().catch(() => null));
      const ms = performance.now() - t0;
      if (result === '') throw new Error('clusterMetrics() gave nothing');
      if (r === 0) continue;
      refBlock = Math.max(refBlock, blockMs);
      if (result === null) {
        refTimeouts++;
        continue;
      }
      refMs.push(ms);
    }
    await server.close();
    for (const w of workers) w.disconnect();
    await Promise.all(workers.map((w) => (w.isDead() ? undefined : new Promise((resolve) => w.once('exit', resolve)))));
    return {
      megabytes: bytes / 1e6,
      servedMs: median(sorted(served)),
      servedBlockMs: servedBlock,
      peakRssMb,
      promClientMs: refMs.length === 0 ? NaN : median(sorted(refMs)),
      promClientTimeouts: refTimeouts,
      promClientBlockMs: refBlock,
      blockRatio: servedBlock / refBlock,
    };
  },
};

/** The primary section, appended to the scale benchmark's list in bench/keys.ts. */
export const primarySections: KeySection[] = [primary];
