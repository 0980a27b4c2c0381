/**
 * @internal the warm-up curve of a {@link TokenBucket}, Guava's `SmoothWarmingUp` geometry in tokens and ms.
 *
 * The bucket keeps a "coldness" `c` (Guava's stored permits) between 0 (warm) and {@link WarmUp.max} (cold). The
 * refill rate depends on it: at or below {@link WarmUp.threshold} the full rate; above it the time per token
 * grows linearly up to `coldFactor` times the stable interval at `max`, so a cold bucket refills at
 * `rate / coldFactor`. Every token taken lowers `c` by one; an idle, full bucket raises it by `max / warmupPeriod`
 * per ms. Under saturating demand, going from cold to the threshold takes exactly `warmupPeriod`
 * (the area under the interval line, as in Guava).
 */
export class WarmUp {
  /** Coldness at or below which the bucket refills at the full rate. */
  readonly threshold: number;
  /** Coldness of a fully cold bucket (its starting point). */
  readonly max: number;
  /** Coldness gained per idle ms while the bucket is full. */
  readonly coolPerMs: number;
  private readonly stableMs: number;
  private readonly slope: number;

  constructor(ratePerMs: number, warmupMs: number, coldFactor: number) {
    this.stableMs = 1 / ratePerMs;
    const coldMs = this.stableMs * coldFactor;
    this.threshold = (0.5 * warmupMs) / this.stableMs;
    this.max = this.threshold + (2 * warmupMs) / (this.stableMs + coldMs);
    this.slope = (coldMs - this.stableMs) / (this.max - this.threshold);
    this.coolPerMs = this.max / warmupMs;
  }

  /** Refill rate (tokens per ms) at coldness `c`; never above the full rate. */
  ratePerMs(c: number): number {
    return c <= this.threshold ? 1 / this.stableMs : 1 / (this.stableMs + this.slope * (c - this.threshold));
  }
}
