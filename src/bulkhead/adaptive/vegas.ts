import type { LimitAlgorithm } from './LimitAlgorithm.js';

/** @internal the settings {@link VegasLimit} reads. */
export interface VegasSettings {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Weight of a new estimate, (0, 1]. */
  readonly smoothing: number;
  /** The no-load RTT is re-probed about every `probeMultiplier × limit` samples. */
  readonly probeMultiplier: number;
  /** A number in [0, 1), for the probe's jitter (a seeded generator in simulations). */
  readonly random: () => number;
}

/** concurrency-limits' `Log10RootIntFunction`: max(1, floor(log10(n))). */
function log10(n: number): number {
  return n < 10 ? 1 : Math.max(1, Math.floor(Math.log10(n)));
}

/**
 * `algorithm: 'vegas'`, concurrency-limits' `VegasLimit` (v0.5.4), after TCP Vegas: it estimates the queue at the
 * dependency as `limit × (1 − rttNoLoad / rtt)`, where `rttNoLoad` is the lowest RTT seen (re-probed now and
 * then), and keeps that queue between `alpha = 3·log10(limit)` and `beta = 6·log10(limit)`: it grows by `beta`
 * with no queue (at most `log10(limit)`), by `log10(limit)` below `alpha`, shrinks by `log10(limit)` above `beta`
 * or on a drop, and does not grow while fewer than half the limit are in flight.
 */
export class VegasLimit implements LimitAlgorithm {
  private estimated: number;
  private rttNoLoad = 0;
  private probeCount = 0;
  private probeJitter: number;

  constructor(private readonly s: VegasSettings) {
    this.estimated = s.initialLimit;
    this.probeJitter = this.jitter();
  }

  get limit(): number {
    return Math.trunc(this.estimated);
  }

  onSample(rttMs: number, inflight: number, didDrop: boolean): void {
    if (rttMs <= 0) return; // a 0 ms sample says nothing about queueing (concurrency-limits refuses it)
    this.probeCount++;
    if (this.probeJitter * this.s.probeMultiplier * this.estimated <= this.probeCount) {
      this.probeJitter = this.jitter();
      this.probeCount = 0;
      this.rttNoLoad = rttMs;
      return;
    }
    if (this.rttNoLoad === 0 || rttMs < this.rttNoLoad) {
      this.rttNoLoad = rttMs;
      return;
    }
    const limit = this.estimated;
    const queue = Math.ceil(limit * (1 - this.rttNoLoad / rttMs));
    let next: number;
    if (didDrop) next = limit - log10(Math.trunc(limit));
    else if (inflight * 2 < limit) return; // app-limited: no upward drift
    else {
      const l = Math.trunc(limit);
      const alpha = 3 * log10(l);
      const beta = 6 * log10(l);
      const threshold = log10(l);
      if (queue <= threshold) next = limit + beta;
      else if (queue < alpha) next = limit + log10(l);
      else if (queue > beta) next = limit - log10(l);
      else return;
    }
    next = Math.max(this.s.minLimit, Math.min(this.s.maxLimit, next));
    this.estimated = (1 - this.s.smoothing) * limit + this.s.smoothing * next;
  }

  private jitter(): number {
    return 0.5 + this.s.random() * 0.5;
  }
}
