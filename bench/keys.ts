/**
 * The scale benchmark (`npm run bench -- keys`, issue 13 item 8): what breakwater costs per command key.
 *
 * It is a list of {@link KeySection}s. Each section is measured at each of its key counts in a fresh child process
 * (`child.mjs keys <section> <count>`), so one measurement's heap, JIT state and timers never leak into another's.
 * A section returns named figures; bench/run.ts prints one table per section and writes them to
 * bench/results and docs/benchmarks.md. Add a section by appending to {@link keySections}: the memory/expiry and
 * configure() parts live here; the stream-sample and Prometheus-scrape parts are added beside them.
 */
import * as bw from '../src/index.js';
import { resetBreakwater } from '../src/testing.js';
import { fullGc, type HarnessOptions } from './harness.js';
import { streamSections } from './keysStream.js';
import { primarySections } from './keysPrimary.js';
import { proxySections } from './keysProxy.js';
import { seededRandom } from '../test/support/seededRandom.js';

/** The key counts the issue asks for. */
export const KEY_COUNTS = [100, 1000, 10_000] as const;

/** One part of the scale benchmark. */
export interface KeySection {
  /** Short id: `npm run bench -- keys <id>` runs only this section. */
  readonly id: string;
  /** What the section measures, for the report. */
  readonly title: string;
  /** The key counts it is measured at. */
  readonly counts: readonly number[];
  /** Column titles, in order: the names of the figures {@link KeySection.measure} returns. */
  readonly columns: Readonly<Record<string, string>>;
  /** Measures at `keys` keys (in its own process). */
  measure(keys: number, o: HarnessOptions): Promise<Record<string, number>>;
}

/**
 * A clock the benchmark moves by hand, so a simulated minute takes a few seconds. Timers (breaker health
 * evaluations, the key-expiry sweep) fire in order as {@link BenchClock.advanceTo} passes them.
 */
export class BenchClock implements bw.Clock {
  t = 0;
  private timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  /** How long each fired timer ran, in real ms (mostly the key-expiry sweep's slices). */
  readonly timerMs: number[] = [];
  now(): number {
    return this.t;
  }
  wallTime(): number {
    return 1_600_000_000_000 + this.t;
  }
  setTimer(fn: () => void, delayMs: number): bw.TimerHandle {
    const timer = { at: this.t + Math.max(0, delayMs), fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
  /** Moves time to `t`, firing due timers in order. */
  advanceTo(t: number): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.timers.length; i++) {
        const x = this.timers[i]!;
        if (x.cancelled || x.at > t) continue;
        if (best < 0 || x.at < this.timers[best]!.at) best = i;
      }
      if (best < 0) break;
      const due = this.timers[best]!;
      this.timers.splice(best, 1);
      if (due.at > this.t) this.t = due.at;
      const t0 = performance.now();
      due.fn();
      this.timerMs.push(performance.now() - t0);
    }
    this.timers = this.timers.filter((x) => !x.cancelled);
    if (t > this.t) this.t = t;
  }
}

/** Varied latencies: log-normal, median 20 ms, p99 about 200 ms, capped under the 1 s timeout. */
export function latencies(seed: number): () => number {
  const next = seededRandom(seed);
  return () => {
    const u1 = next() || 1e-12;
    const u2 = next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.min(900, Math.max(0, Math.round(20 * Math.exp(z))));
  };
}

/** heap + external bytes in use after a full GC. */
export function liveBytes(): number {
  fullGc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * `keys` command handles, each run for `seconds` simulated seconds at `perSecond` calls per second with varied
 * latencies (`run` moves the bench clock by its latency; the clock then returns to the call's start, so every key
 * sees the same minute). Sync mode: no deadline timers, no Promises, only what a key holds.
 */
export function exercise(clock: BenchClock, keys: number, seconds: number, perSecond: number, prefix = 'BenchKey', settings: bw.CommandSettings = {}): unknown[] {
  const latency = latencies(keys);
  let lat = 0;
  const run = (): number => {
    clock.t += lat;
    return 42;
  };
  const handles = Array.from({ length: keys }, (_, i) => bw.command({ key: `${prefix}-${i}`, group: 'Bench', run, ...settings }));
  const start = clock.t;
  const calls = seconds * perSecond;
  for (let c = 0; c < calls; c++) {
    const roundStart = start + (c * 1000) / perSecond;
    for (let i = 0; i < keys; i++) {
      const at = roundStart + ((i * 1000) / perSecond) / keys;
      clock.advanceTo(at);
      lat = latency();
      handles[i]!.executeSync();
      clock.t = at;
    }
  }
  clock.advanceTo(start + seconds * 1000);
  return handles;
}

/** Keys of the memory sections' warm-up. */
const WARM_KEYS = 10;

/**
 * Runs what the measured minute runs, on {@link WARM_KEYS} keys that are then dropped (`resetBreakwater()`): a whole
 * simulated minute of the same calls, so the code compiled for it, its feedback and the shared structures made on
 * first use are in the process before the measurement starts, not in its delta. (Until 2026-12-07 the warm-up was one
 * call on one key: the code the rest of the minute compiles, about 0.4 KB per key at 1,000 keys and 4 KB at 100, was
 * counted as the keys'; see docs/benchmarks.md, Method.)
 */
function warmUp(settings: bw.CommandSettings): void {
  const clock = new BenchClock();
  bw.configure({ clock });
  exercise(clock, WARM_KEYS, 60, 1, 'Warm', settings);
  resetBreakwater();
}

/** Bytes per live key (heap + external after a simulated minute of varied latencies, 1 call per key per second) of keys with `settings`. */
function memorySection(id: string, title: string, settings: bw.CommandSettings): KeySection {
  return {
    id,
    title,
    counts: KEY_COUNTS,
    columns: {
      bytesPerKey: 'B per key',
      heapPerKey: 'heap B per key',
      externalPerKey: 'external B per key',
      retainedAfterResetPerKey: 'B per key left after resetBreakwater()',
    },
    async measure(keys) {
      warmUp(settings);
      const clock = new BenchClock();
      bw.configure({ clock });
      fullGc();
      const before = process.memoryUsage();
      let handles: unknown[] | null = exercise(clock, keys, 60, 1, 'BenchKey', settings);
      fullGc();
      const after = process.memoryUsage();
      if (bw.commandKeys().length < keys) throw new Error('keys expired during the memory measurement');
      handles = null;
      resetBreakwater();
      bw.configure({ clock });
      const afterReset = liveBytes();
      void handles;
      return {
        bytesPerKey: (after.heapUsed + after.external - before.heapUsed - before.external) / keys,
        heapPerKey: (after.heapUsed - before.heapUsed) / keys,
        externalPerKey: (after.external - before.external) / keys,
        retainedAfterResetPerKey: (afterReset - before.heapUsed - before.external) / keys,
      };
    },
  };
}

const memory = memorySection('memory', 'heap + external bytes per live key after a minute of varied latencies (1 call per key per second, percentiles on)', {});

/** Breaker-only keys (as cockatiel's ConsecutiveBreaker): no timeout, no percentiles, with and without the rolling window. */
const BREAKER_ONLY_KEY: bw.CommandSettings = { timeout: false, metrics: { percentileEnabled: false }, circuitBreaker: { strategy: 'consecutive' } };
const memoryBreakerOnly = memorySection('memory-breaker-only', 'the same, breaker-only keys (timeout false, percentiles off, consecutive breaker), rolling window on', BREAKER_ONLY_KEY);
const memoryNoWindow = memorySection('memory-no-window', 'the same, breaker-only keys with `metrics.rollingWindow: false` (nobody reads them)', {
  ...BREAKER_ONLY_KEY,
  metrics: { percentileEnabled: false, rollingWindow: false },
});

/** The cost of one `configure()` call while `keys` keys are live: it should not grow with keys it does not touch. */
const configureCost: KeySection = {
  id: 'configure',
  title: 'one configure() call with N live keys (ms, median of 9)',
  counts: [1000, 10_000, 200_000],
  columns: { oneKeyMs: 'configure({ commands: { oneKey } }) ms', poolMs: 'configure({ pools: { onePool } }) ms', defaultsMs: 'configure({ defaults }) ms' },
  async measure(keys) {
    const clock = new BenchClock();
    bw.configure({ clock });
    const run = (): number => 42;
    for (let i = 0; i < keys; i++) bw.command({ key: `BenchKey-${i}`, run }).executeSync();
    const time = (f: (i: number) => void): number => {
      const samples: number[] = [];
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        f(i);
        samples.push(performance.now() - t0);
      }
      return samples.sort((a, b) => a - b)[4]!;
    };
    return {
      oneKeyMs: time((i) => bw.configure({ commands: { 'BenchKey-7': { timeout: 500 + i } } })),
      poolMs: time((i) => bw.configure({ pools: { OnePool: { coreSize: 10 + i } } })),
      defaultsMs: time((i) => bw.configure({ defaults: { timeout: 900 + i } })),
    };
  },
};

/** New keys per simulated second in the expiry section: with the default keyExpiry about 18,000 are live at once. */
const NEW_KEYS_PER_SECOND = 50;
/** Heap samples along the way. */
const PLATEAU_SAMPLES = 10;

/**
 * The expiry plateau: `keys` distinct keys, each used once, created at a steady rate under the default keyExpiry
 * (5 min). Memory must follow the keys of the last few minutes, not every key ever seen.
 */
const expiry: KeySection = {
  id: 'expiry',
  title: `distinct keys used once each, ${NEW_KEYS_PER_SECOND} new keys per simulated second, default keyExpiry (5 min)`,
  counts: [1_000_000],
  columns: {
    startMB: 'MB after GC, first 10%',
    plateauMB: 'MB after GC, highest after the first expiry',
    endMB: 'MB after GC, at the end',
    liveKeys: 'live keys at the end',
    sliceMedianMs: 'sweep slice ms, median',
    sliceP99Ms: 'sweep slice ms, p99',
    sliceMaxMs: 'sweep slice ms, max (a GC may land in one)',
  },
  async measure(keys) {
    const clock = new BenchClock();
    bw.configure({ clock });
    const run = (): number => 42;
    fullGc();
    const base = process.memoryUsage();
    const baseBytes = base.heapUsed + base.external;
    const samples: { at: number; mb: number }[] = [];
    const every = Math.floor(keys / PLATEAU_SAMPLES);
    const step = 1000 / NEW_KEYS_PER_SECOND;
    for (let i = 0; i < keys; i++) {
      clock.advanceTo(i * step);
      bw.command({ key: `User-${i}`, run }).executeSync();
      if ((i + 1) % every === 0) samples.push({ at: clock.t, mb: (liveBytes() - baseBytes) / 1e6 });
    }
    const firstExpiry = 300_000 + 60_000;
    const after = samples.filter((x) => x.at > firstExpiry);
    return {
      startMB: samples[0]!.mb,
      plateauMB: Math.max(...after.map((x) => x.mb)),
      endMB: samples.at(-1)!.mb,
      liveKeys: bw.commandKeys().length,
      ...sliceTimes(clock),
    };
  },
};

function sliceTimes(clock: BenchClock): { sliceMedianMs: number; sliceP99Ms: number; sliceMaxMs: number } {
  const t = [...clock.timerMs].sort((a, b) => a - b);
  return { sliceMedianMs: t[t.length >> 1] ?? 0, sliceP99Ms: t[Math.floor(t.length * 0.99)] ?? 0, sliceMaxMs: t.at(-1) ?? 0 };
}

/** Every section, in report order. */
export const keySections: KeySection[] = [memory, memoryBreakerOnly, memoryNoWindow, expiry, configureCost, ...streamSections, ...primarySections, ...proxySections];

/** Runs one section at one key count (called by bench/child.ts). */
export async function measureKeySection(id: string, keys: number, o: HarnessOptions): Promise<Record<string, unknown>> {
  const section = keySections.find((s) => s.id === id);
  if (section === undefined) throw new Error(`unknown keys section '${id}' (${keySections.map((s) => s.id).join(', ')})`);
  return { section: id, keys, ...(await section.measure(keys, o)) };
}
