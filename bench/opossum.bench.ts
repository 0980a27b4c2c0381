/**
 * opossum 10.0.0, the most used Node circuit breaker. "defaults" is `new CircuitBreaker(fn)`: a 10 s timeout
 * (one setTimeout per call), rolling percentiles and snapshots on. "tuned" turns off what costs the most —
 * the per-call timeout timer, percentiles and snapshots — which also means it has no timeout at all, so it does
 * less than breakwater's defaults; the tuned rows are the peer side of a like-for-like pair (issue 19; breakwater
 * configured to match is in bench/like.bench.ts).
 */
import { FALLBACK_VALUE, IN_FLIGHT, atAppDepth, failing, fallbackValue, gated, inFlightBatch, work, type Scenario, type Subject } from './scenario.js';

type Options = NonNullable<ConstructorParameters<typeof import('opossum').default>[1]>;

async function breaker(action: () => Promise<number>, options: Options = {}) {
  const { default: CircuitBreaker } = await import('opossum');
  return new CircuitBreaker(action, options);
}

/** opossum's tuned configuration (the like-for-like pair's peer). */
export const TUNED: Options = { timeout: false, rollingPercentilesEnabled: false, enableSnapshots: false };
/** volumeThreshold so high that a run of failures never opens the circuit (the failure scenarios measure failures). */
const NEVER_OPEN: Options = { volumeThreshold: Number.MAX_SAFE_INTEGER };

function stats(b: { stats: Record<string, number>; opened: boolean }, ...keys: string[]) {
  return (): Record<string, unknown> => {
    const out: Record<string, unknown> = { opened: b.opened };
    for (const k of keys) out[k] = b.stats[k];
    return out;
  };
}

const call = (b: { fire(): Promise<unknown> }): Subject['op'] => ({ kind: 'async', fn: () => b.fire() });

export const opossumScenarios: Scenario[] = [
  {
    id: 'opossum/success',
    library: 'opossum',
    group: 'success',
    title: 'success, defaults',
    note: 'new CircuitBreaker(fn): timeout 10 s (a setTimeout per call), percentiles and snapshots on',
    async setup() {
      const b = await breaker(work);
      return { op: call(b), expect: 42, check: stats(b, 'successes', 'failures') };
    },
  },
  {
    id: 'opossum/tuned-success',
    library: 'opossum',
    group: 'success',
    title: 'success, tuned',
    note: 'timeout false, rollingPercentilesEnabled false, enableSnapshots false (no timeout at all)',
    async setup() {
      const b = await breaker(work, TUNED);
      return { op: call(b), expect: 42, check: stats(b, 'successes') };
    },
  },
  {
    id: 'opossum/tuned-failure',
    library: 'opossum',
    group: 'failure',
    title: 'failure + fallback, tuned',
    note: 'tuned + volumeThreshold MAX_SAFE_INTEGER so the circuit stays closed',
    reference: 'trycatch',
    async setup() {
      const b = await breaker(failing, { ...TUNED, ...NEVER_OPEN });
      b.fallback(fallbackValue);
      return { op: { kind: 'async', fn: atAppDepth(() => b.fire()) }, expect: FALLBACK_VALUE, check: stats(b, 'failures', 'fallbacks', 'rejects') };
    },
  },
  {
    id: 'opossum/tuned-open',
    library: 'opossum',
    group: 'open',
    title: 'open circuit + fallback, tuned',
    note: 'tuned, breaker.open(); opossum builds an Error per rejected call, fallback or not',
    async setup() {
      const b = await breaker(work, TUNED);
      b.fallback(fallbackValue);
      b.open();
      return { op: call(b), expect: FALLBACK_VALUE, check: stats(b, 'rejects', 'fallbacks', 'successes') };
    },
  },
  {
    id: 'opossum/tuned-inflight',
    library: 'opossum',
    group: 'inflight',
    title: `${IN_FLIGHT.toLocaleString('en')} calls in flight, tuned`,
    reference: 'inflight',
    async setup() {
      const b = await breaker(gated, TUNED);
      return { op: inFlightBatch(() => b.fire()), expect: 42, check: stats(b, 'successes') };
    },
  },
  {
    id: 'opossum/failure-fallback',
    library: 'opossum',
    group: 'failure',
    title: 'failure + fallback, defaults',
    note: 'defaults + volumeThreshold MAX_SAFE_INTEGER so the circuit stays closed',
    reference: 'trycatch',
    async setup() {
      const b = await breaker(failing, NEVER_OPEN);
      b.fallback(fallbackValue);
      return { op: { kind: 'async', fn: atAppDepth(() => b.fire()) }, expect: FALLBACK_VALUE, check: stats(b, 'failures', 'fallbacks', 'rejects') };
    },
  },
  {
    id: 'opossum/open-fallback',
    library: 'opossum',
    group: 'open',
    title: 'open circuit + fallback, defaults',
    note: 'breaker.open(); opossum builds an Error per rejected call, fallback or not',
    async setup() {
      const b = await breaker(work);
      b.fallback(fallbackValue);
      b.open();
      return { op: call(b), expect: FALLBACK_VALUE, check: stats(b, 'rejects', 'fallbacks', 'successes') };
    },
  },
  {
    id: 'opossum/inflight',
    library: 'opossum',
    group: 'inflight',
    title: `${IN_FLIGHT.toLocaleString('en')} calls in flight, defaults`,
    reference: 'inflight',
    async setup() {
      const b = await breaker(gated);
      return { op: inFlightBatch(() => b.fire()), expect: 42, check: stats(b, 'successes', 'timeouts') };
    },
  },
];
