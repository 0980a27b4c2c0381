import { beforeEach, describe, expect, it } from 'vitest';
import { circuitBreakerFor, command, metricsFor, type CircuitBreakerOptions } from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

/** Lets promise callbacks of work settled by the fake clock run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** S: succeeds at once; F: throws; T: never settles (times out at 500 ms); a number: succeeds after that many ms. */
type Step = 'S' | 'F' | 'T' | number;

function scripted(key: string, circuitBreaker: CircuitBreakerOptions, maxConcurrent = 10) {
  const plan: Step[] = [];
  let ran = 0;
  const cmd = command({
    key,
    timeout: 500,
    maxConcurrent,
    circuitBreaker: { sleepWindow: 200, ...circuitBreaker },
    metrics: { healthSnapshotInterval: 100, rollingWindow: 5000, rollingBuckets: 5 },
    run: async () => {
      ran++;
      const o = plan.shift() ?? 'S';
      if (o === 'F') throw new Error('fail');
      if (o === 'T') return new Promise<string>(() => undefined);
      if (typeof o === 'number') return new Promise<string>((resolve) => clock.setTimer(() => resolve('ran'), o));
      return 'ran';
    },
    fallback: () => 'fallback',
  });
  /** Runs the steps one after another; returns 'ran' / 'fallback' per step. */
  const run = async (...steps: Step[]) => {
    const results: string[] = [];
    for (const step of steps) {
      plan.push(step);
      const p = cmd.execute();
      if (step === 'T') clock.advance(500);
      else if (typeof step === 'number') clock.advance(step);
      results.push((await p) as string);
      plan.length = 0; // a short-circuited call never consumed its step
    }
    return results;
  };
  const state = () => circuitBreakerFor(key).state;
  const noLeak = () => {
    const rt = existingRuntime(key)!;
    expect(rt.semaphore.inUse).toBe(0);
    expect(rt.metrics.current).toBe(0);
  };
  return { cmd, plan, run, state, noLeak, ran: () => ran };
}

describe("strategy 'consecutive'", () => {
  it('opens at the 5th failure in a row, at that outcome, whatever requestVolumeThreshold says', async () => {
    const c = scripted('Consec', { strategy: 'consecutive', consecutiveFailures: 5, requestVolumeThreshold: 1000 });
    await c.run('F', 'F', 'F', 'F');
    expect(c.state()).toBe('CLOSED');
    await c.run('F');
    expect(c.state()).toBe('OPEN'); // no snapshot interval to wait for
    expect(await c.run('S')).toEqual(['fallback']);
    expect(metricsFor('Consec').snapshot().rolling.SHORT_CIRCUITED).toBe(1);
    c.noLeak();
  });

  it('starts counting again after a success: F F F F S F F F F stays closed', async () => {
    const c = scripted('ConsecReset', { strategy: 'consecutive', consecutiveFailures: 5 });
    await c.run('F', 'F', 'F', 'F', 'S', 'F', 'F', 'F', 'F');
    clock.advance(100);
    expect(c.state()).toBe('CLOSED');
    // the error percentage (8/9 = 88%) is what the stream shows, and it does not trip this strategy
    expect(metricsFor('ConsecReset').snapshot().health.errorPercentage).toBe(88);
  });

  it('counts timeouts as failures; semaphore rejections and bad requests neither count nor reset', async () => {
    const c = scripted('ConsecKinds', { strategy: 'consecutive', consecutiveFailures: 3 }, 1);
    await c.run('F'); // 1
    c.plan.push(700); // times out at 500 (2), settles at 700, holding the only permit until then
    const held = c.cmd.execute();
    expect(await c.cmd.execute()).toBe('fallback'); // rejected by the full semaphore: not the dependency's answer
    expect(metricsFor('ConsecKinds').snapshot().rolling.SEMAPHORE_REJECTED).toBe(1);
    clock.advance(500);
    expect(await held).toBe('fallback');
    expect(c.state()).toBe('CLOSED'); // F, T: two in a row (the rejection did not count)
    clock.advance(200);
    await flush(); // the late value reaches the executor, which frees the permit
    await c.run('F'); // 3
    expect(c.state()).toBe('OPEN');
    c.noLeak();
  });

  it('closes after the trial and counts from zero again', async () => {
    const c = scripted('ConsecTrial', { strategy: 'consecutive', consecutiveFailures: 2 });
    await c.run('F', 'F');
    expect(c.state()).toBe('OPEN');
    clock.advance(201);
    expect(await c.run('S')).toEqual(['ran']);
    expect(c.state()).toBe('CLOSED');
    await c.run('F');
    expect(c.state()).toBe('CLOSED');
    await c.run('F');
    expect(c.state()).toBe('OPEN');
  });
});

describe("strategy 'countWindow'", () => {
  it('does not decide below minimumCalls: 4 failures of minimumCalls 5 stay closed, the 5th opens', async () => {
    const c = scripted('CountMin', { strategy: 'countWindow', windowSize: 10, minimumCalls: 5, errorThresholdPercentage: 50 });
    await c.run('F', 'F', 'F', 'F');
    expect(c.state()).toBe('CLOSED');
    await c.run('F');
    expect(c.state()).toBe('OPEN');
    c.noLeak();
  });

  it('opens at the outcome that reaches the threshold: 4/9 = 44% stays closed, 5/10 = 50% opens', async () => {
    const c = scripted('CountEdge', { strategy: 'countWindow', windowSize: 10, minimumCalls: 10, errorThresholdPercentage: 50 });
    await c.run('S', 'S', 'S', 'S', 'S', 'F', 'F', 'F', 'F');
    expect(c.state()).toBe('CLOSED');
    await c.run('F');
    expect(c.state()).toBe('OPEN');
  });

  it('keeps only the last windowSize outcomes: old failures slide out', async () => {
    const c = scripted('CountSlide', { strategy: 'countWindow', windowSize: 4, minimumCalls: 4, errorThresholdPercentage: 75 });
    await c.run('F', 'F', 'S', 'S'); // 50%
    await c.run('S', 'S'); // window S S S S: 0%
    await c.run('F', 'F'); // S S F F: 50%
    expect(c.state()).toBe('CLOSED');
    await c.run('F'); // S F F F: 75%
    expect(c.state()).toBe('OPEN');
  });

  it('uses windowSize when minimumCalls is larger (resilience4j)', async () => {
    const c = scripted('CountCap', { strategy: 'countWindow', windowSize: 3, minimumCalls: 100, errorThresholdPercentage: 100 });
    await c.run('F', 'F');
    expect(c.state()).toBe('CLOSED');
    await c.run('F');
    expect(c.state()).toBe('OPEN');
  });

  it('ignores time: failures an hour apart still fill the window', async () => {
    const c = scripted('CountTime', { strategy: 'countWindow', windowSize: 3, minimumCalls: 3, errorThresholdPercentage: 60 });
    await c.run('F');
    clock.advance(3_600_000);
    await c.run('S', 'F');
    expect(c.state()).toBe('OPEN');
  });
});

describe('slow calls (slowCallDuration, slowCallRateThreshold)', () => {
  const slowWindow = { strategy: 'countWindow', windowSize: 4, minimumCalls: 4, errorThresholdPercentage: 100, slowCallDuration: 100, slowCallRateThreshold: 50 } as const;

  it('opens a count window on 50% slow successes (a call of exactly slowCallDuration is slow)', async () => {
    const c = scripted('SlowCount', slowWindow);
    await c.run(100, 'S', 100);
    expect(c.state()).toBe('CLOSED');
    await c.run('S');
    expect(c.state()).toBe('OPEN');
    expect(metricsFor('SlowCount').snapshot().health.errorPercentage).toBe(0); // nothing failed
  });

  it('does not count a call of slowCallDuration − 1 ms as slow', async () => {
    const c = scripted('SlowEdge', slowWindow);
    await c.run(99, 99, 99, 'S');
    expect(c.state()).toBe('CLOSED');
  });

  it("trips Hystrix's time-window rule too, after the volume threshold, on the next health snapshot", async () => {
    const c = scripted('SlowTime', { requestVolumeThreshold: 4, errorThresholdPercentage: 50, slowCallDuration: 100, slowCallRateThreshold: 50 });
    await c.run(150, 'S', 'S');
    clock.advance(100);
    expect(c.state()).toBe('CLOSED'); // 3 calls < requestVolumeThreshold
    await c.run(150);
    clock.advance(100);
    expect(c.state()).toBe('OPEN');
    expect(metricsFor('SlowTime').snapshot().health.errorPercentage).toBe(0);
  });

  it('is off by default: slow calls never trip', async () => {
    const c = scripted('SlowOff', { strategy: 'countWindow', windowSize: 2, minimumCalls: 2 });
    await c.run(400, 400, 400);
    expect(c.state()).toBe('CLOSED');
  });

  it('re-opens on a slow half-open trial', async () => {
    const c = scripted('SlowTrial', { strategy: 'consecutive', consecutiveFailures: 1, slowCallDuration: 100 });
    await c.run('F');
    clock.advance(201);
    expect(await c.run(150)).toEqual(['ran']); // the caller still gets the value
    expect(c.state()).toBe('OPEN');
  });
});

describe('halfOpen: { permittedCalls, successThreshold }', () => {
  it('lets permittedCalls trials run at once and short-circuits the next', async () => {
    const c = scripted('Half2', { strategy: 'consecutive', consecutiveFailures: 1, halfOpen: { permittedCalls: 2, successThreshold: 3 } });
    await c.run('F');
    clock.advance(201);
    c.plan.push(50, 50);
    const a = c.cmd.execute();
    const b = c.cmd.execute();
    expect(c.state()).toBe('HALF_OPEN');
    expect(await c.cmd.execute()).toBe('fallback'); // a third trial at once: refused
    clock.advance(50);
    expect([await a, await b]).toEqual(['ran', 'ran']);
    expect(c.state()).toBe('HALF_OPEN'); // 2 of 3 successes
    expect(await c.run('S')).toEqual(['ran']);
    expect(c.state()).toBe('CLOSED');
    c.noLeak();
  });

  it('re-opens at the first failed trial while another trial still runs', async () => {
    const c = scripted('HalfFail', { strategy: 'consecutive', consecutiveFailures: 1, halfOpen: { permittedCalls: 2, successThreshold: 2 } });
    await c.run('F');
    clock.advance(201);
    c.plan.push(50);
    const slow = c.cmd.execute();
    expect(await c.run('F')).toEqual(['fallback']);
    expect(c.state()).toBe('OPEN');
    clock.advance(50);
    expect(await slow).toBe('ran');
    expect(c.state()).toBe('OPEN'); // a late success of the old round does not close it
    clock.advance(151);
    expect(await c.run('S', 'S')).toEqual(['ran', 'ran']);
    expect(c.state()).toBe('CLOSED');
  });

  it("keeps Hystrix's single trial by default: one trial, closed by one success", async () => {
    const c = scripted('HalfDefault', { requestVolumeThreshold: 1, errorThresholdPercentage: 50 });
    await c.run('F');
    clock.advance(100);
    expect(c.state()).toBe('OPEN');
    clock.advance(201);
    c.plan.push(50);
    const trial = c.cmd.execute();
    expect(await c.cmd.execute()).toBe('fallback');
    clock.advance(50);
    expect(await trial).toBe('ran');
    expect(c.state()).toBe('CLOSED');
  });

  it('a trial rejected by the semaphore frees its slot; with none left and no success the circuit is OPEN, the next call is the trial', async () => {
    const c = scripted('HalfReleased', { strategy: 'consecutive', consecutiveFailures: 1, halfOpen: { permittedCalls: 2, successThreshold: 1 } }, 1);
    c.plan.push(2000);
    const held = c.cmd.execute(); // times out at 500 (opens the circuit), holds the only permit until 2000
    clock.advance(500);
    expect(await held).toBe('fallback');
    expect(c.state()).toBe('OPEN');
    clock.advance(201);
    expect(await c.cmd.execute()).toBe('fallback'); // the trial: admitted by the breaker, rejected by the semaphore
    expect(metricsFor('HalfReleased').snapshot().rolling.SEMAPHORE_REJECTED).toBe(1);
    expect(c.state()).toBe('OPEN');
    clock.advance(1300); // the held run settles
    await flush();
    expect(await c.run('S')).toEqual(['ran']); // no new sleep window: this call is the trial
    expect(c.state()).toBe('CLOSED');
    c.noLeak();
  });
});

describe('reconfiguring a strategy', () => {
  it('keeps the counts when only the numbers change and starts afresh for another strategy', async () => {
    const { configure } = await import('../../src/index.js');
    const c = scripted('Reconf', { strategy: 'consecutive', consecutiveFailures: 5 });
    await c.run('F', 'F', 'F');
    configure({ commands: { Reconf: { circuitBreaker: { consecutiveFailures: 4 } } } });
    await c.run('F');
    expect(c.state()).toBe('OPEN');
    circuitBreakerFor('Reconf').reset();
    await c.run('F', 'F', 'F');
    configure({ commands: { Reconf: { circuitBreaker: { strategy: 'countWindow', windowSize: 2, minimumCalls: 2, errorThresholdPercentage: 100 } } } });
    await c.run('F');
    expect(c.state()).toBe('CLOSED'); // a new window: one call
    await c.run('F');
    expect(c.state()).toBe('OPEN');
  });
});

describe('strategy options', () => {
  it('are checked when the command is built, naming the option and value', () => {
    const build = (circuitBreaker: unknown) => () => command({ key: 'Bad', run: () => 1, circuitBreaker: circuitBreaker as CircuitBreakerOptions });
    expect(build({ strategy: 'sometimes' })).toThrow(/circuitBreaker\.strategy.*'errorPercentage', 'consecutive', 'countWindow'.*sometimes/);
    expect(build({ consecutiveFailures: 0 })).toThrow(RangeError);
    expect(build({ windowSize: 2.5 })).toThrow(/circuitBreaker\.windowSize/);
    expect(build({ slowCallDuration: 0 })).toThrow(/circuitBreaker\.slowCallDuration/);
    expect(build({ slowCallRateThreshold: 101 })).toThrow(/circuitBreaker\.slowCallRateThreshold/);
    expect(build({ halfOpen: { permittedCalls: 0 } })).toThrow(/circuitBreaker\.halfOpen\.permittedCalls/);
    expect(build({ halfOpen: { trials: 2 } })).toThrow(/circuitBreaker\.halfOpen\.trials/);
    expect(build({ halfOpen: 3 })).toThrow(TypeError);
  });

  it('merge halfOpen field by field across configure() layers', async () => {
    const { configure } = await import('../../src/index.js');
    configure({ defaults: { circuitBreaker: { halfOpen: { permittedCalls: 3 } } } });
    configure({ commands: { Merge: { circuitBreaker: { halfOpen: { successThreshold: 2 } } } } });
    configure({ commands: { Merge: { circuitBreaker: { strategy: 'consecutive' } } } });
    command({ key: 'Merge', run: () => 1 }).executeSync();
    expect(circuitBreakerFor('Merge').config.halfOpen).toEqual({ permittedCalls: 3, successThreshold: 2 });
    expect(circuitBreakerFor('Merge').config.strategy).toBe('consecutive');
  });
});

describe('the stream', () => {
  it('puts every strategy on the stream and in words on the built-in dashboard card', async () => {
    const { commandObject } = await import('../../src/stream/commandSampler.js');
    const { readCommand } = await import('../../src/dashboard/page/client/model.js');
    const cases = [
      [{}, 'errorPercentage', ''],
      [{ strategy: 'consecutive', consecutiveFailures: 7 }, 'consecutive', 'opens after 7 failures in a row'],
      [{ strategy: 'countWindow', windowSize: 40, errorThresholdPercentage: 25 }, 'countWindow', 'opens at 25% errors of the last 40 calls'],
      [{ slowCallDuration: 800, slowCallRateThreshold: 60 }, 'errorPercentage', 'or 60% calls slower than 800 ms'],
      [{ strategy: 'consecutive', halfOpen: { permittedCalls: 2, successThreshold: 2 } }, 'consecutive', 'opens after 5 failures in a row, closes after 2 good trials'],
    ] as const;
    for (const [i, [breaker, strategy, words]] of cases.entries()) {
      const key = `EveryStrategy${i}`;
      command({ key, circuitBreaker: breaker, run: async () => 'ok' });
      const json = commandObject(existingRuntime(key)!, clock.now(), 0);
      expect(json.propertyValue_circuitBreakerStrategy, key).toBe(strategy);
      expect(readCommand(JSON.parse(JSON.stringify(json)) as Record<string, unknown>).rule, key).toBe(words);
    }
  });

  it('carries the strategy and its numbers as extra propertyValue fields, error % and state as they are', async () => {
    const { toHystrixCommand } = await import('../../src/stream/hystrixJson.js');
    const c = scripted('StreamRule', { strategy: 'countWindow', windowSize: 4, minimumCalls: 2, errorThresholdPercentage: 50, slowCallDuration: 300, halfOpen: { permittedCalls: 2, successThreshold: 3 } });
    await c.run('F', 'S', 'S', 'F');
    clock.advance(100);
    const rt = existingRuntime('StreamRule')!;
    const json = toHystrixCommand({ snapshot: rt.metrics.snapshot(), config: rt.config, isCircuitBreakerOpen: rt.breaker.isOpen }, 0);
    expect(json).toMatchObject({
      isCircuitBreakerOpen: true,
      circuitState: 'OPEN',
      errorPercentage: 50,
      requestCount: 2, // F and S reached the dependency; the circuit opened there, the last two were short-circuited
      propertyValue_circuitBreakerStrategy: 'countWindow',
      propertyValue_circuitBreakerWindowSize: 4,
      propertyValue_circuitBreakerMinimumCalls: 2,
      propertyValue_circuitBreakerConsecutiveFailures: 5,
      propertyValue_circuitBreakerSlowCallDurationInMilliseconds: 300,
      propertyValue_circuitBreakerSlowCallRateThreshold: 100,
      propertyValue_circuitBreakerHalfOpenPermittedCalls: 2,
      propertyValue_circuitBreakerHalfOpenSuccessThreshold: 3,
    });
  });
});
