import { beforeEach, describe, expect, it } from 'vitest';
import {
  circuitBreakerFor,
  command,
  hystrixDashboardSample,
  poolFor,
  registerCollapserSource,
  toHystrixCollapser,
  type CollapserSnapshot,
  type HystrixCommandJson,
  type HystrixThreadPoolJson,
} from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

/** What the stock Hystrix Dashboard 1.5 asserts (hystrixCommand.js validateData) plus `type`. */
const DASHBOARD_COMMAND_FIELDS = [
  'type', 'name', 'group', 'isCircuitBreakerOpen', 'errorPercentage', 'errorCount', 'requestCount',
  'rollingCountCollapsedRequests', 'rollingCountExceptionsThrown', 'rollingCountFailure', 'rollingCountFallbackFailure',
  'rollingCountFallbackRejection', 'rollingCountFallbackSuccess', 'rollingCountResponsesFromCache',
  'rollingCountSemaphoreRejected', 'rollingCountShortCircuited', 'rollingCountSuccess', 'rollingCountThreadPoolRejected',
  'rollingCountTimeout', 'rollingCountBadRequests', 'currentConcurrentExecutionCount', 'latencyExecute_mean',
  'latencyExecute', 'propertyValue_circuitBreakerRequestVolumeThreshold',
  'propertyValue_circuitBreakerSleepWindowInMilliseconds', 'propertyValue_circuitBreakerErrorThresholdPercentage',
  'propertyValue_circuitBreakerForceOpen', 'propertyValue_circuitBreakerForceClosed',
  'propertyValue_executionIsolationStrategy', 'propertyValue_executionIsolationThreadTimeoutInMilliseconds',
  'propertyValue_executionIsolationThreadInterruptOnTimeout',
  'propertyValue_executionIsolationSemaphoreMaxConcurrentRequests',
  'propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests', 'propertyValue_requestCacheEnabled',
  'propertyValue_requestLogEnabled', 'propertyValue_metricsRollingStatisticalWindowInMilliseconds', 'reportingHosts',
] as const;

/** Also emitted by Hystrix 1.5's serialiser (Turbine sums them). */
const HYSTRIX_EXTRA_COMMAND_FIELDS = [
  'currentTime', 'rollingCountEmit', 'rollingCountFallbackEmit', 'rollingCountFallbackMissing',
  'rollingMaxConcurrentExecutionCount', 'latencyTotal_mean', 'latencyTotal', 'propertyValue_circuitBreakerEnabled',
  'propertyValue_executionTimeoutInMilliseconds', 'propertyValue_executionIsolationThreadPoolKeyOverride', 'threadPool',
] as const;

const COMMAND_BOOLEANS = [
  'isCircuitBreakerOpen', 'propertyValue_circuitBreakerForceOpen', 'propertyValue_circuitBreakerForceClosed',
  'propertyValue_circuitBreakerEnabled', 'propertyValue_executionIsolationThreadInterruptOnTimeout',
  'propertyValue_requestCacheEnabled', 'propertyValue_requestLogEnabled', 'propertyValue_executionTimeoutEnabled',
] as const;
const COMMAND_STRINGS = ['type', 'name', 'group', 'propertyValue_executionIsolationStrategy',
  'propertyValue_executionIsolationThreadPoolKeyOverride', 'threadPool', 'circuitState', 'propertyValue_circuitBreakerStrategy', 'propertyValue_executionIsolationAdaptiveAlgorithm'] as const;
const COMMAND_OBJECTS = ['latencyExecute', 'latencyTotal'] as const;
const LATENCY_KEYS = ['0', '25', '50', '75', '90', '95', '99', '99.5', '100'];

/** hystrixThreadPool.js validateData, plus the two optional ones Hystrix also sends. */
const DASHBOARD_POOL_FIELDS = [
  'type', 'name', 'currentActiveCount', 'currentCompletedTaskCount', 'currentCorePoolSize', 'currentLargestPoolSize',
  'currentMaximumPoolSize', 'currentPoolSize', 'currentQueueSize', 'currentTaskCount', 'rollingCountThreadsExecuted',
  'rollingMaxActiveThreads', 'reportingHosts', 'propertyValue_queueSizeRejectionThreshold',
  'propertyValue_metricsRollingStatisticalWindowInMilliseconds',
] as const;
const HYSTRIX_EXTRA_POOL_FIELDS = ['currentTime', 'rollingCountCommandRejections'] as const;

/** Hystrix 1.5 SerialHystrixDashboardData.writeCollapserMetrics. */
const COLLAPSER_FIELDS = [
  'type', 'name', 'currentTime', 'rollingCountRequestsBatched', 'rollingCountBatches', 'rollingCountResponsesFromCache',
  'batchSize_mean', 'batchSize', 'propertyValue_requestCacheEnabled', 'propertyValue_maxRequestsInBatch',
  'propertyValue_timerDelayInMilliseconds', 'reportingHosts',
] as const;

function expectWellTyped(object: Record<string, unknown>, booleans: readonly string[], strings: readonly string[], objects: readonly string[]): void {
  for (const [key, value] of Object.entries(object)) {
    expect(value, key).not.toBeNull();
    expect(value, key).not.toBeUndefined();
    if (booleans.includes(key)) expect(typeof value, key).toBe('boolean');
    else if (strings.includes(key)) expect(typeof value, key).toBe('string');
    else if (objects.includes(key)) {
      expect(typeof value, key).toBe('object');
      for (const v of Object.values(value as object)) expect(Number.isInteger(v), key).toBe(true);
    } else {
      expect(typeof value, key).toBe('number');
      expect(Number.isInteger(value), `${key} = ${String(value)}`).toBe(true);
    }
  }
}

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

function commandObject(name: string): HystrixCommandJson {
  const found = hystrixDashboardSample().find((o) => o.type === 'HystrixCommand' && o.name === name);
  expect(found, name).toBeDefined();
  return found as HystrixCommandJson;
}

describe('toHystrixCommand', () => {
  it('carries every field the Hystrix Dashboard and Turbine read, as JSON booleans, strings and integers', async () => {
    const ok = command({ key: 'Json.Ok', group: 'G', run: async () => 1 });
    await ok.execute();
    const o = commandObject('Json.Ok') as unknown as Record<string, unknown>;
    for (const f of [...DASHBOARD_COMMAND_FIELDS, ...HYSTRIX_EXTRA_COMMAND_FIELDS]) expect(o, f).toHaveProperty(f);
    expectWellTyped(o, COMMAND_BOOLEANS, COMMAND_STRINGS, COMMAND_OBJECTS);
    expect(Object.keys(o.latencyExecute as object).sort()).toEqual([...LATENCY_KEYS].sort());
    expect(Object.keys(o.latencyTotal as object).sort()).toEqual([...LATENCY_KEYS].sort());
    expect(o.reportingHosts).toBe(1);
    expect(o.currentTime).toBe(clock.wallTime());
    // serialises to an object (the dashboard ignores arrays) with no null anywhere
    const text = JSON.stringify(o);
    expect(text.startsWith('{')).toBe(true);
    expect(text).not.toContain('null');
  });

  it('reports rolling counts, health and the Hystrix property values of the command', async () => {
    const c = command({
      key: 'Json.Counts',
      group: 'Grp',
      timeout: 100,
      maxConcurrent: 7,
      fallbackMaxConcurrent: 3,
      requestCache: false,
      circuitBreaker: { requestVolumeThreshold: 4, sleepWindow: 2000, errorThresholdPercentage: 40 },
      metrics: { rollingWindow: 5000, rollingBuckets: 5 },
      run: async (mode: string, { signal }) => {
        if (mode === 'fail') throw new Error('boom');
        if (mode === 'hang') return new Promise<number>((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        return 1;
      },
      fallback: () => 0,
    });
    await c.execute('ok');
    await c.execute('ok');
    await c.execute('fail');
    const hung = c.execute('hang');
    clock.advance(100);
    await hung;
    await new Promise((resolve) => setImmediate(resolve)); // the aborted run settles
    clock.advance(500); // a health snapshot is due
    const o = commandObject('Json.Counts');
    expect(o).toMatchObject({
      type: 'HystrixCommand',
      name: 'Json.Counts',
      group: 'Grp',
      rollingCountSuccess: 2,
      rollingCountFailure: 1,
      rollingCountTimeout: 1,
      rollingCountFallbackSuccess: 2,
      requestCount: 4,
      errorCount: 2,
      errorPercentage: 50,
      isCircuitBreakerOpen: true,
      circuitState: 'OPEN',
      propertyValue_circuitBreakerRequestVolumeThreshold: 4,
      propertyValue_circuitBreakerSleepWindowInMilliseconds: 2000,
      propertyValue_circuitBreakerErrorThresholdPercentage: 40,
      propertyValue_circuitBreakerForceOpen: false,
      propertyValue_circuitBreakerForceClosed: false,
      propertyValue_circuitBreakerEnabled: true,
      propertyValue_executionIsolationStrategy: 'SEMAPHORE',
      propertyValue_executionIsolationThreadTimeoutInMilliseconds: 100,
      propertyValue_executionTimeoutInMilliseconds: 100,
      propertyValue_executionTimeoutEnabled: true,
      propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: 7,
      propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests: 3,
      propertyValue_metricsRollingStatisticalWindowInMilliseconds: 5000,
      propertyValue_requestCacheEnabled: false,
      propertyValue_requestLogEnabled: true,
      currentConcurrentExecutionCount: 0,
      threadPool: 'Grp',
      propertyValue_executionIsolationThreadPoolKeyOverride: '',
    });
    expect(o.latencyExecute['100']).toBeGreaterThanOrEqual(100);
    // open circuit: the next call short-circuits and the stream counts it
    await c.execute('ok');
    expect(commandObject('Json.Counts').rollingCountShortCircuited).toBe(1);
  });

  it('reports pool isolation as THREAD and a disabled timeout as 0 with the enabled flag false', async () => {
    const c = command({ key: 'Json.Pool', group: 'Grp', isolation: 'pool', pool: { key: 'JsonPool', coreSize: 2 }, timeout: false, run: async () => 1 });
    await c.execute();
    const o = commandObject('Json.Pool');
    expect(o.propertyValue_executionIsolationStrategy).toBe('THREAD');
    expect(o.propertyValue_executionIsolationThreadTimeoutInMilliseconds).toBe(0);
    expect(o.propertyValue_executionTimeoutInMilliseconds).toBe(0);
    expect(o.propertyValue_executionTimeoutEnabled).toBe(false);
    expect(o.threadPool).toBe('JsonPool');
    expect(o.propertyValue_executionIsolationThreadPoolKeyOverride).toBe('JsonPool');
  });

  it('shows a forced-open circuit as open with the force flag a real boolean', async () => {
    const c = command({ key: 'Json.Forced', circuitBreaker: { forceOpen: true }, run: async () => 1, fallback: () => 0 });
    await c.execute();
    const o = commandObject('Json.Forced');
    expect(o.propertyValue_circuitBreakerForceOpen).toBe(true);
    expect(o.isCircuitBreakerOpen).toBe(true);
    expect(o.rollingCountShortCircuited).toBe(1);
    circuitBreakerFor('Json.Forced');
  });
});

describe('toHystrixThreadPool', () => {
  it('carries every field the dashboard reads, with the pool numbers', async () => {
    const c = command({ key: 'Json.PoolCmd', isolation: 'pool', pool: { key: 'JP', coreSize: 3, maxQueueSize: 10, queueSizeRejectionThreshold: 4 }, run: async () => 1 });
    await c.execute();
    await c.execute();
    const o = hystrixDashboardSample().find((x) => x.type === 'HystrixThreadPool' && x.name === 'JP') as HystrixThreadPoolJson;
    expect(o).toBeDefined();
    for (const f of [...DASHBOARD_POOL_FIELDS, ...HYSTRIX_EXTRA_POOL_FIELDS]) expect(o, f).toHaveProperty(f);
    expectWellTyped(o as unknown as Record<string, unknown>, [], ['type', 'name'], []);
    expect(o).toMatchObject({
      currentActiveCount: 0,
      currentCompletedTaskCount: 2,
      currentCorePoolSize: 3,
      currentMaximumPoolSize: 3,
      currentLargestPoolSize: 1,
      currentPoolSize: 1,
      currentQueueSize: 0,
      currentTaskCount: 2,
      rollingCountThreadsExecuted: 2,
      rollingMaxActiveThreads: 1,
      rollingCountCommandRejections: 0,
      propertyValue_queueSizeRejectionThreshold: 4,
      propertyValue_maxQueueSize: 10,
      propertyValue_metricsRollingStatisticalWindowInMilliseconds: 10000,
      reportingHosts: 1,
    });
  });

  it('lists a pool before it has completed anything (Hystrix hides it; breakwater shows it)', () => {
    poolFor('Idle');
    const o = hystrixDashboardSample().find((x) => x.name === 'Idle');
    expect(o?.type).toBe('HystrixThreadPool');
  });
});

describe('toHystrixCollapser', () => {
  const latency = (mean: number) => ({ mean, percentiles: { '0': 1, '25': 2, '50': 3, '75': 4, '90': 5, '95': 6, '99': 7, '99.5': 8, '100': 9 } });
  const snapshot: CollapserSnapshot = {
    collapserKey: 'Batcher',
    rollingBatches: 3,
    rollingRequestsBatched: 12,
    rollingResponsesFromCache: 1,
    batchSize: latency(4),
    shardSize: latency(2),
    maxRequestsInBatch: 50,
    timerDelayInMilliseconds: 10,
    requestCacheEnabled: true,
    rollingWindow: 10000,
    percentileWindow: 60000,
  };

  it('carries every field Hystrix sends for a collapser', () => {
    const o = toHystrixCollapser(snapshot, 1234) as unknown as Record<string, unknown>;
    for (const f of COLLAPSER_FIELDS) expect(o, f).toHaveProperty(f);
    expectWellTyped(o, ['propertyValue_requestCacheEnabled'], ['type', 'name'], ['batchSize', 'shardSize']);
    expect(o).toMatchObject({ type: 'HystrixCollapser', name: 'Batcher', rollingCountBatches: 3, rollingCountRequestsBatched: 12, batchSize_mean: 4, currentTime: 1234 });
    expect(Object.keys(o.batchSize as object).sort()).toEqual(['25', '50', '75', '90', '95', '99', '99.5', '100'].sort());
  });

  it('is sampled from registered sources until they are removed, after commands and pools', async () => {
    const remove = registerCollapserSource(() => [snapshot]);
    const broken = registerCollapserSource(() => {
      throw new Error('broken source');
    });
    try {
      const c = command({ key: 'Json.Order', isolation: 'pool', pool: 'OrderPool', run: async () => 1 });
      await c.execute();
      const types = hystrixDashboardSample().map((o) => o.type);
      expect(types).toEqual(['HystrixCommand', 'HystrixThreadPool', 'HystrixCollapser']);
    } finally {
      remove();
      broken();
    }
    expect(hystrixDashboardSample().some((o) => o.type === 'HystrixCollapser')).toBe(false);
  });
});
