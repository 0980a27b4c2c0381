import type { LoadSheddingConfig, ShedPriority, SheddablePriority } from '../config/options.js';

/** The load-shedding level: the highest priority being shed now, or `'none'` (`loadSheddingSnapshot().level`). */
export type SheddingLevel = 'none' | SheddablePriority;

const LEVEL_NAMES: readonly SheddingLevel[] = ['none', 'low', 'normal', 'high'];

/**
 * The pure part of load shedding: hysteresis over event-loop delay samples, one level per sheddable priority. A
 * priority starts being shed at the first sample above its `maxEventLoopDelay` and served again at the first sample
 * at or below its `recoverEventLoopDelay`; samples in between keep its current state, so a delay hovering around
 * one bound does not flap. Since bounds rise and recovery bounds never fall from 'low' to 'high' (checked by the
 * config), the priorities being shed are always the lowest ones: `level` of them. No clock, no timers.
 */
export class SheddingState {
  /** Whether any work is refused now ('low' is shed). */
  active = false;
  /** How many priorities are shed now, 0–3: 1 = 'low', 2 = 'low' and 'normal', 3 = all but 'critical'. */
  levelCount = 0;
  /** Per priority: refused now? Read by the executor and the middleware (`shed[cfg.priority]`, one lookup). */
  readonly shed: Record<ShedPriority, boolean> = { critical: false, high: false, normal: false, low: false };
  /** The latest delay sample, ms. */
  delayMs = 0;
  /** When shedding last started (`now` of that sample), -1 before. */
  startedAt = -1;
  /** How many times shedding ('low', i.e. any) started. */
  episodes = 0;

  /** The highest priority being shed, or `'none'`. */
  get level(): SheddingLevel {
    return LEVEL_NAMES[this.levelCount]!;
  }

  /** Takes one sample; true when the state of any priority changed. */
  sample(delayMs: number, now: number, config: LoadSheddingConfig): boolean {
    this.delayMs = delayMs;
    let changed = false;
    for (const level of config.levels) {
      const shed = this.shed[level.priority];
      if (!shed && delayMs > level.maxEventLoopDelay) {
        this.shed[level.priority] = true;
        changed = true;
      } else if (shed && delayMs <= level.recoverEventLoopDelay) {
        this.shed[level.priority] = false;
        changed = true;
      }
    }
    if (!changed) return false;
    const wasActive = this.active;
    this.active = this.shed.low;
    this.levelCount = this.shed.high ? 3 : this.shed.normal ? 2 : this.shed.low ? 1 : 0;
    if (this.active && !wasActive) {
      this.startedAt = now;
      this.episodes++;
    }
    return true;
  }

  /** Back to not shedding (load shedding switched off). */
  clear(): void {
    this.active = false;
    this.levelCount = 0;
    this.shed.low = this.shed.normal = this.shed.high = false;
    this.delayMs = 0;
  }
}
