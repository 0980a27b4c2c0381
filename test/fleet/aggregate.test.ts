import { beforeAll, describe, expect, it } from 'vitest';
import { command, hystrixDashboardSample, type HystrixCommandJson, type HystrixThreadPoolJson } from '../../src/index.js';
import { aggregateSamples, type FleetObject } from '../../src/fleet/aggregate.js';
import { useFakeClock } from '../../src/testing.js';
import { aggregateFramesInSlices, aggregateInSlices } from '../../src/fleet/sampleFrames.js';
import { countingTurns } from '../support/countingTurns.js';

let commandBase: HystrixCommandJson;
let poolBase: HystrixThreadPoolJson;

/** Real objects of this library's stream, as one instance would send them. */
beforeAll(async () => {
  useFakeClock();
  const c = command({ key: 'Agg.Cmd', group: 'Agg', isolation: 'pool', pool: 'AggPool', run: async () => 1 });
  await c.execute();
  const sample = hystrixDashboardSample();
  commandBase = sample.find((o) => o.type === 'HystrixCommand') as HystrixCommandJson;
  poolBase = sample.find((o) => o.type === 'HystrixThreadPool') as HystrixThreadPoolJson;
});

function cmd(overrides: Partial<Record<keyof HystrixCommandJson, unknown>>): FleetObject {
  return { ...commandBase, ...overrides };
}

function pool(overrides: Partial<Record<keyof HystrixThreadPoolJson, unknown>>): FleetObject {
  return { ...poolBase, ...overrides };
}

/** What the original dashboard does with a command object (hystrixCommand.js convertAllAvg + the template). */
function dashboardView(o: Record<string, unknown>) {
  const hosts = o.reportingHosts as number;
  const open = o.isCircuitBreakerOpen;
  let circuit: string;
  // the template's own loose comparisons
  if ((open as unknown) == hosts) circuit = 'Open';
  else if ((open as unknown) == 0) circuit = 'Closed';
  else if (typeof open === 'object') circuit = `Open ${String((open as Record<string, number>).true)} Closed ${String((open as Record<string, number>).false)}`;
  else circuit = String(open).replace('true', 'Open').replace('false', 'Closed');
  return {
    hosts,
    errorPercentage: Math.round(((o.errorPercentage as number) / hosts) * 10) / 10,
    meanLatency: Math.floor((o.latencyExecute_mean as number) / hosts),
    p99: Math.floor((o.latencyExecute as Record<string, number>)['99']! / hosts),
    ratePerSecond: (o.requestCount as number) / ((o.propertyValue_metricsRollingStatisticalWindowInMilliseconds as number) / 1000),
    circuit,
  };
}

describe('aggregateSamples', () => {
  it('sums counts and gauges of one key across instances and counts the reporting hosts', () => {
    const [merged] = aggregateSamples([
      { id: 'a', objects: [cmd({ rollingCountSuccess: 10, rollingCountFailure: 1, requestCount: 11, errorCount: 1, currentConcurrentExecutionCount: 2 })] },
      { id: 'b', objects: [cmd({ rollingCountSuccess: 20, rollingCountFailure: 0, requestCount: 20, errorCount: 0, currentConcurrentExecutionCount: 3 })] },
      { id: 'c', objects: [cmd({ rollingCountSuccess: 5, rollingCountFailure: 4, requestCount: 9, errorCount: 4, currentConcurrentExecutionCount: 0 })] },
    ]);
    expect(merged).toMatchObject({
      type: 'HystrixCommand',
      name: 'Agg.Cmd',
      group: 'Agg',
      reportingHosts: 3,
      rollingCountSuccess: 35,
      rollingCountFailure: 5,
      requestCount: 40,
      errorCount: 5,
      currentConcurrentExecutionCount: 5,
    });
  });

  it("writes errorPercentage so the dashboard's division shows the fleet's percentage of the summed counts", () => {
    // instance percentages 50% (1 of 2) and 10% (10 of 100): their mean is 30%, the fleet's is 11 of 102 = 10%
    const [merged] = aggregateSamples([
      { id: 'a', objects: [cmd({ requestCount: 2, errorCount: 1, errorPercentage: 50 })] },
      { id: 'b', objects: [cmd({ requestCount: 100, errorCount: 10, errorPercentage: 10 })] },
    ]);
    expect(merged!.errorPercentage).toBe(20);
    expect(dashboardView(merged!).errorPercentage).toBe(10);
  });

  it('sums latencies so the dashboard shows the mean over instances, and does not sum properties', () => {
    const [merged] = aggregateSamples([
      { id: 'a', objects: [cmd({ latencyExecute_mean: 10, latencyExecute: { ...commandBase.latencyExecute, '99': 40 }, propertyValue_metricsRollingStatisticalWindowInMilliseconds: 10_000, requestCount: 100 })] },
      { id: 'b', objects: [cmd({ latencyExecute_mean: 30, latencyExecute: { ...commandBase.latencyExecute, '99': 80 }, propertyValue_metricsRollingStatisticalWindowInMilliseconds: 10_000, requestCount: 50 })] },
    ]);
    expect(merged!.latencyExecute_mean).toBe(40);
    expect((merged!.latencyExecute as Record<string, number>)['99']).toBe(120);
    expect(merged!.propertyValue_metricsRollingStatisticalWindowInMilliseconds).toBe(10_000);
    expect(merged!.propertyValue_circuitBreakerRequestVolumeThreshold).toBe(commandBase.propertyValue_circuitBreakerRequestVolumeThreshold);
    expect(merged!.propertyValue_circuitBreakerForceOpen).toBe(false);
    expect(dashboardView(merged!)).toMatchObject({ meanLatency: 20, p99: 60, ratePerSecond: 15, hosts: 2 });
  });

  it('writes isCircuitBreakerOpen as true/false when all agree and { true, false } when mixed', () => {
    const closed = aggregateSamples([{ id: 'a', objects: [cmd({ isCircuitBreakerOpen: false })] }, { id: 'b', objects: [cmd({ isCircuitBreakerOpen: false })] }])[0]!;
    expect(closed.isCircuitBreakerOpen).toBe(false);
    expect(dashboardView(closed).circuit).toBe('Closed');
    const open = aggregateSamples([
      { id: 'a', objects: [cmd({ isCircuitBreakerOpen: true, circuitState: 'OPEN' })] },
      { id: 'b', objects: [cmd({ isCircuitBreakerOpen: true, circuitState: 'OPEN' })] },
    ])[0]!;
    expect(open.isCircuitBreakerOpen).toBe(true);
    expect(dashboardView(open).circuit).toBe('Open');
    const mixed = aggregateSamples([
      { id: 'a', objects: [cmd({ isCircuitBreakerOpen: true, circuitState: 'OPEN' })] },
      { id: 'b', objects: [cmd({ isCircuitBreakerOpen: false, circuitState: 'CLOSED' })] },
      { id: 'c', objects: [cmd({ isCircuitBreakerOpen: true, circuitState: 'HALF_OPEN' })] },
    ])[0]!;
    expect(mixed.isCircuitBreakerOpen).toEqual({ true: 2, false: 1 });
    expect(dashboardView(mixed).circuit).toBe('Open 2 Closed 1');
    expect(mixed.circuitState).toBe('OPEN');
    expect(mixed.circuitStates).toEqual({ CLOSED: 1, OPEN: 1, HALF_OPEN: 1 });
  });

  it('keeps each instance\'s own error % and state in `instances`', () => {
    const [merged] = aggregateSamples([
      { id: '10.0.0.5:8080/hystrix.stream', objects: [cmd({ requestCount: 4, errorCount: 3, isCircuitBreakerOpen: true, circuitState: 'OPEN' })] },
      { id: '10.0.0.6:8080/hystrix.stream', objects: [cmd({ requestCount: 10, errorCount: 0, isCircuitBreakerOpen: false, circuitState: 'CLOSED' })] },
    ]);
    expect(merged!.instances).toEqual([
      { id: '10.0.0.5:8080/hystrix.stream', reportingHosts: 1, requestCount: 4, errorCount: 3, errorPercentage: 75, openHosts: 1, circuitState: 'OPEN' },
      { id: '10.0.0.6:8080/hystrix.stream', reportingHosts: 1, requestCount: 10, errorCount: 0, errorPercentage: 0, openHosts: 0, circuitState: 'CLOSED' },
    ]);
  });

  it('reads other turbines: reportingHosts, open counts and circuit states add up (tiered aggregation)', () => {
    const lower1 = aggregateSamples([
      { id: 'a', objects: [cmd({ isCircuitBreakerOpen: true, circuitState: 'OPEN', requestCount: 10, errorCount: 10 })] },
      { id: 'b', objects: [cmd({ isCircuitBreakerOpen: false, circuitState: 'CLOSED', requestCount: 10, errorCount: 0 })] },
    ])[0]!;
    const lower2 = aggregateSamples([{ id: 'c', objects: [cmd({ isCircuitBreakerOpen: true, circuitState: 'OPEN', requestCount: 20, errorCount: 20 })] }])[0]!;
    const [top] = aggregateSamples([
      { id: 'turbine-1', objects: [lower1] },
      { id: 'turbine-2', objects: [lower2] },
    ]);
    expect(top).toMatchObject({ reportingHosts: 3, isCircuitBreakerOpen: { true: 2, false: 1 }, requestCount: 40, errorCount: 30, circuitStates: { OPEN: 2, CLOSED: 1, HALF_OPEN: 0 } });
    expect(dashboardView(top!).errorPercentage).toBe(75);
  });

  it('sums pools, and the two pool properties the dashboard divides by reportingHosts', () => {
    const [merged] = aggregateSamples([
      { id: 'a', objects: [pool({ currentActiveCount: 2, rollingCountThreadsExecuted: 30, currentPoolSize: 4, propertyValue_maxQueueSize: -1 })] },
      { id: 'b', objects: [pool({ currentActiveCount: 1, rollingCountThreadsExecuted: 10, currentPoolSize: 3, propertyValue_maxQueueSize: -1 })] },
    ]);
    expect(merged).toMatchObject({
      type: 'HystrixThreadPool',
      name: 'AggPool',
      reportingHosts: 2,
      currentActiveCount: 3,
      rollingCountThreadsExecuted: 40,
      currentPoolSize: 7,
      propertyValue_maxQueueSize: -1,
      propertyValue_queueSizeRejectionThreshold: 2 * poolBase.propertyValue_queueSizeRejectionThreshold,
      propertyValue_metricsRollingStatisticalWindowInMilliseconds: 2 * poolBase.propertyValue_metricsRollingStatisticalWindowInMilliseconds,
    });
    // hystrixThreadPool.js divides both by reportingHosts
    expect(Math.floor((merged!.propertyValue_queueSizeRejectionThreshold as number) / 2)).toBe(poolBase.propertyValue_queueSizeRejectionThreshold);
  });

  it('sums collapsers, keeping their properties', () => {
    const collapser = {
      type: 'HystrixCollapser', name: 'Col', currentTime: 5, rollingCountBatches: 2, rollingCountRequestsBatched: 7,
      batchSize_mean: 3, batchSize: { '50': 3, '99': 5 }, propertyValue_maxRequestsInBatch: 100, reportingHosts: 1,
    };
    const [merged] = aggregateSamples([
      { id: 'a', objects: [collapser] },
      { id: 'b', objects: [{ ...collapser, currentTime: 9, rollingCountBatches: 1 }] },
    ]);
    expect(merged).toEqual({
      type: 'HystrixCollapser', name: 'Col', currentTime: 9, rollingCountBatches: 3, rollingCountRequestsBatched: 14,
      batchSize_mean: 6, batchSize: { '50': 6, '99': 10 }, propertyValue_maxRequestsInBatch: 100, reportingHosts: 2,
    });
  });

  it('keeps keys apart by type and name, orders commands, pools, collapsers, and leaves out what it does not know', () => {
    const out = aggregateSamples([
      { id: 'a', objects: [pool({ name: 'X' }), cmd({ name: 'X' }), { type: 'TurbineInstances', instances: [] }, { type: 'HystrixCommand' }, cmd({ name: 'Y' })] },
      { id: 'b', objects: [cmd({ name: 'Y' })] },
    ]);
    expect(out.map((o) => `${String(o.type)}:${String(o.name)}:${String(o.reportingHosts)}`)).toEqual([
      'HystrixCommand:X:1',
      'HystrixCommand:Y:2',
      'HystrixThreadPool:X:1',
    ]);
  });

  it('gives every field the original dashboard asserts, as numbers and booleans, and does not change its inputs', () => {
    const a = cmd({ rollingCountSuccess: 1 });
    const copy = structuredClone(a);
    const [merged] = aggregateSamples([{ id: 'a', objects: [a] }, { id: 'b', objects: [cmd({})] }]);
    expect(a).toEqual(copy);
    for (const [key, value] of Object.entries(commandBase)) {
      if (key === 'isCircuitBreakerOpen' || key === 'circuitState') continue;
      expect(typeof merged![key], key).toBe(typeof value);
    }
    expect(merged!.latencyExecute).not.toBe(a.latencyExecute);
  });

  it('gives nothing for no instances, and one instance passes through with its own figures', () => {
    expect(aggregateSamples([])).toEqual([]);
    const one = cmd({ requestCount: 8, errorCount: 2, errorPercentage: 25 });
    const [merged] = aggregateSamples([{ id: 'a', objects: [one] }]);
    for (const [key, value] of Object.entries(one)) {
      if (key === 'instances' || key === 'circuitStates') continue;
      expect(merged![key], key).toEqual(value);
    }
  });
});

describe('aggregateInSlices (the cluster primary\'s stream)', () => {
  it('gives what aggregateSamples gives, in the same order, over several event-loop turns', async () => {
    const instances = [0, 1, 2].map((i) => ({
      id: `worker ${i}`,
      objects: [
        ...Array.from({ length: 40 }, (_, k) => cmd({ name: `K${(k * (i + 1)) % 50}`, requestCount: k + i, errorCount: k % 3, isCircuitBreakerOpen: k % 7 === i })),
        pool({ name: `P${i % 2}`, currentActiveCount: i }),
        { type: 'Unknown', name: 'x' },
      ],
    }));
    const { value, turns } = await countingTurns(
      () => new Promise<Record<string, unknown>[]>((resolve, reject) => aggregateInSlices(instances, (e, out) => (e === undefined ? resolve(out!) : reject(e)), { maxPerSlice: 7 })),
    );
    expect(value).toEqual(aggregateSamples(instances));
    expect(value.map((o) => o.name)).toEqual(aggregateSamples(instances).map((o) => o.name));
    expect(turns).toBeGreaterThan((3 * 42 + 52) / 7 - 2);
  });

  it('passes an error on instead of throwing', async () => {
    const bad = { id: 'w', objects: [cmd({ name: 'A' }), Object.defineProperty(cmd({ name: 'B' }), 'requestCount', { enumerable: true, get: () => { throw new Error('boom'); } })] };
    const error = await new Promise((resolve) => aggregateInSlices([bad], (e) => resolve(e)));
    expect(error).toEqual(new Error('boom'));
  });

  it('as stream frames: the same text, joined into pieces of whole frames as it goes, over several turns', async () => {
    const instances = [0, 1].map((i) => ({
      id: `worker ${i}`,
      objects: Array.from({ length: 60 }, (_, k) => cmd({ name: `F${k}`, requestCount: k + i })),
    }));
    const { value: pieces, turns } = await countingTurns(
      () =>
        new Promise<readonly string[]>((resolve, reject) =>
          aggregateFramesInSlices(instances, (e, out) => (e === undefined ? resolve(out!) : reject(e)), { maxPerSlice: 7 }),
        ),
    );
    const expected = aggregateSamples(instances).map((o) => `data: ${JSON.stringify(o)}\n\n`).join('');
    expect(pieces.join('')).toBe(expected);
    for (const p of pieces) expect(p.startsWith('data: {') && p.endsWith('}\n\n')).toBe(true);
    // 120 objects added, then 60 frames made, at most 7 steps per turn
    expect(turns).toBeGreaterThan((120 + 60) / 7 - 2);
  });
});
