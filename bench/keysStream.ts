/**
 * The stream-sample and Prometheus-scrape sections of the scale benchmark (`npm run bench -- keys sample scrape`,
 * issue 13 items 2, 3 and 8). Each compares breakwater's cost with a reference measured in the same process and
 * the same rounds, so the ratio holds on a busy machine even when the absolute times do not:
 *
 * - sample: building one dashboard sample of N busy keys (every key executed between two samples, varied
 *   latencies) against `JSON.stringify` of that same sample; plus the longest event-loop block while it is built.
 * - scrape: `registry.metrics()` with breakwater's collectors on N busy keys against prom-client serialising the
 *   same number of plain labelled gauge samples (one `Gauge` with three labels, values set before timing).
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import * as bw from '../src/index.js';
import { sampleObjectsInSlices, sampleTextInSlices, type SliceStats } from '../src/stream/sampleSlices.js';
import { resetBreakwater } from '../src/testing.js';
import { writeExposition } from '../src/prometheus/writeExposition.js';
import { fullGc, median, type HarnessOptions } from './harness.js';
import { BenchClock, latencies, liveBytes, type KeySection } from './keys.js';

/** The key counts (bench/keys.ts's KEY_COUNTS; repeated here because keys.ts imports this module). */
const COUNTS = [100, 1000, 10_000] as const;

/**
 * The longest time the event loop was not free while `work` ran: a `setImmediate` chain notes the gap between its
 * turns (what another request would wait). perf_hooks' monitorEventLoopDelay, toggled around the work, also
 * counted the references' blocks in between, so it is not used here.
 */
export async function longestBlock<T>(work: () => Promise<T>): Promise<{ result: T; blockMs: number }> {
  let running = true;
  let last = performance.now();
  let blockMs = 0;
  const tick = (): void => {
    const now = performance.now();
    blockMs = Math.max(blockMs, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  last = performance.now();
  const result = await work();
  running = false;
  blockMs = Math.max(blockMs, performance.now() - last);
  return { result, blockMs };
}

/** The stream's sampling interval: the simulated time between two samples or scrapes. */
const INTERVAL_MS = 500;

/** N command handles whose `run` takes a varied latency of bench-clock time. */
export function busyKeys(clock: BenchClock, keys: number): () => void {
  const latency = latencies(keys + 7);
  let lat = 0;
  const run = (): number => {
    clock.t += lat;
    return 42;
  };
  const handles = Array.from({ length: keys }, (_, i) => bw.command({ key: `Busy.${i}`, group: `Group${i % 20}`, run }));
  /** One interval of traffic: every key executes twice, then the clock moves to the next sample. */
  return () => {
    const start = clock.t;
    for (const h of handles) {
      for (let j = 0; j < 2; j++) {
        const at = clock.t;
        lat = latency();
        h.executeSync();
        clock.t = at;
      }
    }
    clock.advanceTo(start + INTERVAL_MS);
  };
}

function rounds(o: HarnessOptions, keys: number): number {
  const base = Math.max(10, o.samples * 2);
  return keys >= 10_000 ? Math.max(6, base >> 1) : base;
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

/** Building one dashboard sample vs JSON.stringify of it, N busy keys. */
const sample: KeySection = {
  id: 'sample',
  title: 'one dashboard sample of N busy keys: build (sliced, as the stream and dashboardEvents do) vs JSON.stringify of the same sample, ms (medians)',
  counts: COUNTS,
  columns: {
    buildMs: 'build ms',
    stringifyMs: 'JSON.stringify ms',
    ratio: 'build ÷ stringify',
    textMs: 'SSE text (build + serialise) ms',
    freshMs: 'hystrixDashboardSample() (fresh percentiles) ms',
    idleUsPerKey: 'unchanged key, SSE text, µs per key',
    longestSliceMs: 'longest slice ms',
    maxLoopBlockMs: 'longest event-loop block ms',
  },
  async measure(keys, o) {
    const clock = new BenchClock();
    bw.configure({ clock });
    const traffic = busyKeys(clock, keys);
    const build: number[] = [];
    const stringify: number[] = [];
    const ratios: number[] = [];
    const text: number[] = [];
    const fresh: number[] = [];
    const stats: SliceStats = { slices: 0, longestMs: 0 };
    const n = rounds(o, keys);
    const warm = 4;
    let maxBlock = 0;
    for (let r = 0; r < warm + n; r++) {
      traffic();
      if (r === warm) fullGc();
      const t0 = performance.now();
      const { result: objects, blockMs } = await longestBlock(() => sampleObjectsInSlices(r >= warm ? { stats } : {}));
      const t1 = performance.now();
      if (r >= warm) maxBlock = Math.max(maxBlock, blockMs);
      const json = JSON.stringify(objects);
      const t2 = performance.now();
      if (json.length === 0) throw new Error('empty sample');
      if (r < warm) continue;
      build.push(t1 - t0);
      stringify.push(t2 - t1);
      ratios.push((t1 - t0) / (t2 - t1));
      // The SSE text of the next interval (its own traffic), and a fresh sample, for comparison.
      traffic();
      const t3 = performance.now();
      maxBlock = Math.max(maxBlock, (await longestBlock(() => sampleTextInSlices({ stats }))).blockMs);
      const t4 = performance.now();
      text.push(t4 - t3);
      if (r % 2 === 0) {
        traffic();
        const t5 = performance.now();
        bw.hystrixDashboardSample();
        fresh.push(performance.now() - t5);
      }
    }
    // Unchanged keys: no traffic between samples in the same rolling bucket (the stream's text path).
    const idle: number[] = [];
    for (let r = 0; r < 5; r++) {
      clock.advanceTo(Math.ceil((clock.t + 1) / 1000) * 1000 + 10);
      await sampleTextInSlices();
      clock.advanceTo(clock.t + 100);
      const t6 = performance.now();
      await sampleTextInSlices();
      idle.push(performance.now() - t6);
    }
    return {
      buildMs: median(sorted(build)),
      stringifyMs: median(sorted(stringify)),
      ratio: median(sorted(ratios)),
      textMs: median(sorted(text)),
      freshMs: median(sorted(fresh)),
      idleUsPerKey: (median(sorted(idle)) * 1000) / keys,
      longestSliceMs: stats.longestMs,
      maxLoopBlockMs: maxBlock,
    };
  },
};

/** `registry.metrics()` with breakwater's collectors vs prom-client serialising as many plain labelled gauge samples. */
const scrape: KeySection = {
  id: 'scrape',
  title: 'one Prometheus scrape of N busy keys vs prom-client serialising the same number of plain labelled gauge samples, ms (medians)',
  counts: COUNTS,
  columns: {
    series: 'series',
    scrapeMs: 'scrape ms',
    gaugeMs: 'prom-client gauge ms',
    ratio: 'scrape ÷ gauge',
    noPercentilesMs: 'scrape ms, percentiles: false',
    maxLoopBlockMs: 'longest event-loop block ms',
    servedBlockMs: 'longest block, /metrics served by breakwater ms',
    retainedAfterClearBytes: 'B held after 3 scrapes and registry.clear()',
  },
  async measure(keys, o) {
    const clock = new BenchClock();
    bw.configure({ clock });
    let traffic: (() => void) | null = busyKeys(clock, keys);
    const registry = new Registry();
    bw.registerPrometheus(registry);
    const lean = new Registry();
    bw.registerPrometheus(lean, { percentiles: false });
    traffic();
    const series = (await registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    // The reference: one prom-client Gauge holding as many series, with three labels like ours.
    let reference: Registry | null = new Registry();
    let gauge: Gauge | null = new Gauge({ name: 'reference_gauge', help: 'plain labelled gauge samples', labelNames: ['command', 'group', 'series'], registers: [reference] });
    let labels: Record<string, string>[] | null = Array.from({ length: series }, (_, i) => ({ command: `Busy.${i % keys}`, group: `Group${i % 20}`, series: String((i / keys) | 0) }));
    const scrapes: number[] = [];
    const gauges: number[] = [];
    const ratios: number[] = [];
    const leanScrapes: number[] = [];
    const n = rounds(o, keys);
    let maxBlock = 0;
    for (let r = 0; r < 3 + n; r++) {
      traffic();
      for (let i = 0; i < labels.length; i++) gauge.set(labels[i]!, r + i);
      const t0 = performance.now();
      const { result: text, blockMs } = await longestBlock(() => registry.metrics());
      const t1 = performance.now();
      if (r >= 3) maxBlock = Math.max(maxBlock, blockMs);
      const ref = await reference.metrics();
      const t2 = performance.now();
      if (text.length === 0 || ref.length === 0) throw new Error('empty scrape');
      if (r < 3) continue;
      scrapes.push(t1 - t0);
      gauges.push(t2 - t1);
      ratios.push((t1 - t0) / (t2 - t1));
      const t3 = performance.now();
      await lean.metrics();
      leanScrapes.push(performance.now() - t3);
    }
    // The same registry served over loopback HTTP the way startDashboard and the adapters serve it (streamed).
    const server = createServer((req, res) => writeExposition(registry, req, res, {}, () => res.writeHead(500).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const fetchMetrics = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.on('end', () => resolve(bytes));
        });
        req.on('error', reject);
        req.end();
      });
    let servedBlock = 0;
    for (let r = 0; r < 2 + Math.min(n, 6); r++) {
      traffic();
      const { result: bytes, blockMs } = await longestBlock(fetchMetrics);
      if (bytes === 0) throw new Error('empty served scrape');
      if (r >= 2) servedBlock = Math.max(servedBlock, blockMs);
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    registry.clear();
    lean.clear();
    reference.clear();
    reference = null;
    gauge = null;
    labels = null;
    // What a registration holds once cleared: the keys stay (and stay still), a fresh registry is scraped three
    // times and cleared, and the live bytes before and after are compared.
    // First one throw-away registration, scraped and cleared: whatever a scrape leaves in the keys themselves
    // (latencies folded into their histograms, percentile and label caches) is the keys' memory, not the
    // registration's, and is in place before the measurement.
    let warmup: Registry | null = new Registry();
    bw.registerPrometheus(warmup);
    await warmup.metrics();
    warmup.clear();
    warmup = null;
    const before = liveBytes();
    let probe: Registry | null = new Registry();
    bw.registerPrometheus(probe);
    for (let i = 0; i < 3; i++) await probe.metrics();
    probe.clear();
    probe = null;
    const retained = liveBytes() - before;
    traffic = null;
    resetBreakwater();
    bw.configure({ clock });
    return {
      series,
      scrapeMs: median(sorted(scrapes)),
      gaugeMs: median(sorted(gauges)),
      ratio: median(sorted(ratios)),
      noPercentilesMs: median(sorted(leanScrapes)),
      maxLoopBlockMs: maxBlock,
      servedBlockMs: servedBlock,
      retainedAfterClearBytes: retained,
    };
  },
};

/** The stream and Prometheus sections, appended to the scale benchmark's list in bench/keys.ts. */
export const streamSections: KeySection[] = [sample, scrape];
