/** Number formatting shared by the cards and the pool table (pure: no DOM). */

/** A finite number from a stream field, 0 for anything else. */
export function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** A count: 1,234 / 12.3k / 1.2M. */
export function fmtCount(value: number): string {
  const n = Math.round(num(value));
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toLocaleString('en-US');
}

/** A rate per second: one decimal below 10. */
export function fmtRate(value: number): string {
  const n = num(value);
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(1);
  return fmtCount(n);
}

/** Milliseconds: 1.5 / 42 / 350 / 12.0s. */
export function fmtMs(value: number): string {
  const n = num(value);
  if (n >= 10000) return `${(n / 1000).toFixed(1)}s`;
  if (n >= 100) return String(Math.round(n));
  if (n >= 10) return n.toFixed(0);
  return n.toFixed(1).replace(/\.0$/, '');
}

/** A whole percentage. */
export function fmtPct(value: number): string {
  return `${Math.round(num(value))}%`;
}

/** Seconds, for "retrying in 4 s" and "no data for 20 s". */
export function fmtSeconds(ms: number): string {
  return `${Math.max(0, Math.ceil(ms / 1000))} s`;
}
