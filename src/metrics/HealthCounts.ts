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

/**
 * Frozen snapshots without errors, by request count, shared by every key: a healthy key's latest snapshot is one
 * of these rather than an object of its own (~80 B of every key). Made on first use.
 */
/** Request counts up to this share their error-free snapshot. */
const SHARED_UP_TO = 1024;
const HEALTHY = new Array<HealthSnapshot | undefined>(SHARED_UP_TO + 1);

/** @internal builds a snapshot with Hystrix's truncating percentage (frozen and shared when there are no errors). */
export function healthSnapshot(requestCount: number, errorCount: number): HealthSnapshot {
  if (errorCount === 0 && requestCount <= SHARED_UP_TO && Number.isInteger(requestCount)) {
    return (HEALTHY[requestCount] ??= Object.freeze(makeSnapshot(requestCount, 0)));
  }
  return makeSnapshot(requestCount, errorCount);
}

function makeSnapshot(requestCount: number, errorCount: number): HealthSnapshot {
  return {
    requestCount,
    errorCount,
    errorPercentage: requestCount === 0 ? 0 : Math.floor((errorCount * 100) / requestCount),
  };
}

/** The empty snapshot. */
export const EMPTY_HEALTH: HealthSnapshot = healthSnapshot(0, 0);
