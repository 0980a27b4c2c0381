/**
 * @internal one adaptive concurrency-limit algorithm (concurrency-limits' `Limit`): it is told each sample of a call
 * that reached the dependency — its round-trip time, how many calls were in flight, and whether it was dropped (a
 * failure or a timeout) — and keeps the current limit. Pure: no clock, no timers; `rttMs` is measured by the caller.
 */
export interface LimitAlgorithm {
  /** The current limit (a whole number of concurrent calls). */
  readonly limit: number;
  /** One sample. */
  onSample(rttMs: number, inflight: number, didDrop: boolean): void;
}
