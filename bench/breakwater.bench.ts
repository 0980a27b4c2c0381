/**
 * breakwater's scenarios. Each uses its own command key and is checked after the run: the counts prove that
 * every outcome was recorded (nothing was skipped to win a benchmark).
 */
import {
  APP_DEPTH,
  FALLBACK_VALUE,
  IN_FLIGHT,
  atAppDepth,
  failing,
  failingLate,
  failingShared,
  fallbackValue,
  gated,
  inFlightBatch,
  work,
  workSync,
  type Scenario,
  type Subject,
} from './scenario.js';

// A static import: esbuild bundles it as plain module code. A dynamic import() of bundled code would be wrapped
// in a lazy initializer, and V8 optimises that code measurably worse than what a user gets from dist/.
import * as breakwater from '../src/index.js';

type Breakwater = typeof breakwater;
type EventType = breakwater.EventType;

const load = async (): Promise<Breakwater> => breakwater;

/** The event counts of a key that prove what happened (cumulative, so the whole run is covered). */
function counts(bw: Breakwater, key: string, ...types: EventType[]) {
  return (): Record<string, unknown> => {
    const m = bw.metricsFor(key);
    const out: Record<string, unknown> = { circuit: bw.circuitBreakerFor(key).state, running: m.current };
    for (const t of types) out[t] = m.cumulativeCount(t);
    out.footprintBytes = m.footprintBytes;
    return out;
  };
}

const asyncCall = (call: () => Promise<unknown>): Subject['op'] => ({ kind: 'async', fn: call });

const NO_TIMER: breakwater.TimerHandle = { cancel() {} };

/**
 * A diagnostic, not a configuration to use: a Clock whose time never moves and whose timers never fire. With it the
 * executor runs exactly the same code minus the cost of its two clock reads (every latency is 0, no deadline can
 * pass), which shows how much of a row is the clock and how much is breakwater.
 */
function freezeClock(bw: Breakwater): void {
  bw.configure({ clock: { now: () => 1_000_000, wallTime: () => 1_000_000, setTimer: () => NO_TIMER } });
}

/**
 * `base` run with {@link freezeClock} (a diagnostic twin: its own id and title, no target, no pair, not in
 * `bench:quick`). Each scenario runs in its own child, so the twin may reuse the base's command key.
 */
function withFrozenClock(base: Scenario, id: string, title: string): Scenario {
  const { target: _target, like: _like, ...rest } = base;
  return {
    ...rest,
    id,
    title,
    note: 'diagnostic: configure({ clock }) with a Clock that never moves and never fires, so the same code runs without its two clock reads',
    quick: false,
    async setup() {
      freezeClock(await load());
      return base.setup();
    },
  };
}

/** A command whose run fails with `run`'s error and whose circuit never opens (the failure rows). */
function failingCommand(bw: Breakwater, key: string, run: () => Promise<number>) {
  return bw.command({ key, run, fallback: fallbackValue, circuitBreaker: { requestVolumeThreshold: Number.MAX_SAFE_INTEGER } });
}

const SUCCESS: Scenario = {
  id: 'breakwater/success',
  library: 'breakwater',
  group: 'success',
  title: 'success, Hystrix defaults',
  note: 'breaker + semaphore (10) + timeout 1000 ms + percentiles on + request log on (no request context)',
  target: { against: 'floor', floor: 'settleableTwoClocks', kind: 'max', value: 1.5, label: '≤ 1.5× its floor' },
  like: { peer: 'hystrixjs/success', config: 'hystrixjs defaults' },
  async setup() {
    const bw = await load();
    const c = bw.command({ key: 'BenchSuccess', run: work });
    return { op: asyncCall(() => c.execute()), expect: 42, check: counts(bw, 'BenchSuccess', 'SUCCESS', 'FAILURE', 'TIMEOUT') };
  },
};

const SYNC: Scenario = {
  id: 'breakwater/sync',
  library: 'breakwater',
  group: 'sync',
  title: 'sync mode (executeSync)',
  note: 'a synchronous run; no deadline is armed in sync mode (a late value is discarded as TIMEOUT, as in Hystrix)',
  reference: 'sync',
  target: { against: 'floor', floor: 'twoClocks', kind: 'max', value: 1.5, label: '≤ 1.5× its floor' },
  async setup() {
    const bw = await load();
    const c = bw.command({ key: 'BenchSync', run: workSync });
    return { op: { kind: 'sync', fn: () => c.executeSync() }, expect: 42, check: counts(bw, 'BenchSync', 'SUCCESS') };
  },
};

const OPEN_FALLBACK: Scenario = {
  id: 'breakwater/open-fallback',
  library: 'breakwater',
  group: 'open',
  title: 'open circuit + fallback',
  note: 'circuitBreakerFor(key).forceOpen(): SHORT_CIRCUITED → fallback, which receives the shared frozen CommandError',
  target: { against: 'floor', floor: 'resolvedTwoClocks', kind: 'max', value: 1.5, label: '≤ 1.5× its floor' },
  like: { peer: 'hystrixjs/open-fallback', config: 'hystrixjs defaults' },
  async setup() {
    const bw = await load();
    const c = bw.command({ key: 'BenchOpen', run: work, fallback: fallbackValue });
    bw.circuitBreakerFor('BenchOpen').forceOpen();
    return {
      op: asyncCall(() => c.execute()),
      expect: FALLBACK_VALUE,
      check: counts(bw, 'BenchOpen', 'SHORT_CIRCUITED', 'FALLBACK_SUCCESS', 'SUCCESS'),
    };
  },
};

export const breakwaterScenarios: Scenario[] = [
  SUCCESS,
  {
    id: 'breakwater/success-listeners',
    library: 'breakwater',
    group: 'success',
    title: 'success, defaults + 3 listeners',
    note: "two 'success' listeners on the command's events and one on the global emitter: a payload per call",
    async setup() {
      const bw = await load();
      const c = bw.command({ key: 'BenchListeners', run: work });
      let heard = 0;
      c.events.on('success', () => heard++);
      c.events.on('success', () => heard++);
      bw.events.on('success', () => heard++);
      return {
        op: asyncCall(() => c.execute()),
        expect: 42,
        check: () => ({ ...counts(bw, 'BenchListeners', 'SUCCESS')(), listenerCalls: heard }),
      };
    },
  },
  withFrozenClock(SUCCESS, 'breakwater/success-frozen-clock', 'success, defaults, clock reads removed'),
  {
    id: 'breakwater/percentiles-off',
    library: 'breakwater',
    group: 'success',
    title: 'success, percentiles off',
    note: 'defaults with metrics.percentileEnabled false',
    async setup() {
      const bw = await load();
      const c = bw.command({ key: 'BenchNoPercentiles', run: work, metrics: { percentileEnabled: false } });
      return { op: asyncCall(() => c.execute()), expect: 42, check: counts(bw, 'BenchNoPercentiles', 'SUCCESS') };
    },
  },
  {
    id: 'breakwater/pool',
    library: 'breakwater',
    group: 'success',
    title: 'success, pool isolation',
    note: "isolation 'pool' with the pool defaults (coreSize 10, no queue)",
    async setup() {
      const bw = await load();
      const c = bw.command({ key: 'BenchPool', group: 'BenchPoolGroup', run: work, isolation: 'pool' });
      return {
        op: asyncCall(() => c.execute()),
        expect: 42,
        check: () => ({ ...counts(bw, 'BenchPool', 'SUCCESS', 'THREAD_POOL_REJECTED')(), pool: bw.poolFor('BenchPoolGroup').activeCount }),
      };
    },
  },
  {
    id: 'breakwater/rate-limited',
    library: 'breakwater',
    group: 'success',
    title: 'success, rate limiter (never empty)',
    note: 'rateLimit { capacity 1e9, refillPerSecond 1e9 }: a token is taken on every call, none is ever missing',
    async setup() {
      const bw = await load();
      const c = bw.command({ key: 'BenchRateLimited', run: work, rateLimit: { capacity: 1e9, refillPerSecond: 1e9 } });
      return { op: asyncCall(() => c.execute()), expect: 42, check: counts(bw, 'BenchRateLimited', 'SUCCESS', 'RATE_LIMITED') };
    },
  },
  {
    id: 'breakwater/retry-on',
    library: 'breakwater',
    group: 'success',
    title: 'success, retry on (never failing)',
    note: 'retry: {} (3 attempts, default budget): each first attempt is counted in the key\'s retry budget; no retry state is built while nothing fails',
    async setup() {
      const bw = await load();
      const c = bw.command({ key: 'BenchRetryOn', run: work, retry: {} });
      return { op: asyncCall(() => c.execute()), expect: 42, check: counts(bw, 'BenchRetryOn', 'SUCCESS', 'RETRY') };
    },
  },
  {
    id: 'breakwater/hedge-on',
    library: 'breakwater',
    group: 'success',
    title: 'success, hedge on (never slow)',
    note: 'idempotent + hedge { delay: 1000 }: each call builds its hedge state and arms a node on the shared deadline timer (no Node timer)',
    async setup() {
      const bw = await load();
      const c = bw.command({ key: 'BenchHedgeOn', run: work, idempotent: true, hedge: { delay: 1000 } });
      return { op: asyncCall(() => c.execute()), expect: 42, check: counts(bw, 'BenchHedgeOn', 'SUCCESS', 'HEDGE') };
    },
  },
  SYNC,
  withFrozenClock(SYNC, 'breakwater/sync-frozen-clock', 'sync mode, clock reads removed'),
  {
    id: 'breakwater/failure-fallback',
    library: 'breakwater',
    group: 'failure',
    title: 'failure + fallback',
    note: `run rejects with a fresh Error; requestVolumeThreshold so high that the circuit never opens; called ${APP_DEPTH} frames deep, as the bare try/catch`,
    reference: 'trycatch',
    target: { against: 'reference', kind: 'max', value: 1.2, label: '≤ 1.2× bare try/catch' },
    like: { peer: 'hystrixjs/failure-fallback', config: 'hystrixjs defaults' },
    async setup() {
      const bw = await load();
      const c = failingCommand(bw, 'BenchFailure', failing);
      return {
        op: asyncCall(atAppDepth(() => c.execute())),
        expect: FALLBACK_VALUE,
        check: counts(bw, 'BenchFailure', 'FAILURE', 'FALLBACK_SUCCESS', 'SHORT_CIRCUITED'),
      };
    },
  },
  {
    id: 'breakwater/failure-fallback-shallow',
    library: 'breakwater',
    group: 'failure',
    title: 'failure + fallback (shallow stack)',
    note: 'as above, called straight from the benchmark loop: the new Error in run captures more frames than the bare one',
    reference: 'trycatch-shallow',
    async setup() {
      const bw = await load();
      const c = failingCommand(bw, 'BenchFailureShallow', failing);
      return { op: asyncCall(() => c.execute()), expect: FALLBACK_VALUE, check: counts(bw, 'BenchFailureShallow', 'FAILURE', 'FALLBACK_SUCCESS') };
    },
  },
  {
    id: 'breakwater/failure-fallback-late',
    library: 'breakwater',
    group: 'failure',
    title: 'failure + fallback (Error made after an await)',
    note: `run rejects with a fresh Error made after an await, as a socket or an HTTP client makes it, so no frame of breakwater is in its stack; called ${APP_DEPTH} frames deep, as its bare try/catch`,
    reference: 'trycatch-late',
    async setup() {
      const bw = await load();
      const c = failingCommand(bw, 'BenchFailureLate', failingLate);
      return {
        op: asyncCall(atAppDepth(() => c.execute())),
        expect: FALLBACK_VALUE,
        check: counts(bw, 'BenchFailureLate', 'FAILURE', 'FALLBACK_SUCCESS', 'SHORT_CIRCUITED'),
      };
    },
  },
  {
    id: 'breakwater/failure-fallback-shared',
    library: 'breakwater',
    group: 'failure',
    title: 'failure + fallback (shared Error)',
    note: 'as above, but run rejects with one pre-built Error: the machinery alone, no stack capture per call',
    reference: 'trycatch-shared',
    async setup() {
      const bw = await load();
      const c = failingCommand(bw, 'BenchFailureShared', failingShared);
      return {
        op: asyncCall(() => c.execute()),
        expect: FALLBACK_VALUE,
        check: counts(bw, 'BenchFailureShared', 'FAILURE', 'FALLBACK_SUCCESS'),
      };
    },
  },
  OPEN_FALLBACK,
  withFrozenClock(OPEN_FALLBACK, 'breakwater/open-frozen-clock', 'open circuit + fallback, clock reads removed'),
  {
    id: 'breakwater/open-no-fallback',
    library: 'breakwater',
    group: 'open',
    title: 'open circuit, no fallback',
    note: 'the caller gets a new CommandError (SHORT_CIRCUIT) per call, stack and all',
    async setup() {
      const bw = await load();
      const c = bw.command({ key: 'BenchOpenNoFallback', run: work });
      bw.circuitBreakerFor('BenchOpenNoFallback').forceOpen();
      const caught = (e: unknown): unknown => (bw.isCommandError(e) ? e.failureType : e);
      return {
        op: asyncCall(() => c.execute().then(undefined, caught)),
        expect: 'SHORT_CIRCUIT',
        check: counts(bw, 'BenchOpenNoFallback', 'SHORT_CIRCUITED', 'FALLBACK_MISSING', 'EXCEPTION_THROWN'),
      };
    },
  },
  {
    id: 'breakwater/inflight',
    library: 'breakwater',
    group: 'inflight',
    title: `${IN_FLIGHT.toLocaleString('en')} calls in flight`,
    note: `defaults with maxConcurrent ${IN_FLIGHT} (the default 10 would reject 990 of them); ${IN_FLIGHT} deadlines armed at once`,
    reference: 'inflight',
    target: { against: 'row', row: 'cockatiel/sampling-inflight', kind: 'minThroughput', value: 1, label: "≥ cockatiel SamplingBreaker's throughput" },
    like: { peer: 'hystrixjs/inflight', config: 'hystrixjs defaults' },
    async setup() {
      const bw = await load();
      const c = bw.command({ key: 'BenchInFlight', run: gated, maxConcurrent: IN_FLIGHT });
      return {
        op: inFlightBatch(() => c.execute()),
        expect: 42,
        check: counts(bw, 'BenchInFlight', 'SUCCESS', 'SEMAPHORE_REJECTED', 'TIMEOUT'),
      };
    },
  },
];
