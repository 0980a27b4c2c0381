import { beforeEach, describe, expect, it } from 'vitest';
import { circuitBreakerFor, command, configure, events, metricsFor, type CircuitTransition } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

type Outcome = 'S' | 'F' | 'T';

/** A command whose next outcomes are scripted; T never settles (times out at 500 ms). */
function scripted(key: string, settings: Parameters<typeof command>[0] extends infer O ? Partial<O> : never = {}) {
  const plan: Outcome[] = [];
  const cmd = command({
    key,
    timeout: 500,
    circuitBreaker: { requestVolumeThreshold: 1, sleepWindow: 200, errorThresholdPercentage: 40 },
    metrics: { healthSnapshotInterval: 100, rollingWindow: 5000, rollingBuckets: 5 },
    ...settings,
    run: async () => {
      const o = plan.shift() ?? 'S';
      if (o === 'F') throw new Error('fail');
      if (o === 'T') return new Promise<boolean>(() => undefined);
      return true;
    },
    fallback: () => false,
  });
  const run = async (...outcomes: Outcome[]) => {
    const results: boolean[] = [];
    for (const o of outcomes) {
      plan.push(o);
      const p = cmd.execute();
      if (o === 'T') clock.advance(500);
      results.push((await p) as boolean);
      plan.length = 0; // a short-circuited call never consumed its scripted outcome
    }
    return results;
  };
  return { cmd, run, breaker: () => circuitBreakerFor(key) };
}

describe('circuit breaker (Hystrix HystrixCircuitBreakerTest scenarios)', () => {
  it('trips after failures (4 S then 4 F: 50% >= 40%)', async () => {
    const { run, breaker } = scripted('Trip');
    await run('S', 'S', 'S', 'S');
    clock.advance(100);
    expect(breaker().state).toBe('CLOSED');
    await run('F', 'F', 'F', 'F');
    clock.advance(100);
    expect(breaker().state).toBe('OPEN');
    expect(breaker().isOpen).toBe(true);
  });

  it('trips on a mix above the threshold (S,S,F,S,F,S,F,F)', async () => {
    const { run, breaker } = scripted('TripMix');
    await run('S', 'S', 'F', 'S', 'F', 'S', 'F', 'F');
    clock.advance(100);
    expect(breaker().state).toBe('OPEN');
  });

  it('does not trip below the threshold: 3/8 = 37.5% truncates to 37 < 40', async () => {
    const { run, breaker } = scripted('NoTrip');
    await run('S', 'S', 'F', 'S', 'S', 'F', 'S', 'F');
    clock.advance(100);
    expect(breaker().state).toBe('CLOSED');
    expect(metricsFor('NoTrip').snapshot().health).toEqual({ requestCount: 8, errorCount: 3, errorPercentage: 37 });
  });

  it('counts timeouts as errors (S,S,T,S,T,T,S,T,T → 55%)', async () => {
    const { run, breaker } = scripted('TripTimeouts');
    await run('S', 'S', 'T', 'S', 'T', 'T', 'S', 'T', 'T');
    clock.advance(100);
    expect(breaker().state).toBe('OPEN');
  });

  it('needs the request volume: 4 failures with threshold 5 do not trip', async () => {
    const { run, breaker } = scripted('Volume', { circuitBreaker: { requestVolumeThreshold: 5, sleepWindow: 200, errorThresholdPercentage: 40 } });
    await run('F', 'F', 'F', 'F');
    clock.advance(100);
    expect(breaker().state).toBe('CLOSED');
    await run('F');
    clock.advance(100);
    expect(breaker().state).toBe('OPEN');
  });

  it('trips at exactly the Hystrix defaults: 20 requests with 10 failures, but not 19 failing requests', async () => {
    const mk = (key: string) => {
      const plan: boolean[] = [];
      const c = command({
        key,
        run: async () => {
          if (plan.shift()) throw new Error('x');
          return 1;
        },
        fallback: () => 0,
      });
      return { c, plan };
    };
    const a = mk('Exact20');
    for (let i = 0; i < 20; i++) {
      a.plan.push(i % 2 === 0);
      await a.c.execute();
    }
    const b = mk('Only19');
    for (let i = 0; i < 19; i++) {
      b.plan.push(true);
      await b.c.execute();
    }
    clock.advance(500);
    expect(circuitBreakerFor('Exact20').state).toBe('OPEN');
    expect(circuitBreakerFor('Only19').state).toBe('CLOSED');
  });

  it('re-evaluates health at most every healthSnapshotInterval, and trips with no further call', async () => {
    const { run, breaker } = scripted('Lag', { metrics: { healthSnapshotInterval: 500, rollingWindow: 5000, rollingBuckets: 5 } });
    await run('F'); // first outcome: snapshot at t=0 → 1 request, 100% → trips (volume 1)
    expect(breaker().state).toBe('OPEN');
    const b = scripted('Lag2', {
      circuitBreaker: { requestVolumeThreshold: 3, sleepWindow: 200, errorThresholdPercentage: 40 },
      metrics: { healthSnapshotInterval: 500, rollingWindow: 5000, rollingBuckets: 5 },
    });
    await b.run('F', 'F', 'F');
    expect(b.breaker().state).toBe('CLOSED'); // the snapshot at t=0 saw 1 request only
    clock.advance(499);
    expect(b.breaker().state).toBe('CLOSED');
    clock.advance(1); // the one pending health timer fires without any call
    expect(b.breaker().state).toBe('OPEN');
  });

  it('lets exactly one trial through after the sleep window (strictly after)', async () => {
    const { cmd, run, breaker } = scripted('Trial');
    let openedAt = -1;
    cmd.events.on('circuitOpen', () => (openedAt = clock.now()));
    await run('F', 'F', 'F', 'F');
    clock.advance(100);
    expect(breaker().state).toBe('OPEN');
    clock.advance(openedAt + 200 - clock.now());
    const before = metricsFor('Trial').snapshot().rolling.SHORT_CIRCUITED;
    await expect(cmd.execute()).resolves.toBe(false); // at exactly sleepWindow: still short-circuited
    expect(metricsFor('Trial').snapshot().rolling.SHORT_CIRCUITED).toBe(before + 1);
    clock.advance(1);
    let release!: () => void;
    const hanging = new Promise<void>((r) => (release = r));
    const trialCmd = command({
      key: 'Trial',
      timeout: 500,
      circuitBreaker: { requestVolumeThreshold: 1, sleepWindow: 200, errorThresholdPercentage: 40 },
      metrics: { healthSnapshotInterval: 100, rollingWindow: 5000, rollingBuckets: 5 },
      run: async () => {
        await hanging;
        return true;
      },
      fallback: () => false,
    });
    const trial = trialCmd.execute();
    expect(breaker().state).toBe('HALF_OPEN');
    expect(breaker().isOpen).toBe(true);
    await expect(trialCmd.execute()).resolves.toBe(false); // second caller short-circuits while the trial runs
    release();
    await expect(trial).resolves.toBe(true);
    expect(breaker().state).toBe('CLOSED');
    // Old failures were forgotten: more successes do not re-trip.
    await run('S', 'S', 'S');
    clock.advance(100);
    expect(breaker().state).toBe('CLOSED');
    expect(metricsFor('Trial').snapshot().health.errorCount).toBe(0);
  });

  it('re-opens for another sleep window when the trial fails', async () => {
    const { run, breaker } = scripted('Retrial');
    await run('F', 'F');
    clock.advance(100);
    expect(breaker().state).toBe('OPEN');
    clock.advance(201);
    await run('F'); // trial fails
    expect(breaker().state).toBe('OPEN');
    expect(await run('S')).toEqual([false]); // still within the new window: short-circuited
    clock.advance(201);
    expect(await run('T')).toEqual([false]); // a timed-out trial fails too
    expect(breaker().state).toBe('OPEN');
    clock.advance(201);
    expect(await run('S')).toEqual([true]);
    expect(breaker().state).toBe('CLOSED');
  });

  it('releases (does not fail) a trial that a bulkhead rejects, so the circuit is never stuck half-open', async () => {
    let hold!: () => void;
    const holding = new Promise<void>((r) => (hold = r));
    const plan: string[] = [];
    const c = command({
      key: 'StuckFix',
      maxConcurrent: 1,
      timeout: false,
      circuitBreaker: { requestVolumeThreshold: 1, sleepWindow: 100 },
      metrics: { healthSnapshotInterval: 10, rollingWindow: 1000, rollingBuckets: 10 },
      run: async () => {
        const o = plan.shift();
        if (o === 'F') throw new Error('x');
        if (o === 'H') await holding;
        return 'ok';
      },
      fallback: () => 'fb',
    });
    // One call holds the only permit while the circuit opens.
    plan.push('H');
    const held = c.execute();
    plan.push('F');
    await c.execute();
    clock.advance(10);
    plan.length = 0;
    // trip: health check happens on the failure or on the timer
    expect(circuitBreakerFor('StuckFix').state).toBe('OPEN');
    clock.advance(101);
    await expect(c.execute()).resolves.toBe('fb'); // trial rejected by the semaphore
    expect(circuitBreakerFor('StuckFix').state).toBe('OPEN');
    hold();
    await held;
    await expect(c.execute()).resolves.toBe('ok'); // the next call is the trial and closes the circuit
    expect(circuitBreakerFor('StuckFix').state).toBe('CLOSED');
  });

  it('emits circuitOpen, circuitHalfOpen and circuitClosed with the health', async () => {
    const seen: CircuitTransition[] = [];
    events.on('circuitOpen', (e) => seen.push(e));
    events.on('circuitHalfOpen', (e) => seen.push(e));
    events.on('circuitClosed', (e) => seen.push(e));
    const { run } = scripted('Events');
    await run('F');
    clock.advance(201);
    await run('S');
    expect(seen.map((e) => `${e.from}->${e.to}`)).toEqual(['CLOSED->OPEN', 'OPEN->HALF_OPEN', 'HALF_OPEN->CLOSED']);
    expect(seen[0]!.commandKey).toBe('Events');
    expect(seen[0]!.health.errorPercentage).toBe(100);
  });
});

describe('force flags and enabled', () => {
  it('forceOpen short-circuits every call without running it; the fallback gets a SHORT_CIRCUIT CommandError', async () => {
    let runs = 0;
    let reason: unknown;
    const c = command({
      key: 'ForceOpen',
      circuitBreaker: { forceOpen: true },
      run: async () => ++runs,
      fallback: (e) => {
        reason = e;
        return -1;
      },
    });
    await expect(c.execute()).resolves.toBe(-1);
    expect(runs).toBe(0);
    expect(reason).toMatchObject({ failureType: 'SHORT_CIRCUIT', commandKey: 'ForceOpen' });
    expect(circuitBreakerFor('ForceOpen').state).toBe('OPEN');
    const s = metricsFor('ForceOpen').snapshot();
    expect(s.rolling.SHORT_CIRCUITED).toBe(1);
    expect(s.health.requestCount).toBe(0);
  });

  it('hands every short-circuited fallback the same frozen error: no Error built per call', async () => {
    const seen = new Set<unknown>();
    const c = command({ key: 'SharedErr', circuitBreaker: { forceOpen: true }, run: async () => 1, fallback: (e) => (seen.add(e), 0) });
    for (let i = 0; i < 5; i++) await c.execute();
    expect(seen.size).toBe(1);
    expect(Object.isFrozen([...seen][0])).toBe(true);
  });

  it('forceClosed lets every call through while still counting', async () => {
    const c = command({
      key: 'ForceClosed',
      circuitBreaker: { forceClosed: true, requestVolumeThreshold: 1 },
      run: async () => {
        throw new Error('x');
      },
      fallback: () => 0,
    });
    for (let i = 0; i < 30; i++) await c.execute();
    clock.advance(1000);
    expect(circuitBreakerFor('ForceClosed').state).toBe('CLOSED');
    expect(metricsFor('ForceClosed').snapshot().rolling.FAILURE).toBe(30);
    expect(metricsFor('ForceClosed').snapshot().rolling.SHORT_CIRCUITED).toBe(0);
  });

  it('enabled: false never short-circuits', async () => {
    const c = command({
      key: 'Disabled',
      circuitBreaker: { enabled: false, requestVolumeThreshold: 1 },
      run: async () => {
        throw new Error('x');
      },
      fallback: () => 0,
    });
    for (let i = 0; i < 30; i++) await c.execute();
    clock.advance(1000);
    await c.execute();
    expect(metricsFor('Disabled').snapshot().rolling.SHORT_CIRCUITED).toBe(0);
  });

  it('circuitBreakerFor(key).forceOpen/forceClosed/reset work at run time', async () => {
    const c = command({ key: 'Manual', run: async () => 'ok', fallback: () => 'fb' });
    const breaker = circuitBreakerFor('Manual');
    breaker.forceOpen();
    await expect(c.execute()).resolves.toBe('fb');
    breaker.forceClosed();
    await expect(c.execute()).resolves.toBe('ok');
    breaker.reset();
    expect(breaker.state).toBe('CLOSED');
    await expect(c.execute()).resolves.toBe('ok');
    expect(() => circuitBreakerFor('NoSuchKey')).toThrow(/no command with key 'NoSuchKey'/);
  });

  it('shows a configured forceOpen at once, before the next call', () => {
    command({ key: 'LiveState', run: async () => 1 });
    expect(circuitBreakerFor('LiveState').state).toBe('CLOSED');
    configure({ commands: { LiveState: { circuitBreaker: { forceOpen: true } } } });
    expect(circuitBreakerFor('LiveState').state).toBe('OPEN');
    configure({ commands: { LiveState: { circuitBreaker: { forceOpen: false } } } });
    expect(circuitBreakerFor('LiveState').state).toBe('CLOSED');
  });

  it('applies configure() changes to the next execution without restart', async () => {
    const c = command({ key: 'Live', timeout: 1000, run: () => new Promise((r) => setTimeout(() => r('slow'), 0)), fallback: () => 'fb' });
    configure({ commands: { Live: { circuitBreaker: { forceOpen: true } } } });
    await expect(c.execute()).resolves.toBe('fb');
    expect(circuitBreakerFor('Live').state).toBe('OPEN');
    configure({ commands: { Live: { circuitBreaker: { forceOpen: false }, timeout: 10 } } });
    const p = c.execute();
    clock.advance(10);
    await expect(p).resolves.toBe('fb');
    expect(metricsFor('Live').snapshot().rolling.TIMEOUT).toBe(1);
    expect(c.config.timeout).toBe(10);
    configure({ commands: { Live: { maxConcurrent: 1 } } });
    c.execute();
    expect(existingRuntime('Live')!.semaphore.limit).toBe(1);
  });
});
