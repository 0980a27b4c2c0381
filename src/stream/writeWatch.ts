import type { ServerResponse } from 'node:http';
import { getClock } from '../config/store.js';
import { expectNumber } from '../config/validate.js';
import { MAX_TIMEOUT_MS } from '../config/defaults.js';
import type { TimerHandle } from '../time/Clock.js';

/** The default `writeTimeout` of the stream and the dashboard relay (ms). */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;

/** @internal validates a `writeTimeout` option (ms). */
export function expectWriteTimeout(value: unknown, option: string): number {
  if (value === undefined) return DEFAULT_WRITE_TIMEOUT_MS;
  return expectNumber(value, option, { min: 1, max: MAX_TIMEOUT_MS, integer: true, unit: 'ms' });
}

/**
 * @internal watches one streaming response for a client that takes no byte. Call {@link WriteWatch.blocked}
 * when a write returned false (the socket asked to wait for `drain`): from then on, if the bytes still queued for
 * the client have not gone down within `timeoutMs`, `onStall` runs (the caller destroys the response). Any byte
 * the client takes starts the wait again; `drain` ends it. One timer per blocked client, on the configured clock.
 */
export class WriteWatch {
  private timer: TimerHandle | null = null;
  private queued = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly timeoutMs: number,
    private readonly onStall: () => void,
  ) {}

  /** A write returned false. */
  blocked(): void {
    if (this.timer !== null) return;
    this.queued = this.res.writableLength;
    this.timer = getClock().setTimer(this.check, this.timeoutMs);
  }

  /** The client caught up (`drain`), or the response ended: no more watching. */
  clear(): void {
    if (this.timer !== null) this.timer.cancel();
    this.timer = null;
  }

  private readonly check = (): void => {
    this.timer = null;
    const queued = this.res.writableLength;
    if (queued === 0 || this.res.destroyed) return;
    if (queued < this.queued) {
      // Some bytes went out since the last look: the client is slow, not gone.
      this.queued = queued;
      this.timer = getClock().setTimer(this.check, this.timeoutMs);
      return;
    }
    this.onStall();
  };
}

/** @internal flushes a response that offers it (compression middleware's `res.flush()`), so a frame goes out now. */
export function flushFrame(res: ServerResponse): void {
  const flush = (res as { flush?: unknown }).flush;
  if (typeof flush === 'function') (flush as () => void).call(res);
}
