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
import { busyKeys } from './keysStream.js';

const COUNTS = [100, 1000, 10_000] as const;
const WORKERS = 2;
const READY = 'bench:worker-ready';
const TRAFFIC = 'bench:traffic';
const TRAFFIC_DONE = 'bench:traffic-done';
/** The primary tells one worker to measure its answer to the next `/metrics` (the worker side on its own). */
const METER_NEXT = 'bench:meter-next-scrape';
const WORKER_BLOCKS = 'bench:worker-blocks';
/** breakwater's own IPC messages of a cluster scrape (src/fleet/clusterMetrics.ts). */
const METRICS_REQUEST = 'breakwater:metrics-request';
const METRICS_PIECE = 'breakwater:metrics-piece';

/** What one worker measured of its answers to the scrapes it was told to measure (the longest, and their times). */
interface WorkerScrapeBlocks {
  blockMs: number;
  cpuMs: number;
  busiestCpuMs: number;
  answerMs: number[];
}

/**
 * Measures this worker's answers to the primary's `/metrics` requests it is told to (`METER_NEXT`): the longest
 * event-loop block from the request's arrival until the channel took the answer's last piece, with its CPU (as the
 * primary's figures), and the time that took. The listener goes first, so the answer's synchronous start is in the
 * first gap.
 */
function meterScrapes(): WorkerScrapeBlocks {
  const figures: WorkerScrapeBlocks = { blockMs: 0, cpuMs: 0, busiestCpuMs: 0, answerMs: [] };
  let armed = false;
  let lastSent: (() => void) | null = null;
  const send = process.send!.bind(process) as (message: unknown, handle?: unknown, options?: unknown, callback?: (error: Error | null) => void) => boolean;
  process.send = ((message: unknown, handle?: unknown, options?: unknown, callback?: (error: Error | null) => void) =>
    send(message, handle, options, (error) => {
      const m = message as { type?: unknown; last?: unknown } | null;
      if (m?.type === METRICS_PIECE && m.last === true) lastSent?.();
      callback?.(error);
    })) as typeof process.send;
  (process as NodeJS.EventEmitter).prependListener('message', (message: { type?: unknown } | null) => {
    if (message?.type === METER_NEXT) armed = true;
    if (message?.type === WORKER_BLOCKS) process.send!({ type: WORKER_BLOCKS, ...figures });
    if (message?.type !== METRICS_REQUEST || !armed) return;
    armed = false;
    const done = new Promise<void>((resolve) => (lastSent = resolve));
    const t0 = performance.now();
    void longestBlock(() => done).then(({ blockMs, cpuMs, busiestCpuMs }) => {
      figures.answerMs.push(performance.now() - t0);
      if (blockMs > figures.blockMs) figures.cpuMs = cpuMs;
      figures.blockMs = Math.max(figures.blockMs, blockMs);
      figures.busiestCpuMs = Math.max(figures.busiestCpuMs, busiestCpuMs);
      lastSent = null;
    });
  });
  return figures;
}

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
  meterScrapes();
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

/**
 * The longest gap between two turns of a `setImmediate` chain while `work` runs (as bench/keysStream.ts's
 * `longestBlock`), and the CPU time this process used in that gap (main thread and V8's helper threads): a gap with
 * little CPU was the process waiting for a core (two shared cores, three busy processes), not its own work. Also the
 * most CPU the process used in any one gap (`busiestCpuMs`): on a machine shared with other work, where the longest
 * gap is often a wait for a core, this is the bound on what the process itself did between two turns (it counts
 * V8's helper threads too, so a parallel garbage collection can make it exceed the gap).
 */
export async function longestBlock<T>(
  work: () => Promise<T>,
  /** Called on every turn of the chain (a look at the process's state while `work` runs); keep it cheap. */
  each?: () => void,
): Promise<{ result: T; blockMs: number; cpuMs: number; busiestCpuMs: number }> {
  let running = true;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let blockMs = 0;
  let cpuMs = 0;
  let busiestCpuMs = 0;
  let lastCpuAt = last;
  const note = (): void => {
    const now = performance.now();
    // CPU is read after every gap of 1 ms or more, else at most once a millisecond (each read costs a system call):
    // a gap's CPU may include up to 1 ms before it
    if (now - last >= 1 || now - lastCpuAt >= 1) {
      const cpu = process.cpuUsage();
      const used = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      if (now - last > blockMs) {
        blockMs = now - last;
        cpuMs = used;
      }
      if (now - last >= 1) busiestCpuMs = Math.max(busiestCpuMs, used);
      lastCpu = cpu;
      lastCpuAt = now;
    }
    last = now;
  };
  const tick = (): void => {
    note();
    each?.();
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  last = lastCpuAt = performance.now();
  lastCpu = process.cpuUsage();
  const result = await work();
  running = false;
  note();
  return { result, blockMs, cpuMs, busiestCpuMs };
}
/** Peak resident set size of this process so far, bytes. */
export const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

const primary: KeySection = {
  id: 'primary',
  title:
    "the node:cluster primary's /metrics, 2 workers of N busy keys each, served over loopback by startClusterPrimary, beside prom-client's AggregatorRegistry.clusterMetrics() in the same primary (medians; blocks are the longest of the rounds)",
  counts: COUNTS,
  columns: {
    megabytes: 'MB of text',
    servedMs: '/metrics ms',
    servedBlockMs: 'longest block ms',
    servedBlockCpuMs: 'its CPU ms',
    servedBusiestCpuMs: 'most CPU in one gap ms',
    workerBlockMs: 'worker longest block ms',
    workerBlockCpuMs: 'its CPU ms',
    workerBusiestCpuMs: 'worker most CPU in one gap ms',
    workerAnswerMs: 'worker answer ms',
    peakRssMb: 'primary peak RSS growth MB',
    promClientMs: 'clusterMetrics() ms',
    promClientBlockMs: 'clusterMetrics() longest block ms',
    promClientTimeouts: 'clusterMetrics() rounds timed out',
    blockRatio: 'longest block ÷ clusterMetrics()',
  },
  async measure(keys: number, o: HarnessOptions) {
    if (cluster.isWorker) return workerRole(keys);
    const workers = Array.from({ length: WORKERS }, () => cluster.fork());
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
    let servedBlockCpu = 0;
    let servedBusiestCpu = 0;
    let bytes = 0;
    const rssBefore = maxRss();
    for (let r = 0; r < 1 + n; r++) {
      await traffic();
      const t0 = performance.now();
      const { result, blockMs, cpuMs, busiestCpuMs } = await longestBlock(() => fetchMetrics(url));
      const ms = performance.now() - t0;
      if (result.status !== 200 || result.bytes === 0) throw new Error(`/metrics answered ${result.status} with ${result.bytes} bytes`);
      if (r === 0) continue;
      bytes = result.bytes;
      served.push(ms);
      if (blockMs > servedBlock) servedBlockCpu = cpuMs;
      servedBlock = Math.max(servedBlock, blockMs);
      servedBusiestCpu = Math.max(servedBusiestCpu, busiestCpuMs);
    }
    const peakRssMb = (maxRss() - rssBefore) / 2 ** 20;
    // The worker side on its own: one worker at a time measures its answer (the primary does not measure meanwhile,
    // and the other worker answers without a meter spinning), alternating.
    for (let r = 0; r < 2 * Math.ceil(n / 2); r++) {
      await traffic();
      workers[r % WORKERS]!.send({ type: METER_NEXT });
      const result = await fetchMetrics(url);
      if (result.status !== 200) throw new Error(`/metrics answered ${result.status}`);
    }
    const workerFigures: WorkerScrapeBlocks[] = [];
    await fromAll(WORKER_BLOCKS, (m) => workerFigures.push(m as unknown as WorkerScrapeBlocks), () => {
      for (const w of workers) w.send({ type: WORKER_BLOCKS });
    });
    const worst = workerFigures.reduce((a, b) => (b.blockMs > a.blockMs ? b : a));
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
    await stopWorkers(workers);
    return {
      megabytes: bytes / 1e6,
      servedMs: median(sorted(served)),
      servedBlockMs: servedBlock,
      servedBlockCpuMs: servedBlockCpu,
      servedBusiestCpuMs: servedBusiestCpu,
      workerBlockMs: worst.blockMs,
      workerBlockCpuMs: worst.cpuMs,
      workerBusiestCpuMs: Math.max(...workerFigures.map((f) => f.busiestCpuMs)),
      workerAnswerMs: median(sorted(workerFigures.flatMap((f) => f.answerMs))),
      peakRssMb,
      promClientMs: refMs.length === 0 ? NaN : median(sorted(refMs)),
      promClientTimeouts: refTimeouts,
      promClientBlockMs: refBlock,
      blockRatio: servedBlock / refBlock,
    };
  },
};

const SAMPLE = 'bench:sample';
const SAMPLED = 'bench:sampled';
/** A message of a worker's dashboard sample: the whole sample (one message) or one of its pieces. */
const isSampleMessage = (m: unknown): m is { type: string; last?: boolean } =>
  typeof m === 'object' && m !== null && ((m as { type?: unknown }).type === 'breakwater:sample' || (m as { type?: unknown }).type === 'breakwater:sample-piece');
/** The message that ends a sample: the whole one, or the last piece. */
const endsSample = (m: { type: string; last?: boolean }): boolean => m.type === 'breakwater:sample' || m.last === true;

/**
 * A worker of the sample section: N busy keys reporting every 500 ms of bench-clock time. On the primary's cue it
 * runs one interval of traffic (which ends by firing the report timer) and answers with the longest block the
 * sample cost this worker: the timer's synchronous part, or any later turn until the sample's last message was
 * taken by the channel (the send callback), whichever is longer; never resolves.
 */
function sampleWorkerRole(keys: number): Promise<never> {
  const clock = new BenchClock();
  bw.configure({ clock });
  const traffic = busyKeys(clock, keys);
  const send = process.send!.bind(process) as (message: unknown, handle?: unknown, options?: unknown, callback?: (error: Error | null) => void) => boolean;
  let sent: (() => void) | null = null;
  process.send = ((message: unknown, handle?: unknown, options?: unknown, callback?: (error: Error | null) => void) =>
    send(message, handle, options, (error) => {
      if (isSampleMessage(message) && endsSample(message)) sent?.();
      callback?.(error);
    })) as typeof process.send;
  bw.reportToClusterPrimary({ intervalMs: 500 });
  traffic(); // fires the first samples; the cue's traffic fires exactly one, at its end
  process.on('message', (message: { type?: unknown }) => {
    if (message?.type !== SAMPLE) return;
    void (async () => {
      const done = new Promise<void>((resolve) => (sent = resolve));
      const timers = clock.timerMs.length;
      traffic();
      const t0 = performance.now();
      const syncMs = Math.max(0, ...clock.timerMs.slice(timers));
      const { blockMs, busiestCpuMs } = await longestBlock(() => done);
      process.send!({ type: SAMPLED, blockMs: Math.max(syncMs, blockMs), busiestCpuMs, ms: syncMs + performance.now() - t0 });
    })();
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: READY });
  return new Promise<never>(() => {});
}

/** Reads a stream until told to stop, counting bytes. */
function readStream(url: string): { bytes: () => number; close: () => void } {
  let bytes = 0;
  const req = request(url, (res) => res.on('data', (chunk: Buffer) => (bytes += chunk.length)));
  req.on('error', () => {});
  req.end();
  return { bytes: () => bytes, close: () => req.destroy() };
}

const clusterSample: KeySection = {
  id: 'cluster-sample',
  title:
    "the node:cluster workers' dashboard sample to the primary, 2 workers of N busy keys each reporting every 500 ms, a client reading the primary's /hystrix.stream (longest blocks over all rounds; sample ms and sizes: medians / the largest)",
  counts: COUNTS,
  columns: {
    workerBlockMs: 'worker longest block ms',
    workerBusiestCpuMs: 'worker most CPU in one gap ms',
    workerSampleMs: 'worker sample ms',
    primaryBlockMs: 'primary longest block ms',
    primaryBlockCpuMs: 'its CPU ms',
    primaryBusiestCpuMs: 'primary most CPU in one gap ms',
    messages: 'IPC messages per sample',
    largestMessageKb: 'largest message KB',
    sampleMb: 'MB per sample per worker',
    streamMb: 'stream MB per round',
  },
  async measure(keys: number, o: HarnessOptions) {
    if (cluster.isWorker) return sampleWorkerRole(keys);
    // The primary listens before the workers start: a worker's first sample, sent at once, would otherwise wait for
    // an acknowledgement nobody sends, and on the workers' bench clock (which moves only with each round's traffic)
    // that wait does not end before the rounds need the worker's next sample.
    const server = await bw.startClusterPrimary({ port: 0, intervalMs: 500 });
    const workers = Array.from({ length: WORKERS }, () => cluster.fork());
    await fromAll(READY);
    const stream = readStream(`${server.url}hystrix.stream`);
    /** The sample messages of the current round, per worker (sized after the measured window). */
    let received = new Map<number, unknown[]>();
    let arrived = 0;
    const onMessage = (worker: Worker, message: unknown): void => {
      if (!isSampleMessage(message)) return;
      const list = received.get(worker.id) ?? [];
      list.push(message);
      received.set(worker.id, list);
      if (endsSample(message)) arrived++;
    };
    cluster.on('message', onMessage);
    const n = keys >= 10_000 ? Math.max(4, o.samples >> 1) : Math.max(6, o.samples);
    let workerBlock = 0;
    let primaryBlock = 0;
    let primaryBlockCpu = 0;
    let primaryBusiestCpu = 0;
    let workerBusiestCpu = 0;
    const sampleMs: number[] = [];
    let messages = 0;
    let largest = 0;
    let perSample = 0;
    const streamBytes: number[] = [];
    for (let r = 0; r < 1 + n; r++) {
      received = new Map();
      arrived = 0;
      const before = stream.bytes();
      const replies: { blockMs: number; busiestCpuMs: number; ms: number }[] = [];
      const { blockMs, cpuMs, busiestCpuMs } = await longestBlock(async () => {
        const answered = fromAll(SAMPLED, (m) => replies.push(m as unknown as { blockMs: number; busiestCpuMs: number; ms: number }));
        for (const w of workers) w.send({ type: SAMPLE });
        await answered;
        const t0 = performance.now();
        // both samples in, then one stream interval more: the primary aggregates and writes them (bounded: 30 s)
        while (arrived < WORKERS && performance.now() - t0 < 30_000) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, 600));
      });
      if (arrived < WORKERS) throw new Error(`the primary got ${arrived} of ${WORKERS} samples in 30 s`);
      if (r === 0) continue;
      if (blockMs > primaryBlock) primaryBlockCpu = cpuMs;
      primaryBlock = Math.max(primaryBlock, blockMs);
      primaryBusiestCpu = Math.max(primaryBusiestCpu, busiestCpuMs);
      for (const reply of replies) {
        workerBlock = Math.max(workerBlock, reply.blockMs);
        workerBusiestCpu = Math.max(workerBusiestCpu, reply.busiestCpuMs);
        sampleMs.push(reply.ms);
      }
      streamBytes.push(stream.bytes() - before);
      const first = [...received.values()][0]!;
      messages = first.length;
      perSample = 0;
      for (const m of first) {
        const size = Buffer.byteLength(JSON.stringify(m));
        largest = Math.max(largest, size);
        perSample += size;
      }
    }
    cluster.off('message', onMessage);
    stream.close();
    await server.close();
    await stopWorkers(workers);
    return {
      workerBlockMs: workerBlock,
      workerBusiestCpuMs: workerBusiestCpu,
      workerSampleMs: median(sorted(sampleMs)),
      primaryBlockMs: primaryBlock,
      primaryBlockCpuMs: primaryBlockCpu,
      primaryBusiestCpuMs: primaryBusiestCpu,
      messages,
      largestMessageKb: largest / 1024,
      sampleMb: perSample / 1e6,
      streamMb: median(sorted(streamBytes)) / 1e6,
    };
  },
};

/** Resolves once every worker has sent a message of `type` (bounded: 120 s); `each` sees each such message. */
function fromAll(type: string, each?: (message: Record<string, unknown>) => void, then?: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const seen = new Set<number>();
    const timer = setTimeout(() => reject(new Error(`the workers did not send ${type} in 120 s`)), 120_000);
    const on = (worker: Worker, message: unknown): void => {
      if ((message as { type?: unknown } | null)?.type !== type) return;
      each?.(message as Record<string, unknown>);
      seen.add(worker.id);
      if (seen.size < WORKERS) return;
      cluster.off('message', on);
      clearTimeout(timer);
      resolve();
    };
    cluster.on('message', on);
    then?.();
  });
}

export async function stopWorkers(workers: Worker[]): Promise<void> {
  for (const w of workers) w.disconnect();
  await Promise.all(workers.map((w) => (w.isDead() ? undefined : new Promise((resolve) => w.once('exit', resolve)))));
}

/** The cluster sections, appended to the scale benchmark's list in bench/keys.ts. */
export const primarySections: KeySection[] = [primary, clusterSample];
