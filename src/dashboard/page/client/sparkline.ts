/** Sparkline paths (pure: no DOM). */

/** The sparkline's narrowest time frame, in samples: a fresh page shows a line rather than a sliver. */
const MIN_FRAME = 20;

/** An SVG path over a 100×40 box for `values` scaled to `max`; `close` makes it an area down to the baseline. */
export function linePath(values: readonly number[], max: number, close: boolean): string {
  const n = values.length;
  if (n === 0) return '';
  const step = 100 / (Math.max(n, MIN_FRAME) - 1);
  const x0 = 100 - (n - 1) * step;
  const y = (v: number): string => (39 - (max > 0 ? (v / max) * 31 : 0)).toFixed(2);
  let d = '';
  for (let i = 0; i < n; i++) d += `${i === 0 ? 'M' : 'L'}${(x0 + i * step).toFixed(2)} ${y(values[i] ?? 0)}`;
  if (n === 1) d += `L100 ${y(values[0] ?? 0)}`;
  if (close) d += `L100 40L${x0.toFixed(2)} 40Z`;
  return d;
}
