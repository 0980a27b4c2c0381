import type { HedgeConfig } from '../config/options.js';
import type { CommandMetrics } from '../metrics/CommandMetrics.js';

/**
 * The hedge delay of one command key: a fixed number, or the key's current `run` latency percentile from its own
 * rolling histogram (`latencyExecute`), read at most once per `metrics.healthSnapshotInterval` (a percentile read
 * costs a fraction of a millisecond, too much for every call). While the histogram is empty, `hedge.floor`.
 *
 * @internal
 */
export class HedgeDelay {
  private ms = 0;
  private readAt = -Infinity;

  /** The delay (ms, at least 1) after which an execution of this key starts its next attempt. */
  delayMs(config: HedgeConfig, metrics: CommandMetrics, now: number): number {
    const delay = config.delay;
    if (typeof delay === 'number') return delay;
    if (now - this.readAt >= metrics.config.healthSnapshotInterval || now < this.readAt) {
      this.readAt = now;
      const latency = metrics.snapshot(now).latencyExecute;
      const p = latency.percentiles[PERCENTILE[delay]];
      this.ms = latency.percentiles['100'] === 0 && latency.mean === 0 ? config.floor : Math.max(1, p);
    }
    return this.ms;
  }
}

const PERCENTILE = { p50: '50', p90: '90', p95: '95', p99: '99' } as const;
