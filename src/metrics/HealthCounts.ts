/**
 * The numbers the circuit breaker decides on, as Hystrix's `HealthCounts`: `requestCount` is SUCCESS + FAILURE +
 * TIMEOUT + THREAD_POOL_REJECTED + SEMAPHORE_REJECTED in the rolling window; `errorCount` is the same without
 * SUCCESS; `errorPercentage` is `floor(100 × errorCount / requestCount)`, 0 when there were no requests.
 */
export interface HealthSnapshot {
  /** SUCCESS + FAILURE + TIMEOUT + THREAD_POOL_REJECTED + SEMAPHORE_REJECTED in the window. */
  readonly requestCount: number;
  /** `requestCount` without SUCCESS. */
  readonly errorCount: number;
  /** `floor(100 × errorCount / requestCount)`, 0 when `requestCount` is 0. */
  readonly errorPercentage: number;
}

/** @internal builds a snapshot with Hystrix's truncating percentage. */
export function healthSnapshot(requestCount: number, errorCount: number): HealthSnapshot {
  return {
    requestCount,
    errorCount,
    errorPercentage: requestCount === 0 ? 0 : Math.floor((errorCount * 100) / requestCount),
  };
}

/** The empty snapshot. */
export const EMPTY_HEALTH: HealthSnapshot = Object.freeze(healthSnapshot(0, 0));
