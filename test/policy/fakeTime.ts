import type { FakeClock } from '../../src/testing.js';

/** Lets promise callbacks run (a few microtask turns: cheaper than a macrotask per fake millisecond). */
export async function settle(): Promise<void> {
  for (let k = 0; k < 10; k++) await Promise.resolve();
}

/** Advances `clock` in 1 ms steps, letting promise callbacks run between steps, so attempts start at exact times. */
export async function advanceBy(clock: FakeClock, ms: number): Promise<void> {
  await settle();
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    await settle();
  }
}
