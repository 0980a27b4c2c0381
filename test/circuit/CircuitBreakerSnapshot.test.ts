import { beforeEach, describe, expect, it } from 'vitest';
import { circuitBreakerFor, command, configure, type CircuitBreakerSnapshot } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock(1000);
  clock.setWallTime(Date.UTC(2026, 0, 1));
});

function failing(key: string, initialState?: unknown) {
  return command({
    key,
    timeout: false,
    circuitBreaker: { requestVolumeThreshold: 1, sleepWindow: 5000, ...(initialState === undefined ? {} : { initialState: initialState as CircuitBreakerSnapshot }) },
    metrics: { healthSnapshotInterval: 1 },
    run: async (fail: boolean) => {
      if (fail) throw new Error('down');
      return 'ok';
    },
    fallback: () => 'fallback',
  });
}

describe('CircuitBreaker.toJSON', () => {
  it('reports a closed circuit with no opened-at time and the health counts', async () => {
    const cmd = failing('Closed');
    await cmd.execute(false);
    const json = circuitBreakerFor('Closed').toJSON();
    expect(json).toEqual({
      commandKey: 'Closed',
      state: 'CLOSED',
      openedAt: null,
      sleepWindow: 5000,
      health: { requestCount: 1, errorCount: 0, errorPercentage: 0 },
      takenAt: Date.UTC(2026, 0, 1),
    });
  });

  it('reports the opening as wall-clock epoch ms, read through the clock', async () => {
    const cmd = failing('Opens');
    clock.advance(250);
    await cmd.execute(true);
    expect(circuitBreakerFor('Opens').state).toBe('OPEN');
    clock.advance(1200);
    const json = JSON.parse(JSON.stringify(circuitBreakerFor('Opens'))) as CircuitBreakerSnapshot;
    expect(json.state).toBe('OPEN');
    expect(json.openedAt).toBe(Date.UTC(2026, 0, 1) + 250);
    expect(json.takenAt).toBe(Date.UTC(2026, 0, 1) + 1450);
    expect(json.health).toEqual({ requestCount: 1, errorCount: 1, errorPercentage: 100 });
  });
});

describe('circuitBreaker.initialState', () => {
  it('starts OPEN for what remains of the sleep window, then lets one trial through', async () => {
    const wall = clock.wallTime();
    const cmd = failing('Restored', { state: 'OPEN', openedAt: wall - 3000 });
    expect(await cmd.execute(false)).toBe('fallback'); // short-circuited: 2000 ms of the window remain
    expect(circuitBreakerFor('Restored').state).toBe('OPEN');
    expect(circuitBreakerFor('Restored').toJSON().openedAt).toBe(wall - 3000);
    clock.advance(2000);
    expect(await cmd.execute(false)).toBe('fallback'); // the window ends strictly after 5000 ms
    clock.advance(1);
    expect(await cmd.execute(false)).toBe('ok'); // the trial
    expect(circuitBreakerFor('Restored').state).toBe('CLOSED');
  });

  it('round-trips a snapshot from one breaker into another key', async () => {
    const a = failing('Source');
    await a.execute(true);
    clock.advance(4000);
    const saved = JSON.stringify(circuitBreakerFor('Source'));
    const b = failing('Target', JSON.parse(saved));
    expect(circuitBreakerFor('Target').state).toBe('OPEN');
    clock.advance(1000);
    expect(await b.execute(false)).toBe('fallback');
    clock.advance(1);
    expect(await b.execute(false)).toBe('ok');
  });

  it('treats an opening in the future (a clock running ahead elsewhere) as now: the full window, never more', async () => {
    const cmd = failing('Future', { state: 'OPEN', openedAt: clock.wallTime() + 60_000 });
    clock.advance(5000);
    expect(await cmd.execute(false)).toBe('fallback');
    clock.advance(1);
    expect(await cmd.execute(false)).toBe('ok');
  });

  it('restores HALF_OPEN as OPEN from the same time, so the next call after the window is the trial', async () => {
    const cmd = failing('Half', { state: 'HALF_OPEN', openedAt: clock.wallTime() - 10_000 });
    expect(circuitBreakerFor('Half').state).toBe('OPEN');
    expect(await cmd.execute(false)).toBe('ok');
    expect(circuitBreakerFor('Half').state).toBe('CLOSED');
  });

  it('starts CLOSED from a CLOSED snapshot', async () => {
    const cmd = failing('StartsClosed', { state: 'CLOSED', openedAt: null });
    expect(await cmd.execute(false)).toBe('ok');
  });

  it('can be given per key with configure()', async () => {
    configure({ commands: { Configured: { circuitBreaker: { initialState: { state: 'OPEN', openedAt: clock.wallTime() } as CircuitBreakerSnapshot } } } });
    const cmd = failing('Configured');
    expect(await cmd.execute(false)).toBe('fallback');
  });

  it.each([
    [{ state: 'open', openedAt: 1 }, RangeError, /circuitBreaker\.initialState\.state` must be one of 'CLOSED', 'OPEN', 'HALF_OPEN', got "open"/],
    [{ state: 'OPEN' }, TypeError, /circuitBreaker\.initialState\.openedAt` must be an epoch time in ms when state is 'OPEN', got undefined/],
    [{ state: 'OPEN', openedAt: -5 }, RangeError, /initialState\.openedAt` must be a finite number >= 0 \(epoch ms\), got -5/],
    [{ state: 'OPEN', openedAt: '2026-01-01' }, TypeError, /initialState\.openedAt/],
    [{ state: 'CLOSED', health: { requestCount: -1 } }, RangeError, /initialState\.health\.requestCount/],
    [{ state: 'CLOSED', extra: 1 }, TypeError, /initialState\.extra/],
    ['OPEN', TypeError, /initialState` must be an object/],
  ])('refuses a bad snapshot %j with a clear error', (snapshot, type, message) => {
    expect(() => failing('Bad', snapshot)).toThrow(type);
    expect(() => failing('Bad', snapshot)).toThrow(message);
  });
});
