import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * Where delay samples come from: the real `perf_hooks.monitorEventLoopDelay` histogram, or a test's fake.
 */
export interface DelaySource {
  /** Starts measuring (called when load shedding is switched on). */
  start(): void;
  /** The worst event-loop delay (ms) since the previous read. */
  read(): number;
  /** Stops measuring (load shedding switched off). */
  stop(): void;
}

/** Resolution of the histogram's timer, ms: an idle loop records about this much per tick. */
const RESOLUTION_MS = 10;

/**
 * @internal the real source: one `monitorEventLoopDelay` histogram (libuv's own timer, which keeps no process
 * alive). Its values are the time between two of its ticks, so an idle loop reads about the resolution; the delay
 * is what exceeds it.
 */
export function monitorDelaySource(): DelaySource {
  let histogram: IntervalHistogram | null = null;
  return {
    start() {
      if (histogram !== null) return;
      histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      histogram.enable();
    },
    read() {
      if (histogram === null || histogram.count === 0) return 0;
      const worstMs = histogram.max / 1e6;
      histogram.reset();
      return Math.max(0, worstMs - RESOLUTION_MS);
    },
    stop() {
      histogram?.disable();
      histogram = null;
    },
  };
}
