/** @internal first reconnect delay (ms) before jitter; doubles per failed attempt. */
export const RECONNECT_BASE_MS = 500;
/** @internal the longest wait between two reconnect attempts (ms). */
export const RECONNECT_CAP_MS = 10_000;

/**
 * @internal the wait before reconnect attempt `attempt` (0 = the first after a drop): exponential backoff with
 * "equal jitter" — a ceiling of `base × 2^attempt`, capped at `capMs`, and a wait drawn uniformly from its upper
 * half, so instances dropped together do not all come back in the same millisecond, and no wait is near zero.
 * Pure: `random` is a number in [0, 1).
 */
export function reconnectDelay(attempt: number, random: number, baseMs = RECONNECT_BASE_MS, capMs = RECONNECT_CAP_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
