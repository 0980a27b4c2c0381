/**
 * Like for like (issue 19): breakwater configured to do the same work as a peer's scenario, one scenario per peer
 * row, each paired with it (`like`), for success, failure + fallback, open circuit + fallback and 1,000 in flight.
 *
 * - **As cockatiel's breaker policy** (bench/cockatiel.bench.ts): cockatiel's `circuitBreaker` policy runs the call
 *   and feeds its breaker; it has no timeout, no bulkhead, no latency histogram. breakwater does only its breaker
 *   and its counts here: `timeout: false`, percentiles off, a semaphore no benchmark can fill, no request log,
 *   and the trip rule that matches each cockatiel breaker, with the same thresholds. cockatiel's ConsecutiveBreaker
 *   and CountBreaker keep no time-stamped state, so breakwater keeps no rolling window there either
 *   (`metrics.rollingWindow: false`: cumulative counts only, no clock read on success); one more success row keeps
 *   the window, to show what it costs. Its SamplingBreaker keeps a time window, as breakwater's default does.
 * - **As opossum tuned** (bench/opossum.bench.ts): opossum's options mapped to breakwater's one by one.
 *
 * The pairs with hystrixjs's defaults are breakwater's own Hystrix-defaults rows (bench/breakwater.bench.ts).
 */
import * as breakwater from '../src/index.js';
import { COCKATIEL_BREAKERS, NEVER, type CockatielBreaker } from './cockatiel.bench.js';
import { FALLBACK_VALUE, IN_FLIGHT, atAppDepth, failing, fallbackValue, gated, inFlightBatch, work, type Scenario, type Subject } from './scenario.js';

type Settings = breakwater.CommandSettings;
type EventType = breakwater.EventType;

/** The largest semaphore breakwater accepts: no benchmark fills it (cockatiel and opossum limit nothing here). */
export const NO_LIMIT = 1_000_000;

/**
 * breakwater doing only what cockatiel's breaker policy does: the breaker and its counts. No timeout (so no deadline
 * and no settleable Promise), no latency histograms, no request log; the semaphore stays (a breakwater command always
 * has one) but is never full.
 */
export const BREAKER_ONLY: Settings = {
  timeout: false,
  metrics: { percentileEnabled: false },
  isolation: 'semaphore',
  maxConcurrent: NO_LIMIT,
  fallbackMaxConcurrent: NO_LIMIT,
  requestLog: false,
};

/**
 * cockatiel's breakers that keep no time-stamped state (they count calls): breakwater keeps no rolling window when
 * configured like them.
 */
const COUNTING_BREAKERS: ReadonlySet<CockatielBreaker['name']> = new Set(['consecutive', 'count']);

/** {@link BREAKER_ONLY} without the rolling window: cumulative counts only (`metrics.rollingWindow: false`). */
export const BREAKER_ONLY_NO_WINDOW: Settings = { ...BREAKER_ONLY, metrics: { percentileEnabled: false, rollingWindow: false } };

/** The trip rule matching each cockatiel breaker, with the same thresholds (`neverOpen`: the failure rows'). */
export const BREAKER_LIKE_COCKATIEL: Record<CockatielBreaker['name'], (neverOpen: boolean) => breakwater.CircuitBreakerOptions> = {
  consecutive: (neverOpen) => ({ strategy: 'consecutive', consecutiveFailures: neverOpen ? NEVER : 5, sleepWindow: 5000 }),
  count: (neverOpen) => ({
    strategy: 'countWindow',
    errorThresholdPercentage: 50,
    windowSize: neverOpen ? NEVER : 100,
    minimumCalls: neverOpen ? NEVER : 100,
    sleepWindow: 5000,
  }),
  // SamplingBreaker's minimum rate (5 failures per second at a 0.5 threshold: 10 calls/s) over its 10 s window is
  // 100 calls; its window is 10 slots of 1 s, as breakwater's default rolling window (10 buckets of 1 s)
  sampling: (neverOpen) => ({
    strategy: 'errorPercentage',
    errorThresholdPercentage: 50,
    requestVolumeThreshold: neverOpen ? Number.MAX_SAFE_INTEGER : 100,
    sleepWindow: 5000,
  }),
};

/** opossum's tuned configuration (bench/opossum.bench.ts TUNED, the other options at opossum's defaults) in breakwater's terms. */
export const LIKE_OPOSSUM_TUNED: Settings = {
  timeout: false, // timeout: false
  metrics: {
    percentileEnabled: false, // rollingPercentilesEnabled: false
    rollingWindow: 10_000, // rollingCountTimeout: 10000
    rollingBuckets: 10, // rollingCountBuckets: 10
  },
  circuitBreaker: {
    errorThresholdPercentage: 50, // errorThresholdPercentage: 50
    requestVolumeThreshold: 0, // volumeThreshold: 0
    sleepWindow: 30_000, // resetTimeout: 30000
  },
  isolation: 'semaphore',
  maxConcurrent: NO_LIMIT, // capacity: Number.MAX_SAFE_INTEGER (opossum's semaphore)
  fallbackMaxConcurrent: NO_LIMIT, // opossum limits no fallback
  requestLog: false, // opossum has none (enableSnapshots: false turns off its periodic snapshot, not per-call work)
};

/** The event counts of a key that prove what happened (cumulative, so the whole child is covered). */
function counts(bw: typeof breakwater, key: string, ...types: EventType[]) {
  return (): Record<string, unknown> => {
    const m = bw.metricsFor(key);
    const out: Record<string, unknown> = { circuit: bw.circuitBreakerFor(key).state };
    for (const t of types) out[t] = m.cumulativeCount(t);
    return out;
  };
}

/** A failure row's guard: the timed calls never short-circuited (the fallback would hide it); its reset between phases. */
function staysClosed(bw: typeof breakwater, key: string): Pick<Subject, 'verify' | 'reset'> {
  return {
    verify() {
      const n = bw.metricsFor(key).cumulativeCount('SHORT_CIRCUITED');
      if (n > 0) throw new Error(`${key}: the circuit opened during the timing (${n} short-circuited calls)`);
    },
    reset: () => bw.circuitBreakerFor(key).reset(),
  };
}

const asyncCall = (call: () => Promise<unknown>): Subject['op'] => ({ kind: 'async', fn: call });

/** What a peer configuration looks like to {@link scenariosLike}. */
interface PeerConfig {
  /** The pair's name in the tables, e.g. `cockatiel ConsecutiveBreaker`. */
  readonly config: string;
  /** The peer's scenario ids, by scenario: `<peerPrefix>success` etc. */
  readonly peerPrefix: string;
  /** How the breakwater rows are titled after the scenario, e.g. `as cockatiel ConsecutiveBreaker`. */
  readonly title: string;
  /** The breakwater settings, in words (for the notes). */
  readonly note: string;
  /** The settings of the success, open and in-flight rows, and of the failure row (whose circuit must never open). */
  settings(neverOpen: boolean): Settings;
}

/** The four breakwater rows configured like one peer configuration, each paired with the peer's row. */
function scenariosLike(p: PeerConfig): Scenario[] {
  const key = (s: string): string => `BenchLike_${p.peerPrefix.replace(/[^A-Za-z0-9]/g, '_')}${s}`;
  const like = (s: string): Scenario['like'] => ({ peer: `${p.peerPrefix}${s}`, config: p.config });
  const id = (s: string): string => `breakwater/like-${p.peerPrefix}${s}`;
  return [
    {
      id: id('success'),
      library: 'breakwater',
      group: 'success',
      title: `success, ${p.title}`,
      note: p.note,
      like: like('success'),
      async setup() {
        const c = breakwater.command({ key: key('success'), run: work, ...p.settings(false) });
        return { op: asyncCall(() => c.execute()), expect: 42, check: counts(breakwater, key('success'), 'SUCCESS', 'FAILURE') };
      },
    },
    {
      id: id('failure'),
      library: 'breakwater',
      group: 'failure',
      title: `failure + fallback, ${p.title}`,
      note: `${p.note}; thresholds out of reach, as the peer's, so the circuit stays closed`,
      reference: 'trycatch',
      like: like('failure'),
      async setup() {
        const c = breakwater.command({ key: key('failure'), run: failing, fallback: fallbackValue, ...p.settings(true) });
        return {
          op: asyncCall(atAppDepth(() => c.execute())),
          expect: FALLBACK_VALUE,
          check: counts(breakwater, key('failure'), 'FAILURE', 'FALLBACK_SUCCESS', 'SHORT_CIRCUITED'),
          ...staysClosed(breakwater, key('failure')),
        };
      },
    },
    {
      id: id('open'),
      library: 'breakwater',
      group: 'open',
      title: `open circuit + fallback, ${p.title}`,
      note: `${p.note}; circuitBreakerFor(key).forceOpen()`,
      like: like('open'),
      async setup() {
        const c = breakwater.command({ key: key('open'), run: work, fallback: fallbackValue, ...p.settings(false) });
        breakwater.circuitBreakerFor(key('open')).forceOpen();
        return {
          op: asyncCall(() => c.execute()),
          expect: FALLBACK_VALUE,
          check: counts(breakwater, key('open'), 'SHORT_CIRCUITED', 'FALLBACK_SUCCESS', 'SUCCESS'),
        };
      },
    },
    {
      id: id('inflight'),
      library: 'breakwater',
      group: 'inflight',
      title: `${IN_FLIGHT.toLocaleString('en')} calls in flight, ${p.title}`,
      note: p.note,
      reference: 'inflight',
      like: like('inflight'),
      async setup() {
        const c = breakwater.command({ key: key('inflight'), run: gated, ...p.settings(false) });
        return {
          op: inFlightBatch(() => c.execute()),
          expect: 42,
          check: counts(breakwater, key('inflight'), 'SUCCESS', 'SEMAPHORE_REJECTED'),
        };
      },
    },
  ];
}

/** The peer configurations breakwater is set up like. */
export const PEER_CONFIGS: readonly PeerConfig[] = [
  ...COCKATIEL_BREAKERS.map((b): PeerConfig => {
    const counting = COUNTING_BREAKERS.has(b.name);
    return {
      config: `cockatiel ${b.title}`,
      peerPrefix: `cockatiel/${b.name}-`,
      title: `as cockatiel ${b.title}${counting ? ', no rolling window' : ''}`,
      note: `timeout false, percentiles off, ${counting ? 'rolling window off (cumulative counts only, as the peer keeps no time window), ' : ''}semaphore ${NO_LIMIT.toLocaleString('en')}, request log off, circuitBreaker ${JSON.stringify(BREAKER_LIKE_COCKATIEL[b.name](false))}`,
      settings: (neverOpen) => ({ ...(counting ? BREAKER_ONLY_NO_WINDOW : BREAKER_ONLY), circuitBreaker: BREAKER_LIKE_COCKATIEL[b.name](neverOpen) }),
    };
  }),
  {
    config: 'opossum tuned',
    peerPrefix: 'opossum/tuned-',
    title: 'as opossum tuned',
    note: `timeout false, percentiles off, errorThresholdPercentage 50, requestVolumeThreshold 0, sleepWindow 30 s, rolling window 10 s / 10, semaphore ${NO_LIMIT.toLocaleString('en')}, request log off`,
    settings: (neverOpen) =>
      neverOpen ? { ...LIKE_OPOSSUM_TUNED, circuitBreaker: { ...LIKE_OPOSSUM_TUNED.circuitBreaker, requestVolumeThreshold: Number.MAX_SAFE_INTEGER } } : LIKE_OPOSSUM_TUNED,
  },
];

/**
 * As cockatiel's ConsecutiveBreaker but keeping breakwater's default rolling window (10 s in 10 buckets): what the
 * window costs on a success, beside the same peer. For reference, not a like-for-like claim.
 */
const withWindow: Scenario = {
  id: 'breakwater/like-cockatiel/consecutive-success-window',
  library: 'breakwater',
  group: 'success',
  title: 'success, as cockatiel ConsecutiveBreaker, with the rolling window',
  note: `timeout false, percentiles off, rolling window 10 s / 10 (the default), semaphore ${NO_LIMIT.toLocaleString('en')}, request log off, circuitBreaker ${JSON.stringify(BREAKER_LIKE_COCKATIEL.consecutive(false))}`,
  like: { peer: 'cockatiel/consecutive-success', config: 'cockatiel ConsecutiveBreaker, breakwater with its rolling window', reference: true },
  async setup() {
    const key = 'BenchLike_cockatiel_consecutive_window_success';
    const c = breakwater.command({ key, run: work, ...BREAKER_ONLY, circuitBreaker: BREAKER_LIKE_COCKATIEL.consecutive(false) });
    return { op: asyncCall(() => c.execute()), expect: 42, check: counts(breakwater, key, 'SUCCESS', 'FAILURE') };
  },
};

export const likeScenarios: Scenario[] = [...PEER_CONFIGS.flatMap(scenariosLike), withWindow];
