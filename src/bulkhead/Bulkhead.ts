/** Admission answers of a bulkhead. */
export const REJECTED = 0;
/** @see REJECTED */
export const ADMITTED = 1;
/** @see REJECTED */
export const QUEUED = 2;
/** @internal */
export type AdmissionResult = typeof REJECTED | typeof ADMITTED | typeof QUEUED;

/** Something a queueing bulkhead can start later (the executor's in-flight execution). */
export interface Waiter {
  /** Called by the bulkhead when a queued waiter gets its permit. */
  admitted(): void;
  /** @internal queue links, owned by the bulkhead. */
  qNext: Waiter | null;
}

/**
 * A bulkhead admits work synchronously: a permit now, a place in a queue (pool isolation), or a rejection. A
 * permit is returned with {@link Bulkhead.release} exactly once, when the work really settles.
 */
export interface Bulkhead {
  /** Which rejection event this bulkhead causes. */
  readonly kind: 'semaphore' | 'pool';
  /**
   * Asks for a permit for `waiter`; `now` feeds rolling statistics. A `null` waiter cannot wait (a synchronous
   * caller): it is admitted or rejected, never queued.
   */
  admit(waiter: Waiter | null, now: number): AdmissionResult;
  /** Returns a permit; may admit the next queued waiter. */
  release(now: number): void;
  /** Removes a queued waiter (its deadline passed or it was cancelled); false if it was not queued. */
  dequeue(waiter: Waiter): boolean;
}
