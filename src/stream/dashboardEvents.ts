import type { Observable } from 'rxjs/internal/Observable';
import { rxjsCore } from '../internal/lazyModules.js';
import { getClock } from '../config/store.js';
import { expectNumber, readKnown } from '../config/validate.js';
import { MAX_TIMEOUT_MS } from '../config/defaults.js';
import type { TimerHandle } from '../time/Clock.js';
import type { HystrixDashboardObject } from './hystrixJson.js';
import { buildSampleObjects } from './sampleSlices.js';

/** Options of {@link dashboardEvents}. */
export interface DashboardEventsOptions {
  /**
   * Sampling interval in ms: every interval, one object per command key, pool and collapser is emitted.
   * @defaultValue 500
   */
  readonly intervalMs?: number;
}

/** @internal validates a sampling interval (an integer number of ms a Node timer accepts). */
export function expectInterval(value: unknown, option: string): number {
  return expectNumber(value, option, { min: 1, max: MAX_TIMEOUT_MS, integer: true, unit: 'ms' });
}

/**
 * A cold rxjs Observable of Hystrix dashboard objects: every `intervalMs` (first after one interval) it emits one
 * `HystrixCommand` object per command key, then one `HystrixThreadPool` per pool, then one `HystrixCollapser` per
 * collapser, each a plain JSON-ready object. Each subscriber has its own timer, armed through the configured
 * clock (so a `FakeClock` drives it); unsubscribing cancels it.
 *
 * A sample of many keys is built in slices of at most a few milliseconds, yielding to the event loop in between
 * (a small one is emitted at once, in the timer's turn); the next interval starts when a sample has been emitted.
 * Percentiles are re-read at most once per percentile bucket (`metrics.percentileWindow / percentileBuckets`,
 * 10 s by default) per key, as Hystrix refreshes them, and an unchanged key costs next to nothing; use
 * {@link hystrixDashboardSample} for a sample with percentiles read now.
 *
 * @example
 * ```ts
 * const sub = dashboardEvents({ intervalMs: 1000 }).subscribe((o) => {
 *   if (o.type === 'HystrixCommand') console.log(o.name, o.requestCount, o.isCircuitBreakerOpen);
 * });
 * // later
 * sub.unsubscribe();
 * ```
 * @see {@link hystrixStreamHandler} to serve them as `text/event-stream`.
 */
export function dashboardEvents(options: DashboardEventsOptions = {}): Observable<HystrixDashboardObject> {
  const raw = readKnown(options, 'dashboardEvents', ['intervalMs']);
  const intervalMs = raw.intervalMs === undefined ? 500 : expectInterval(raw.intervalMs, 'dashboardEvents.intervalMs');
  return new (rxjsCore().Observable)<HystrixDashboardObject>((subscriber) => {
    let timer: TimerHandle | null = null;
    const tick = (): void => {
      timer = null;
      buildSampleObjects((error, sample) => {
        if (subscriber.closed) return;
        if (error !== undefined) return subscriber.error(error);
        for (const object of sample!) {
          if (subscriber.closed) return;
          subscriber.next(object);
        }
        if (!subscriber.closed) timer = getClock().setTimer(tick, intervalMs);
      });
    };
    timer = getClock().setTimer(tick, intervalMs);
    return () => {
      if (timer !== null) timer.cancel();
      timer = null;
    };
  });
}
