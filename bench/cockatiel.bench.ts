/**
 * cockatiel 4.0.0. "breaker" is a circuit breaker policy alone with a SamplingBreaker (the Hystrix-like rule: a
 * failure ratio over a rolling window); "timeout+bulkhead+breaker" wraps it the way a Hystrix command is built:
 * timeout(1000 ms, cooperative) → bulkhead(10) → breaker. Fallbacks are a fallback policy around the rest.
 */
import { FALLBACK_VALUE, IN_FLIGHT, atAppDepth, failing, fallbackValue, gated, inFlightBatch, work, type Scenario, type Subject } from './scenario.js';

type Cockatiel = typeof import('cockatiel');

/** The Hystrix-like breaker: opens at 50% failures over 10 s, half-open after 5 s. */
function samplingBreaker(c: Cockatiel, minimumRps?: number) {
  return c.circuitBreaker(c.handleAll, {
    halfOpenAfter: 5000,
    breaker: new c.SamplingBreaker({ threshold: 0.5, duration: 10_000, ...(minimumRps === undefined ? {} : { minimumRps }) }),
  });
}

const call = (p: { execute(fn: () => Promise<number>): Promise<unknown> }, fn: () => Promise<number>): Subject['op'] => ({
  kind: 'async',
  fn: () => p.execute(fn),
});

export const cockatielScenarios: Scenario[] = [
  {
    id: 'cockatiel/success-breaker',
    library: 'cockatiel',
    group: 'success',
    title: 'success, breaker only',
    note: 'circuitBreaker(handleAll, SamplingBreaker 50% / 10 s)',
    async setup() {
      const c = await import('cockatiel');
      const b = samplingBreaker(c);
      return { op: call(b, work), expect: 42, check: () => ({ state: b.state }) };
    },
  },
  {
    id: 'cockatiel/success-full',
    library: 'cockatiel',
    group: 'success',
    title: 'success, timeout+bulkhead+breaker',
    note: 'wrap(timeout(1000, Cooperative), bulkhead(10), breaker): an AbortController and a timer per call',
    async setup() {
      const c = await import('cockatiel');
      const b = samplingBreaker(c);
      const policy = c.wrap(c.timeout(1000, c.TimeoutStrategy.Cooperative), c.bulkhead(10), b);
      return { op: call(policy, work), expect: 42, check: () => ({ state: b.state }) };
    },
  },
  {
    id: 'cockatiel/failure-fallback',
    library: 'cockatiel',
    group: 'failure',
    title: 'failure + fallback, breaker only',
    note: 'wrap(fallback(handleAll, fn), breaker) with minimumRps so high that the circuit stays closed',
    reference: 'trycatch',
    async setup() {
      const c = await import('cockatiel');
      const b = samplingBreaker(c, Number.MAX_SAFE_INTEGER);
      const policy = c.wrap(c.fallback(c.handleAll, fallbackValue), b);
      return { op: { kind: 'async', fn: atAppDepth(() => policy.execute(failing)) }, expect: FALLBACK_VALUE, check: () => ({ state: b.state }) };
    },
  },
  {
    id: 'cockatiel/open-fallback',
    library: 'cockatiel',
    group: 'open',
    title: 'open circuit + fallback, breaker only',
    note: 'breaker.isolate(): every call throws an IsolatedCircuitError that the fallback policy handles',
    async setup() {
      const c = await import('cockatiel');
      const b = samplingBreaker(c);
      b.isolate();
      const policy = c.wrap(c.fallback(c.handleAll, fallbackValue), b);
      return { op: call(policy, work), expect: FALLBACK_VALUE, check: () => ({ state: b.state }) };
    },
  },
  {
    id: 'cockatiel/inflight',
    library: 'cockatiel',
    group: 'inflight',
    title: `${IN_FLIGHT.toLocaleString('en')} calls in flight, breaker only`,
    reference: 'inflight',
    async setup() {
      const c = await import('cockatiel');
      const b = samplingBreaker(c);
      return { op: inFlightBatch(() => b.execute(gated)), expect: 42, check: () => ({ state: b.state }) };
    },
  },
];
