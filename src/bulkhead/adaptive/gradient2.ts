import type { LimitAlgorithm } from './LimitAlgorithm.js';

/** @internal the settings {@link Gradient2Limit} reads. */
export interface Gradient2Settings {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Weight of a new estimate, (0, 1]. */
  readonly smoothing: number;
  /** How far the limit may grow past the gradient's estimate (queue allowance). */
  readonly queueSize: number;
  /** Samples in the long-term RTT's exponential average. */
  readonly longWindow: number;
  /** How much slower than the long-term RTT the current RTT may be before the limit shrinks (≥ 1). */
  readonly rttTolerance: number;
}

/** Samples averaged plainly before the exponential average starts (concurrency-limits' warm-up window). */
const WARMUP = 10;

/**
 * `algorithm: 'gradient2'`, concurrency-limits' `Gradient2Limit` (v0.5.4): compares each sample's RTT with a
 * long-term exponential average of RTTs (`longWindow` samples): `gradient = clamp(rttTolerance × longRtt / rtt,
 * 0.5, 1)`, `limit ← (1 − smoothing)·limit + smoothing·(limit·gradient + queueSize)`. A sudden rise of latency gives
 * a gradient below 1 and the limit falls fast; a slow climb moves the long-term average along with it, so the limit
 * keeps growing. When latency falls well below the average (by half), the average decays 5% per sample. It does not
 * grow while fewer than half the limit are in flight. As in concurrency-limits, a drop is only its RTT.
 */
export class Gradient2Limit implements LimitAlgorithm {
  private estimated: number;
  private longRtt = 0;
  private longSum = 0;
  private longCount = 0;

  constructor(private readonly s: Gradient2Settings) {
    this.estimated = s.initialLimit;
  }

  get limit(): number {
    return Math.trunc(this.estimated);
  }

  onSample(rttMs: number, inflight: number, _didDrop?: boolean): void {
    const limit = this.estimated;
    const rtt = Math.max(rttMs, 1e-3);
    const longRtt = this.addLong(rtt);
    if (longRtt / rtt > 2) this.longRtt = longRtt * 0.95;
    if (inflight < limit / 2) return;
    const gradient = Math.max(0.5, Math.min(1, (this.s.rttTolerance * longRtt) / rtt));
    let next = limit * gradient + this.s.queueSize;
    next = limit * (1 - this.s.smoothing) + next * this.s.smoothing;
    this.estimated = Math.max(this.s.minLimit, Math.min(this.s.maxLimit, next));
  }

  private addLong(rtt: number): number {
    if (this.longCount < WARMUP) {
      this.longCount++;
      this.longSum += rtt;
      this.longRtt = this.longSum / this.longCount;
    } else {
      const factor = 2 / (this.s.longWindow + 1);
      this.longRtt = this.longRtt * (1 - factor) + rtt * factor;
    }
    return this.longRtt;
  }
}
