import type { TokenWait } from './TokenBucket.js';

/**
 * @internal what the executor asks of a rate limiter: a local {@link TokenBucket} or a {@link StoreBucket} whose
 * tokens live in a shared store. Both answer `tryTake` synchronously; `wait` queues for a later answer.
 */
export interface Limiter {
  /**
   * True when a failed `tryTake` is not the final word: the decision may need the store, so a call without a
   * local token waits for it (even with `maxWait` 0) instead of being refused at once.
   */
  readonly remote: boolean;
  /** Callers waiting now. */
  readonly waiting: number;
  tryTake(n?: number, now?: number): boolean;
  wait(n: number, maxWait: number, now: number, settle: (granted: boolean) => void): TokenWait | null;
}
