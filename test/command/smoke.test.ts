import { describe, expect, it, beforeEach } from 'vitest';
import { command, metricsFor, circuitBreakerFor, CommandError, BadRequestError } from '../../src/index.js';
import { useFakeClock, FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => { clock = useFakeClock(); });

describe('smoke', () => {
  it('succeeds', async () => {
    const c = command({ key: 'A', run: async (x: number) => x * 2 });
    expect(await c.execute(21)).toBe(42);
    const s = metricsFor('A').snapshot();
    expect(s.rolling.SUCCESS).toBe(1);
  });
  it('times out with fallback', async () => {
    const c = command({ key: 'B', timeout: 100, run: (_x: number, { signal }) => new Promise((r) => signal.addEventListener('abort', () => r(1))), fallback: () => 7 });
    const p = c.execute(1);
    clock.advance(100);
    expect(await p).toBe(7);
    expect(metricsFor('B').snapshot().rolling.TIMEOUT).toBe(1);
  });
  it('failure without fallback', async () => {
    const c = command({ key: 'C', run: async () => { throw new Error('boom'); } });
    const e = await c.execute().catch((x) => x);
    expect(e).toBeInstanceOf(CommandError);
    expect(e.failureType).toBe('COMMAND_EXCEPTION');
    expect(e.cause.message).toBe('boom');
  });
  it('trips', async () => {
    const c = command({ key: 'D', run: async () => { throw new Error('boom'); }, fallback: () => 0 });
    for (let i = 0; i < 20; i++) await c.execute();
    clock.advance(500);
    expect(circuitBreakerFor('D').state).toBe('OPEN');
    const bad = command({ key: 'E', run: async () => { throw new BadRequestError('no'); }, fallback: () => 0 });
    await expect(bad.execute()).rejects.toBeInstanceOf(BadRequestError);
  });
});
