import { beforeEach, describe, expect, it } from 'vitest';
import { command, configure, metricsFor } from '../../src/index.js';
import { AimdLimit } from '../../src/bulkhead/adaptive/aimd.js';
import { Gradient2Limit } from '../../src/bulkhead/adaptive/gradient2.js';
import { VegasLimit } from '../../src/bulkhead/adaptive/vegas.js';
import { AdaptiveBulkhead } from '../../src/bulkhead/AdaptiveBulkhead.js';
import { ADMITTED, REJECTED } from '../../src/bulkhead/Bulkhead.js';
import { ADAPTIVE_DEFAULTS, resolveAdaptive } from '../../src/config/normalizeAdaptive.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { toHystrixCommand } from '../../src/stream/hystrixJson.js';
import { commandObject } from '../../src/stream/commandSampler.js';
import { readCommand } from '../../src/dashboard/page/client/model.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

describe('aimd (concurrency-limits AIMDLimit)', () => {
  const aimd = () => new AimdLimit({ ...ADAPTIVE_DEFAULTS.aimd, initialLimit: 30, minLimit: 20, maxLimit: 32 });

  it('adds 1 per sample while at least half the limit is in flight, and caps at maxLimit', () => {
    const a = aimd();
    a.onSample(10, 14, false); // 14 × 2 < 30: app-limited
    expect(a.limit).toBe(30);
    a.onSample(10, 15, false); // 15 × 2 >= 30
    expect(a.limit).toBe(31);
    a.onSample(10, 31, false);
    a.onSample(10, 31, false);
    expect(a.limit).toBe(32);
  });

  it('multiplies by backoffRatio (truncated) on a drop or a sample slower than timeout, down to minLimit', () => {
    const a = aimd();
    a.onSample(10, 30, true);
    expect(a.limit).toBe(27); // trunc(30 × 0.9)
    a.onSample(5001, 1, false); // slower than the 5 s timeout: a drop
    expect(a.limit).toBe(24);
    a.onSample(5000, 24, false); // exactly the timeout: not a drop
    expect(a.limit).toBe(25);
    for (let i = 0; i < 10; i++) a.onSample(1, 1, true);
    expect(a.limit).toBe(20);
  });
});

describe('vegas (concurrency-limits VegasLimit)', () => {
  const vegas = (initialLimit = 20) => new VegasLimit({ ...ADAPTIVE_DEFAULTS.vegas, initialLimit, probeMultiplier: 1e6, random: () => 0.5 });

  it('takes the first and any lower RTT as the no-load RTT without changing the limit', () => {
    const v = vegas();
    v.onSample(20, 20, false);
    v.onSample(15, 20, false);
    expect(v.limit).toBe(20);
  });

  it('grows by beta = 6·log10(limit) with no queue, by log10(limit) below alpha, shrinks above beta or on a drop', () => {
    const v = vegas(20);
    v.onSample(10, 20, false); // no-load RTT 10
    v.onSample(10, 20, false); // queue 0 ≤ threshold 1: +6
    expect(v.limit).toBe(26);
    v.onSample(11, 26, false); // queue ceil(26 × (1 − 10/11)) = 3 — not below alpha 3, not above beta 6: hold
    expect(v.limit).toBe(26);
    v.onSample(10.5, 26, false); // queue 2 (> threshold 1, < alpha 3): +1
    expect(v.limit).toBe(27);
    v.onSample(20, 27, false); // queue 14 > beta 6: −1
    expect(v.limit).toBe(26);
    v.onSample(10, 26, true); // a drop: −1
    expect(v.limit).toBe(25);
    v.onSample(10, 5, false); // fewer than half in flight: no drift
    expect(v.limit).toBe(25);
  });
});

describe('gradient2 (concurrency-limits Gradient2Limit)', () => {
  const g2 = () => new Gradient2Limit({ ...ADAPTIVE_DEFAULTS.gradient2, initialLimit: 50, minLimit: 1 });

  it('grows by smoothing × queueSize while the RTT stays at its long-term average', () => {
    const g = g2();
    g.onSample(20, 50, false);
    expect(g.limit).toBe(50); // 50 × 0.8 + (50 × 1 + 4) × 0.2 = 50.8
    g.onSample(20, 50, false);
    expect(g.limit).toBe(51);
  });

  it('cuts the limit on a sudden rise (gradient down to 0.5) and ignores the app-limited case', () => {
    const g = g2();
    for (let i = 0; i < 20; i++) g.onSample(20, 60, false);
    const before = g.limit;
    g.onSample(200, 60, false); // 1.5 × ~20 / 200 < 0.5 → gradient 0.5
    expect(g.limit).toBeLessThan(before * 0.92);
    const after = g.limit;
    g.onSample(400, 1, false); // fewer than half in flight: the limit holds
    expect(g.limit).toBe(after);
  });
});

describe('AdaptiveBulkhead', () => {
  it('admits below the limit, rejects at it, and its own rejections are not samples', () => {
    const b = new AdaptiveBulkhead(resolveAdaptive({ algorithm: 'aimd', initialLimit: 2, minLimit: 1 }, 'adaptive'));
    expect(b.admit()).toBe(ADMITTED);
    expect(b.admit()).toBe(ADMITTED);
    expect(b.admit()).toBe(REJECTED);
    expect(b.limit).toBe(2);
    b.release();
    b.sample(5, true, false);
    expect(b.limit).toBe(1); // trunc(2 × 0.9) = 1
    b.release();
    b.release(); // a double release is a no-op
    expect(b.inUse).toBe(0);
  });

  it('keeps its estimate when configure() leaves its settings equal, restarts when they change', () => {
    const b = new AdaptiveBulkhead(resolveAdaptive({ algorithm: 'aimd', initialLimit: 20 }, 'adaptive'));
    b.sample(5, true, false);
    expect(b.limit).toBe(20); // minLimit 20
    const c = new AdaptiveBulkhead(resolveAdaptive({ algorithm: 'aimd', initialLimit: 30, minLimit: 1 }, 'adaptive'));
    c.sample(5, true, false);
    expect(c.limit).toBe(27);
    c.reconfigure(resolveAdaptive({ algorithm: 'aimd', initialLimit: 30, minLimit: 1 }, 'adaptive'));
    expect(c.limit).toBe(27);
    c.reconfigure(resolveAdaptive({ algorithm: 'aimd', initialLimit: 40, minLimit: 1 }, 'adaptive'));
    expect(c.limit).toBe(40);
  });
});

describe("isolation: 'adaptive' in a command", () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = useFakeClock();
  });

  function adaptiveCommand(key: string) {
    const pending: ((v: string) => void)[] = [];
    let fail = false;
    const cmd = command({
      key,
      isolation: 'adaptive',
      adaptive: { algorithm: 'aimd', initialLimit: 4, minLimit: 1, maxLimit: 10 },
      timeout: 100,
      circuitBreaker: { enabled: false },
      run: () =>
        new Promise<string>((resolve, reject) => {
          if (fail) reject(new Error('down'));
          else pending.push(resolve);
        }),
      fallback: () => 'fallback',
    });
    return { cmd, pending, setFail: (f: boolean) => (fail = f), limit: () => existingRuntime(key)!.adaptive!.limit };
  }

  it('rejects beyond the limit as a semaphore does, without a sample, and learns from latency, failures and timeouts', async () => {
    const c = adaptiveCommand('Adaptive');
    const calls = [1, 2, 3, 4].map(() => c.cmd.execute());
    expect(await c.cmd.execute()).toBe('fallback'); // the 5th: SEMAPHORE_REJECTED
    expect(metricsFor('Adaptive').snapshot().rolling.SEMAPHORE_REJECTED).toBe(1);
    expect(c.limit()).toBe(4); // a rejection is not a drop
    clock.advance(10);
    for (const resolve of c.pending.splice(0)) resolve('ok');
    expect(await Promise.all(calls)).toEqual(['ok', 'ok', 'ok', 'ok']);
    // +1 per success while at least half the limit is in flight (counted when it ends, itself included): 4 of 4 → 5,
    // 3 of 5 → 6, then 2 and 1 of 6 are app-limited
    expect(c.limit()).toBe(6);
    c.setFail(true);
    expect(await c.cmd.execute()).toBe('fallback');
    expect(c.limit()).toBe(5); // trunc(6 × 0.9): a failure is a drop
    c.setFail(false);
    const slow = c.cmd.execute();
    clock.advance(100);
    expect(await slow).toBe('fallback'); // TIMEOUT: a drop
    expect(c.limit()).toBe(4);
    const rt = existingRuntime('Adaptive')!;
    expect(rt.adaptive!.inUse).toBe(1); // the timed-out run still holds its permit …
    c.pending.splice(0).forEach((resolve) => resolve('late'));
    await Promise.resolve();
    await Promise.resolve();
    expect(rt.adaptive!.inUse).toBe(0); // … until it settles, with no second sample
    expect(c.limit()).toBe(4);
  });

  it('reports the current limit as the semaphore size on the stream, with the algorithm, and in Prometheus', async () => {
    const c = adaptiveCommand('AdaptiveStream');
    const p = c.cmd.execute();
    clock.advance(5);
    c.pending.splice(0).forEach((resolve) => resolve('ok'));
    await p;
    const rt = existingRuntime('AdaptiveStream')!;
    const json = toHystrixCommand({ snapshot: rt.metrics.snapshot(), config: rt.config, isCircuitBreakerOpen: false, concurrencyLimit: rt.adaptive!.limit }, 0);
    expect(json).toMatchObject({
      propertyValue_executionIsolationStrategy: 'SEMAPHORE',
      propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: 4, // 1 in flight of 4: app-limited, no growth
      propertyValue_executionIsolationAdaptiveAlgorithm: 'aimd',
      currentConcurrentExecutionCount: 0,
    });
    const { Registry } = await import('prom-client');
    const { registerPrometheus } = await import('../../src/index.js');
    const registry = new Registry();
    registerPrometheus(registry);
    expect(await registry.metrics()).toMatch(/^breakwater_command_concurrency_limit\{command="AdaptiveStream",group="AdaptiveStream"\} 4$/m);
  });

  it('shows the limit with the calls in flight on the stream, in Prometheus and on the dashboard card while calls run', async () => {
    const c = adaptiveCommand('AdaptiveInFlight');
    const running = [c.cmd.execute(), c.cmd.execute(), c.cmd.execute()];
    const rt = existingRuntime('AdaptiveInFlight')!;
    const json = commandObject(rt, clock.now(), 0); // what the stream sends
    expect(json).toMatchObject({
      propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: 4,
      propertyValue_executionIsolationAdaptiveAlgorithm: 'aimd',
      currentConcurrentExecutionCount: 3,
    });
    const card = readCommand(JSON.parse(JSON.stringify(json)) as Record<string, unknown>); // what the built-in dashboard reads
    expect([card.adaptive, card.limit, card.inFlight]).toEqual(['aimd', 4, 3]);
    const { Registry } = await import('prom-client');
    const { registerPrometheus } = await import('../../src/index.js');
    const registry = new Registry();
    registerPrometheus(registry);
    const text = await registry.metrics();
    expect(text).toMatch(/^breakwater_command_concurrency_limit\{command="AdaptiveInFlight",group="AdaptiveInFlight"\} 4$/m);
    expect(text).toMatch(/^breakwater_command_concurrent_executions\{command="AdaptiveInFlight",group="AdaptiveInFlight"\} 3$/m);
    c.pending.splice(0).forEach((resolve) => resolve('ok'));
    expect(await Promise.all(running)).toEqual(['ok', 'ok', 'ok']);
  });

  it('keeps one limit per command key: drops of one dependency do not shrink another\'s limit', async () => {
    const sick = adaptiveCommand('AdaptiveSick');
    const healthy = adaptiveCommand('AdaptiveHealthy');
    sick.setFail(true);
    for (let i = 0; i < 3; i++) expect(await sick.cmd.execute()).toBe('fallback');
    expect(sick.limit()).toBeLessThan(4);
    expect(healthy.limit()).toBe(4);
  });

  it('validates its options, naming the option and value', () => {
    const build = (adaptive: unknown) => () => command({ key: 'BadAdaptive', isolation: 'adaptive', adaptive: adaptive as never, run: () => 1 });
    expect(build({ algorithm: 'bbr' })).toThrow(/adaptive\.algorithm/);
    expect(build({ backoffRatio: 1 })).toThrow(/adaptive\.backoffRatio/);
    expect(build({ algorithm: 'aimd', maxLimit: 10 })).toThrow(/adaptive\.minLimit.*maxLimit \(10\)/);
    expect(build({ algorithm: 'gradient2', initialLimit: 5 })).toThrow(/adaptive\.initialLimit/);
    expect(build({ smoothing: 0 })).toThrow(/adaptive\.smoothing/);
    expect(() => configure({ defaults: { isolation: 'elastic' as never } })).toThrow(/'adaptive'/);
  });
});
