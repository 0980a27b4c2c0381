import type { LimitAlgorithm } from './LimitAlgorithm.js';

/** @internal the settings {@link AimdLimit} reads. */
export interface AimdSettings {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Multiplier applied on a drop, in [0.5, 1). */
  readonly backoffRatio: number;
  /** A sample slower than this (ms) counts as a drop. */
  readonly timeout: number;
}

/**
 * `algorithm: 'aimd'`, concurrency-limits' `AIMDLimit` (v0.5.4): additive increase, multiplicative decrease. A drop
 * (a failure or timeout of the dependency, or a sample slower than `timeout`) multiplies the limit by
 * `backoffRatio` (truncated); any other sample adds 1 while the calls in flight use at least half of the limit.
 * Loss-based: it does not look at latency below `timeout`.
 */
export class AimdLimit implements LimitAlgorithm {
  limit: number;

  constructor(private readonly s: AimdSettings) {
    this.limit = s.initialLimit;
  }

  onSample(rttMs: number, inflight: number, didDrop: boolean): void {
    let next = this.limit;
    if (didDrop || rttMs > this.s.timeout) next = Math.trunc(next * this.s.backoffRatio);
    else if (inflight * 2 >= next) next = next + 1;
    this.limit = Math.min(this.s.maxLimit, Math.max(this.s.minLimit, next));
  }
}
