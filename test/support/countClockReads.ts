import type { FakeClock } from '../../src/testing.js';

/** Counts `clock`'s `now()` reads from here on (a test of how often a path reads the clock). */
export function countClockReads(clock: FakeClock): () => number {
  const now = clock.now.bind(clock);
  let reads = 0;
  clock.now = () => {
    reads++;
    return now();
  };
  return () => reads;
}
