/**
 * cockatiel 4.0.0. Its circuit breaker policy alone, with each of its three breakers (the like-for-like rows of
 * issue 19; breakwater configured to do the same work is in bench/like.bench.ts):
 * - `ConsecutiveBreaker(5)`: opens after 5 failures in a row;
 * - `CountBreaker({ threshold: 0.5, size: 100 })`: over 50% of the last 100 calls failed (once 100 were seen);
 * - `SamplingBreaker({ threshold: 0.5, duration: 10 s })`: over 50% failed in a rolling 10 s window of 1 s slots, once
 *   the window saw its minimum rate (5 failures per second at 50%: 100 calls in 10 s), the Hystrix-like rule.
 * All half-open after 5 s. "timeout+bulkhead+breaker" wraps the sampling breaker the way a Hystrix command is built:
 * timeout(1000 ms, cooperative) → bulkhead(10) → breaker. Fallbacks are a fallback policy around the rest.
 */
import { FALLBACK_VALUE, IN_FLIGHT, atAppDepth, failing, fallbackValue, gated, inFlightBatch, work, type Scenario, type Subject } from './scenario.js';

type Cockatiel = typeof import('cockatiel');
type Breaker = InstanceType<Cockatiel['ConsecutiveBreaker']> | InstanceType<Cockatiel['CountBreaker']> | InstanceType<Cockatiel['SamplingBreaker']>;

/** A threshold out of reach of a benchmark child (the failure rows keep the circuit closed). */
export const NEVER = 1_000_000;

/** One of cockatiel's breakers, as the rows use it; `neverOpen` for the failure rows. */
export interface CockatielBreaker {
  /** Part of the scenario ids: `cockatiel/<name>-success`. */
  readonly name: 'consecutive' | 'count' | 'sampling';
  /** How the rows name it. */
  readonly title: string;
  /** The breaker's constructor call, for the notes. */
  readonly note: string;
  /** The same with thresholds out of reach (the failure rows). */
  readonly neverOpenNote: string;
  make(c: Cockatiel, neverOpen: boolean): Breaker;
}

export const COCKATIEL_BREAKERS: readonly CockatielBreaker[] = [
  {
    name: 'consecutive',
    title: 'ConsecutiveBreaker',
    note: 'new ConsecutiveBreaker(5)',
    neverOpenNote: `new ConsecutiveBreaker(${NEVER.toLocaleString('en')})`,
    make: (c, neverOpen) => new c.ConsecutiveBreaker(neverOpen ? NEVER : 5),
  },
  {
    name: 'count',
    title: 'CountBreaker',
    note: 'new CountBreaker({ threshold: 0.5, size: 100 })',
    neverOpenNote: `new CountBreaker({ threshold: 0.5, size: ${NEVER.toLocaleString('en')} })`,
    make: (c, neverOpen) => new c.CountBreaker({ threshold: 0.5, size: neverOpen ? NEVER : 100 }),
  },
  {
    name: 'sampling',
    title: 'SamplingBreaker',
    note: 'new SamplingBreaker({ threshold: 0.5, duration: 10_000 })',
    neverOpenNote: 'new SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: MAX_SAFE_INTEGER })',
    make: (c, neverOpen) =>
      new c.SamplingBreaker({ threshold: 0.5, duration: 10_000, ...(neverOpen ? { minimumRps: Number.MAX_SAFE_INTEGER } : {}) }),
  },
];

function policy(c: Cockatiel, b: CockatielBreaker, neverOpen = false) {
  return c.circuitBreaker(c.handleAll, { halfOpenAfter: 5000, breaker: b.make(c, neverOpen) });
}

const call = (p: { execute(fn: () => Promise<number>): Promise<unknown> }, fn: () => Promise<number>): Subject['op'] => ({
  kind: 'async',
  fn: () => p.execute(fn),
});

/** The four rows of one breaker: success, failure + fallback, open + fallback, 1,000 in flight. */
function breakerScenarios(b: CockatielBreaker): Scenario[] {
  const id = (scenario: string): string => `cockatiel/${b.name}-${scenario}`;
  return [
    {
      id: id('success'),
      library: 'cockatiel',
      group: 'success',
      title: `success, ${b.title}`,
      note: `circuitBreaker(handleAll, { breaker: ${b.note}, halfOpenAfter: 5000 })`,
      async setup() {
        const c = await import('cockatiel');
        const p = policy(c, b);
        return { op: call(p, work), expect: 42, check: () => ({ state: p.state }) };
      },
    },
    {
      id: id('failure'),
      library: 'cockatiel',
      group: 'failure',
      title: `failure + fallback, ${b.title}`,
      note: `wrap(fallback(handleAll, fn), circuitBreaker(handleAll, { breaker: ${b.neverOpenNote} })): the circuit stays closed`,
      reference: 'trycatch',
      async setup() {
        const c = await import('cockatiel');
        // a fresh policy after the timing and after the memory phase: a long child on a fast Node reaches the
        // thresholds of 1,000,000 calls (breakwater's failure rows reset their circuit alike)
        const make = () => {
          const p = policy(c, b, true);
          return { p, withFallback: c.wrap(c.fallback(c.handleAll, fallbackValue), p) };
        };
        let current = make();
        return {
          op: { kind: 'async', fn: atAppDepth(() => current.withFallback.execute(failing)) },
          expect: FALLBACK_VALUE,
          check: () => ({ state: current.p.state }),
          verify() {
            if (current.p.state !== c.CircuitState.Closed) throw new Error(`${id('failure')}: the circuit opened during the timing`);
          },
          reset() {
            current = make();
          },
        };
      },
    },
    {
      id: id('open'),
      library: 'cockatiel',
      group: 'open',
      title: `open circuit + fallback, ${b.title}`,
      note: 'breaker.isolate(): every call throws an IsolatedCircuitError that the fallback policy handles',
      async setup() {
        const c = await import('cockatiel');
        const p = policy(c, b);
        p.isolate();
        const withFallback = c.wrap(c.fallback(c.handleAll, fallbackValue), p);
        return { op: call(withFallback, work), expect: FALLBACK_VALUE, check: () => ({ state: p.state }) };
      },
    },
    {
      id: id('inflight'),
      library: 'cockatiel',
      group: 'inflight',
      title: `${IN_FLIGHT.toLocaleString('en')} calls in flight, ${b.title}`,
      reference: 'inflight',
      async setup() {
        const c = await import('cockatiel');
        const p = policy(c, b);
        return { op: inFlightBatch(() => p.execute(gated)), expect: 42, check: () => ({ state: p.state }) };
      },
    },
  ];
}

export const cockatielScenarios: Scenario[] = [
  ...COCKATIEL_BREAKERS.flatMap(breakerScenarios),
  {
    id: 'cockatiel/success-full',
    library: 'cockatiel',
    group: 'success',
    title: 'success, timeout+bulkhead+breaker',
    note: 'wrap(timeout(1000, Cooperative), bulkhead(10), circuitBreaker(SamplingBreaker)): an AbortController and a timer per call',
    quick: false,
    async setup() {
      const c = await import('cockatiel');
      const p = policy(c, COCKATIEL_BREAKERS[2]!);
      const full = c.wrap(c.timeout(1000, c.TimeoutStrategy.Cooperative), c.bulkhead(10), p);
      return { op: call(full, work), expect: 42, check: () => ({ state: p.state }) };
    },
  },
];
