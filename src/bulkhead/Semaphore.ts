import { ADMITTED, REJECTED, type AdmissionResult, type Bulkhead } from './Bulkhead.js';

/**
 * A counting semaphore with a limit read on every acquire (so a configuration change applies to the next call),
 * as Hystrix's `TryableSemaphoreActual`. It never queues.
 */
export class Semaphore implements Bulkhead {
  private used = 0;

  /** @param limit - permits; may be changed at any time through {@link Semaphore.limit}. */
  constructor(public limit: number) {}

  /** Which rejection event this bulkhead causes (on the prototype: no field per key). */
  get kind(): 'semaphore' {
    return 'semaphore';
  }

  /** Permits currently held. */
  get inUse(): number {
    return this.used;
  }

  /** Takes a permit if one is free. */
  tryAcquire(): boolean {
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }

  admit(): AdmissionResult {
    return this.tryAcquire() ? ADMITTED : REJECTED;
  }

  release(): void {
    if (this.used > 0) this.used--;
  }

  dequeue(): boolean {
    return false;
  }
}
