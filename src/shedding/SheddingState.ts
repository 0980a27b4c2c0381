import type { LoadSheddingConfig } from '../config/options.js';

/**
 * The pure part of load shedding: hysteresis over event-loop delay samples. Shedding starts at the first sample
 * above `maxEventLoopDelay` and stops at the first sample at or below `recoverEventLoopDelay`; samples in between
 * keep the current state, so a delay hovering around one bound does not flap. No clock, no timers.
 */
export class SheddingState {
  /** Whether sheddable work is refused now. */
  active = false;
  /** The latest delay sample, ms. */
  delayMs = 0;
  /** When shedding last started (`now` of that sample), -1 before. */
  startedAt = -1;
  /** How many times shedding started. */
  episodes = 0;

  /** Takes one sample; true when the state changed. */
  sample(delayMs: number, now: number, config: LoadSheddingConfig): boolean {
    this.delayMs = delayMs;
    if (!this.active && delayMs > config.maxEventLoopDelay) {
      this.active = true;
      this.startedAt = now;
      this.episodes++;
      return true;
    }
    if (this.active && delayMs <= config.recoverEventLoopDelay) {
      this.active = false;
      return true;
    }
    return false;
  }

  /** Back to not shedding (load shedding switched off). */
  clear(): void {
    this.active = false;
    this.delayMs = 0;
  }
}
