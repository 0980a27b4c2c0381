import { describe, expect, it } from 'vitest';
import { retryDelayMs, SseParser } from '../../src/dashboard/page/client/sse.js';
import { fmtCount, fmtMs, fmtRate } from '../../src/dashboard/page/client/format.js';
import { mergeCommands, openHostsOf, readCommand, stateText } from '../../src/dashboard/page/client/model.js';

const command = (over: Record<string, unknown>) => ({
  type: 'HystrixCommand', name: 'GetUser', group: 'Users', requestCount: 100, errorCount: 10, errorPercentage: 10,
  rollingCountSuccess: 90, rollingCountFailure: 10, isCircuitBreakerOpen: false, reportingHosts: 1,
  latencyExecute: { '50': 10, '90': 20, '99': 40 }, latencyExecute_mean: 12,
  propertyValue_metricsRollingStatisticalWindowInMilliseconds: 10000, ...over,
});

describe('the dashboard page client, outside the browser', () => {
  it('splits Server-Sent Events across chunks, CRLF or LF, skipping pings, comments and other fields', () => {
    const p = new SseParser();
    expect(p.push('data: {"a":')).toEqual([]);
    expect(p.push('1}\n')).toEqual([]);
    expect(p.push('\nping: \n\n: comment\n\nevent: x\r\ndata:{"b":2}\r\n\r\ndata: 1\ndata: 2\n\n')).toEqual(['{"a":1}', '{"b":2}', '1\n2']);
    expect(p.push('data: tail')).toEqual([]);
    expect(p.push('\n\n')).toEqual(['tail']);
  });

  it('backs off 1, 2, 4, 8 s, then 10 s at most, with ±20 % jitter', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => retryDelayMs(n, 0.5))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
    expect(retryDelayMs(1, 0)).toBe(800);
    expect(retryDelayMs(20, 1)).toBe(12000);
  });

  it('formats counts, rates and milliseconds compactly', () => {
    expect([fmtCount(1234), fmtCount(12_345), fmtCount(2_500_000)]).toEqual(['1,234', '12.3k', '2.5M']);
    expect([fmtRate(0), fmtRate(2), fmtRate(42)]).toEqual(['0', '2.0', '42']);
    expect([fmtMs(1.5), fmtMs(2), fmtMs(42.4), fmtMs(350.6), fmtMs(12_000)]).toEqual(['1.5', '2', '42', '351', '12.0s']);
  });

  it('reads isCircuitBreakerOpen as Turbine writes it: a boolean, or { true: n, false: m } when hosts disagree', () => {
    expect([openHostsOf(true, 5), openHostsOf(false, 5), openHostsOf({ true: 2, false: 3 }, 5), openHostsOf({ false: 5 }, 5)]).toEqual([5, 0, 2, 0]);
    const mixed = readCommand(command({ reportingHosts: 5, isCircuitBreakerOpen: { true: 2, false: 3 } }));
    expect(stateText(mixed)).toBe('Open on 2 of 5 hosts');
    expect(stateText(readCommand(command({ reportingHosts: 5, isCircuitBreakerOpen: true })))).toBe('Open');
    expect(stateText(readCommand(command({ reportingHosts: 5 })))).toBe('Closed');
    // One host: breakwater's circuitState tells Half-open apart.
    expect(stateText(readCommand(command({ circuitState: 'HALF_OPEN', isCircuitBreakerOpen: true })))).toBe('Half-open');
  });

  it('divides a Turbine stream\'s summed error percentage and latencies by reportingHosts, keeps counts as sums', () => {
    const d = readCommand(command({ reportingHosts: 4, requestCount: 400, errorPercentage: 100, latencyExecute: { '50': 40, '90': 80, '99': 160 }, latencyExecute_mean: 48 }));
    expect([d.errorPct, d.p50, d.p90, d.p99, d.mean, d.requests, d.rate]).toEqual([25, 10, 20, 40, 12, 400, 40]);
  });

  it('reads rollingCountLoadShed (0 from a stream without it) and the adaptive limit with the calls in flight, summed across instances', () => {
    const a = readCommand(command({ rollingCountLoadShed: 4, propertyValue_executionIsolationAdaptiveAlgorithm: 'vegas', propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: 26, currentConcurrentExecutionCount: 9 }));
    const b = readCommand(command({ rollingCountLoadShed: 1, propertyValue_executionIsolationAdaptiveAlgorithm: 'vegas', propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: 30, currentConcurrentExecutionCount: 2 }));
    expect([a.loadShed, a.adaptive, a.limit, a.inFlight]).toEqual([4, 'vegas', 26, 9]);
    expect(readCommand(command({})).loadShed).toBe(0);
    const m = mergeCommands([a, b]);
    expect([m.loadShed, m.inFlight]).toEqual([5, 11]);
  });

  it('reads rollingCountRetry and rollingCountHedge (0 from a stream without them) and sums them across instances', () => {
    const a = readCommand(command({ rollingCountRetry: 3, rollingCountHedge: 1 }));
    const b = readCommand(command({}));
    expect([a.retries, a.hedges, b.retries, b.hedges]).toEqual([3, 1, 0, 0]);
    const m = mergeCommands([a, readCommand(command({ rollingCountRetry: 2 }))]);
    expect([m.retries, m.hedges]).toEqual([5, 1]);
  });

  it('merges instances: counts summed, error % from the summed counts, hosts counted, mixed state kept', () => {
    const a = readCommand(command({ requestCount: 50, errorCount: 40, errorPercentage: 80, isCircuitBreakerOpen: true, circuitState: 'OPEN' }));
    const b = readCommand(command({ requestCount: 50, errorCount: 5, errorPercentage: 10 }));
    const c = readCommand(command({ requestCount: 100, errorCount: 3, errorPercentage: 3, latencyExecute: { '50': 4, '90': 8, '99': 16 } }));
    const m = mergeCommands([a, b, c]);
    expect([m.hosts, m.openHosts, m.requests, m.errors, m.errorPct, m.rate]).toEqual([3, 1, 200, 48, 24, 20]);
    expect(stateText(m)).toBe('Open on 1 of 3 hosts');
    expect(m.p90).toBeCloseTo((20 + 20 + 8) / 3);
    expect(stateText(mergeCommands([b, c]))).toBe('Closed');
    const half = readCommand(command({ circuitState: 'HALF_OPEN', isCircuitBreakerOpen: true }));
    expect(stateText(mergeCommands([half, b]))).toBe('Half-open on 1 of 2 hosts');
    expect(mergeCommands([b])).toBe(b);
    expect(() => mergeCommands([])).toThrow(RangeError);
  });

  it('says a breaker\'s trip rule in words when it is not Hystrix\'s default one', () => {
    expect(readCommand(command({})).rule).toBe('');
    expect(
      readCommand(
        command({
          propertyValue_circuitBreakerStrategy: 'consecutive', propertyValue_circuitBreakerConsecutiveFailures: 5,
          propertyValue_circuitBreakerHalfOpenSuccessThreshold: 3, propertyValue_circuitBreakerHalfOpenPermittedCalls: 3,
        }),
      ).rule,
    ).toBe('opens after 5 failures in a row, closes after 3 good trials');
  });
});
