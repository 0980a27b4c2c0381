/**
 * Soak: millions of executions mixing outcomes and modes, with the heap measured after a full GC at checkpoints.
 * Not part of `npm test`; run `npm run soak` (10,000,000 executions) or `npm run soak -- --executions 1000000`.
 *
 * Design (see docs/reliability.md):
 * - Most executions run on a FakeClock in batches: a batch starts ~1,000 executions across every mode and outcome,
 *   then the clock is advanced so slow runs finish and timeouts fire, and late work settles after its deadline.
 *   Fake time makes millions of timeouts cheap and deterministic.
 * - At every checkpoint a smaller batch runs on the real clock (performance.now + Node timers) with 3 ms timeouts,
 *   so the real timer path (unref'd timers, the shared deadline timer) is soaked too. Its clock counts the timers
 *   breakwater holds.
 * - After each checkpoint: `global.gc()` twice, then `process.memoryUsage().heapUsed`. The heap after warm-up must
 *   stay within `--bound-mb` of its first post-warm-up value. At the end: no breakwater timer alive, no active
 *   Node handle left by breakwater, every permit returned, every queue empty.
 */
import { of, throwError } from 'rxjs';
import {
  allPools,
  BadRequestError,
  Command,
  command,
  commandKeys,
  configure,
  metricsFor,
  observableCommand,
  RequestContext,
  systemClock,
  type Clock,
  type RunContext,
  type TimerHandle,
} from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

// ---- arguments -------------------------------------------------------------------------------------------------

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`--${name} must be a positive number, got ${process.argv[i + 1]}`);
  return value;
}
const TOTAL = Math.floor(flag('executions', 10_000_000));
const CHECKPOINTS = Math.floor(flag('checkpoints', 20));
const BOUND_MB = flag('bound-mb', 4);
const BATCH = 1_000;
const REAL_PER_CHECKPOINT = Math.min(2_000, Math.max(200, Math.floor(TOTAL / CHECKPOINTS / 50)));

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('soak: run with node --expose-gc (npm run soak does)');
  process.exit(2);
}

// ---- clocks ----------------------------------------------------------------------------------------------------

const fake = new FakeClock();
let liveRealTimers = 0;
/** The system clock, counting the timers breakwater holds on it. */
const countingClock: Clock = {
  now: () => systemClock.now(),
  wallTime: () => systemClock.wallTime(),
  setTimer(fn, delayMs, keepAlive): TimerHandle {
    liveRealTimers++;
    let live = true;
    const handle = systemClock.setTimer(
      () => {
        if (live) {
          live = false;
          liveRealTimers--;
        }
        fn();
      },
      delayMs,
      keepAlive,
    );
    return {
      cancel() {
        if (live) {
          live = false;
          liveRealTimers--;
        }
        handle.cancel();
      },
    };
  },
};

// ---- the commands (fixed keys: the number of keys, hence of metrics, is bounded) -------------------------------

/** Work the harness finishes by hand: `soon` before the deadline, `late` after it. */
const soon: (() => void)[] = [];
const late: (() => void)[] = [];
const boom = new Error('soak failure');
const bad = new BadRequestError('soak bad request');

type Outcome = 'ok' | 'fail' | 'bad' | 'slow-ok' | 'slow-fail' | 'timeout';
const OUTCOMES: readonly Outcome[] = ['ok', 'ok', 'ok', 'ok', 'fail', 'bad', 'slow-ok', 'slow-ok', 'slow-fail', 'timeout'];

function work(outcome: Outcome, _ctx?: RunContext): unknown {
  switch (outcome) {
    case 'ok':
      return 1;
    case 'fail':
      throw boom;
    case 'bad':
      throw bad;
    case 'slow-ok':
      return new Promise((resolve) => soon.push(() => resolve(2)));
    case 'slow-fail':
      return new Promise((_resolve, reject) => soon.push(() => reject(boom)));
    case 'timeout':
      return new Promise((resolve) => late.push(() => resolve(3)));
  }
}

const fallbackFor = (i: number) => (i % 7 === 0 ? () => { throw new Error('fallback failed'); } : () => -1);

const promiseCmd = command({ key: 'SoakPromise', timeout: 50, maxConcurrent: 400, run: (o: Outcome, ctx: RunContext) => work(o, ctx), fallback: () => -1 });
const noFallbackCmd = command({ key: 'SoakNoFallback', timeout: 50, maxConcurrent: 400, run: (o: Outcome) => work(o) });
const failingFallbackCmd = command({ key: 'SoakFallbackThrows', timeout: 50, maxConcurrent: 400, run: (o: Outcome) => work(o), fallback: fallbackFor(0) });
const syncCmd = command({ key: 'SoakSync', run: (o: Outcome) => (o.startsWith('slow') || o === 'timeout' ? 1 : work(o)), fallback: () => -1 });
const observeCmd = command({ key: 'SoakObservable', timeout: 50, maxConcurrent: 400, run: (o: Outcome) => work(o), fallback: () => -1 });
const poolCmd = command({
  key: 'SoakPool',
  timeout: 50,
  isolation: 'pool',
  pool: { key: 'SoakPool', coreSize: 16, maxQueueSize: 32, queueSizeRejectionThreshold: 32 },
  run: (o: Outcome) => work(o),
  fallback: () => -1,
});
const cachedCmd = command({ key: 'SoakCached', timeout: 50, maxConcurrent: 400, run: (o: Outcome) => work(o), fallback: () => -1, cacheKey: (o: Outcome) => o });
const tripCmd = command({
  key: 'SoakBreaker',
  timeout: 50,
  maxConcurrent: 400,
  circuitBreaker: { requestVolumeThreshold: 5, errorThresholdPercentage: 50, sleepWindow: 100 },
  metrics: { healthSnapshotInterval: 10 },
  run: (o: Outcome) => work(o),
  fallback: () => -1,
});
const limitedCmd = command({ key: 'SoakLimited', timeout: 50, rateLimit: { capacity: 20, refillPerSecond: 1000 }, run: (o: Outcome) => work(o), fallback: () => -1 });
const multiCmd = observableCommand({
  key: 'SoakMulti',
  timeout: 50,
  maxConcurrent: 400,
  construct: (fail: boolean) => (fail ? throwError(() => boom) : of(1, 2, 3)),
  resumeWithFallback: () => of(-1),
});

class SoakClassCommand extends Command<number> {
  constructor(private readonly outcome: Outcome) {
    super({ key: 'SoakClass', timeout: 50, maxConcurrent: 400 });
  }
  protected run(ctx: RunContext): Promise<number> | number {
    return work(this.outcome, ctx) as Promise<number> | number;
  }
  protected override fallback(): number {
    return -1;
  }
}

const realCmd = command({
  key: 'SoakReal',
  timeout: 3,
  maxConcurrent: 1_000,
  metrics: { healthSnapshotInterval: 20 },
  run: (o: 'fast' | 'slow' | 'fail', { signal }: RunContext) =>
    o === 'fail'
      ? Promise.reject(boom)
      : new Promise<number>((resolve) => {
          const t = setTimeout(() => resolve(1), o === 'fast' ? 0 : 8);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve(0);
          });
        }),
  fallback: () => -1,
});

// ---- one batch ---------------------------------------------------------------------------------------------------

const swallow = (): void => {};
let secondCachedCalls = 0;
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Starts `n` executions on the FakeClock across every mode; returns a promise of their settling. */
async function fakeBatch(n: number, offset: number): Promise<void> {
  const pending: Promise<unknown>[] = [];
  const cancels: (() => void)[] = [];
  for (let j = 0; j < n; j++) {
    const i = offset + j;
    const outcome = OUTCOMES[i % OUTCOMES.length]!;
    switch (i % 13) {
      case 0:
      case 1:
      case 2:
        pending.push(promiseCmd.execute(outcome).catch(swallow));
        break;
      case 3:
        pending.push(noFallbackCmd.execute(outcome).catch(swallow));
        break;
      case 4:
        pending.push(failingFallbackCmd.execute(outcome).catch(swallow));
        break;
      case 5:
        try {
          syncCmd.executeSync(outcome);
        } catch {
          // BAD_REQUEST and the like reach the caller
        }
        break;
      case 6: {
        // cold observable; every third one is unsubscribed before its result (CANCELLED)
        let cancel: (() => void) | undefined;
        pending.push(
          new Promise<void>((resolve) => {
            const sub = observeCmd.toObservable(outcome).subscribe({ next: swallow, error: () => resolve(), complete: () => resolve() });
            cancel = () => {
              sub.unsubscribe();
              resolve();
            };
          }),
        );
        if (i % 3 === 0) cancels.push(cancel!);
        break;
      }
      case 7:
        pending.push(poolCmd.execute(outcome).catch(swallow));
        break;
      case 8:
        secondCachedCalls++; // two calls with one cache key: one execution + one RESPONSE_FROM_CACHE
        pending.push(RequestContext.run(() => Promise.all([cachedCmd.execute(outcome), cachedCmd.execute(outcome)])).catch(swallow));
        break;
      case 9:
        pending.push(tripCmd.execute(i % 4 === 0 ? 'ok' : 'fail').catch(swallow));
        break;
      case 10:
        pending.push(limitedCmd.execute(outcome).catch(swallow));
        break;
      case 11:
        pending.push(
          new Promise<void>((resolve) => multiCmd.toObservable(i % 5 === 0).subscribe({ next: swallow, error: () => resolve(), complete: () => resolve() })),
        );
        break;
      case 12:
        pending.push(new SoakClassCommand(outcome).execute().catch(swallow));
        break;
    }
  }
  for (const cancel of cancels) cancel();
  // Slow work finishes before the deadline (queued pool runs start as slots free up, so loop).
  fake.advance(5);
  while (soon.length > 0) {
    for (const finish of soon.splice(0)) finish();
    await flush();
  }
  // Deadlines pass: TIMEOUT → fallback; then the late work settles and returns its permits.
  fake.advance(60);
  await flush();
  while (soon.length > 0 || late.length > 0) {
    for (const finish of soon.splice(0)) finish();
    for (const finish of late.splice(0)) finish();
    await flush();
  }
  await Promise.all(pending);
  fake.advance(1);
}

/** Executions on the real clock: 3 ms timeouts, runs taking 0 or 8 ms, failures. */
async function realBatch(n: number): Promise<void> {
  configure({ clock: countingClock });
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(realCmd.execute(i % 3 === 0 ? 'slow' : i % 3 === 1 ? 'fast' : 'fail').catch(swallow));
    if (pending.length >= 250) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  configure({ clock: fake });
}

// ---- leaks -----------------------------------------------------------------------------------------------------

function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

function heldResources(): string[] {
  const problems: string[] = [];
  for (const key of commandKeys()) {
    const rt = existingRuntime(key)!;
    if (rt.semaphore.inUse !== 0) problems.push(`${key}: ${rt.semaphore.inUse} permits held`);
    if (rt.fallbackSemaphore.inUse !== 0) problems.push(`${key}: ${rt.fallbackSemaphore.inUse} fallback permits held`);
    const current = metricsFor(key).snapshot().concurrency.current;
    if (current !== 0) problems.push(`${key}: concurrency.current ${current}`);
  }
  for (const pool of allPools()) {
    if (pool.activeCount !== 0 || pool.queueSize !== 0) problems.push(`pool ${pool.key}: active ${pool.activeCount}, queued ${pool.queueSize}`);
  }
  if (deadlinesFor(fake).size !== 0) problems.push(`fake clock: ${deadlinesFor(fake).size} deadlines armed`);
  if (deadlinesFor(countingClock).size !== 0) problems.push(`real clock: ${deadlinesFor(countingClock).size} deadlines armed`);
  return problems;
}

// ---- main ------------------------------------------------------------------------------------------------------

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);

async function main(): Promise<void> {
  configure({ clock: fake });
  const perCheckpoint = Math.floor(TOTAL / CHECKPOINTS);
  const started = performance.now();
  const samples: { executions: number; heap: number }[] = [];
  let done = 0;
  console.log(`soak: ${TOTAL.toLocaleString('en')} executions, ${CHECKPOINTS} checkpoints, heap bound ${BOUND_MB} MB after warm-up`);
  console.log(`start heap after GC: ${mb(heapAfterGc())} MB`);
  console.log('checkpoint  executions   heapUsed MB   rss MB   elapsed s   executions/s');
  for (let c = 1; c <= CHECKPOINTS; c++) {
    const target = c === CHECKPOINTS ? TOTAL : c * perCheckpoint;
    const real = Math.min(REAL_PER_CHECKPOINT, target - done);
    await realBatch(real);
    done += real;
    while (done < target) {
      const n = Math.min(BATCH, target - done);
      await fakeBatch(n, done);
      done += n;
    }
    const heap = heapAfterGc();
    samples.push({ executions: done, heap });
    const elapsed = (performance.now() - started) / 1000;
    console.log(
      `${String(c).padStart(10)}  ${done.toLocaleString('en').padStart(10)}   ${mb(heap).padStart(11)}   ${mb(process.memoryUsage().rss).padStart(6)}   ${elapsed.toFixed(1).padStart(9)}   ${Math.round(done / elapsed).toLocaleString('en').padStart(12)}`,
    );
  }

  // Let every health-snapshot timer fire (fake: advance; real: wait past the 20 ms interval).
  fake.advance(60_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await flush();

  const counted = Object.fromEntries(commandKeys().map((k) => [k, metricsFor(k).snapshot().cumulative]));
  const recorded = Object.values(counted).reduce(
    (sum, c) => sum + c.SUCCESS + c.FAILURE + c.TIMEOUT + c.BAD_REQUEST + c.SHORT_CIRCUITED + c.SEMAPHORE_REJECTED + c.THREAD_POOL_REJECTED + c.RATE_LIMITED + c.CANCELLED,
    0,
  );
  const cacheHits = Object.values(counted).reduce((sum, c) => sum + c.RESPONSE_FROM_CACHE, 0);

  // Heap: flat after warm-up (the first checkpoint is warm-up: JIT, metric buckets, histograms filling).
  const base = samples[Math.min(1, samples.length - 1)]!.heap;
  const after = samples.slice(Math.min(1, samples.length - 1));
  const maxGrowth = Math.max(...after.map((s) => s.heap - base));
  const finalGrowth = samples[samples.length - 1]!.heap - base;
  const n = after.length;
  const meanX = after.reduce((s, p) => s + p.executions, 0) / n;
  const meanY = after.reduce((s, p) => s + p.heap, 0) / n;
  const slope =
    n < 2 ? 0 : after.reduce((s, p) => s + (p.executions - meanX) * (p.heap - meanY), 0) / after.reduce((s, p) => s + (p.executions - meanX) ** 2, 0);
  const elapsed = (performance.now() - started) / 1000;
  const resources = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'FSReqCallback');
  const held = heldResources();

  console.log('');
  console.log(`executions started: ${done.toLocaleString('en')}; terminal outcomes recorded: ${recorded.toLocaleString('en')} (+ ${cacheHits.toLocaleString('en')} cache hits)`);
  console.log(`elapsed: ${elapsed.toFixed(1)} s (${Math.round(done / elapsed).toLocaleString('en')} executions/s)`);
  console.log(`heap after warm-up: base ${mb(base)} MB, max growth ${mb(maxGrowth)} MB, final growth ${mb(finalGrowth)} MB, trend ${(slope * 1e6 / 1024).toFixed(1)} KB per million executions`);
  console.log(`breakwater timers alive on the real clock: ${liveRealTimers}; fake clock timers pending: ${fake.pendingTimers}`);
  console.log(`process.getActiveResourcesInfo() (stdio excluded): ${JSON.stringify(resources)}`);
  console.log(`permits/queues/deadlines held: ${held.length === 0 ? 'none' : held.join('; ')}`);

  const failures: string[] = [];
  if (maxGrowth > BOUND_MB * 1024 * 1024) failures.push(`heap grew ${mb(maxGrowth)} MB after warm-up (bound ${BOUND_MB} MB)`);
  if (liveRealTimers !== 0) failures.push(`${liveRealTimers} breakwater timers alive`);
  if (fake.pendingTimers !== 0) failures.push(`${fake.pendingTimers} fake timers pending`);
  if (resources.length !== 0) failures.push(`active resources left: ${resources.join(', ')}`);
  if (held.length !== 0) failures.push(...held);
  // Each started execution records one terminal outcome; a cached call records RESPONSE_FROM_CACHE instead.
  if (recorded + cacheHits !== done + secondCachedCalls) {
    failures.push(`outcomes ${recorded} + cache hits ${cacheHits} != executions ${done} + second cached calls ${secondCachedCalls}`);
  }
  if (failures.length > 0) {
    console.log(`\nSOAK FAILED:\n- ${failures.join('\n- ')}`);
    process.exitCode = 1;
  } else console.log('\nSOAK PASSED');
}

await main();
