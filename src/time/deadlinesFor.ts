import type { Clock } from './Clock.js';
import { Deadlines } from './Deadlines.js';

const byClock = new WeakMap<Clock, Deadlines>();
let lastClock: Clock | undefined;
let lastDeadlines: Deadlines | undefined;

/** @internal the shared deadline timer of a clock (one per clock, created on first use). */
export function deadlinesFor(clock: Clock): Deadlines {
  // the same clock as last time (almost always) inlines as one comparison; the lookup stays out of line
  return clock === lastClock ? lastDeadlines! : deadlinesOf(clock);
}

function deadlinesOf(clock: Clock): Deadlines {
  let deadlines = byClock.get(clock);
  if (deadlines === undefined) {
    deadlines = new Deadlines(clock);
    byClock.set(clock, deadlines);
  }
  lastClock = clock;
  lastDeadlines = deadlines;
  return deadlines;
}
