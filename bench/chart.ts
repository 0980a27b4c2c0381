/**
 * A hand-written SVG bar chart of the results (no dependencies): one bar per scenario, cost relative to its bare
 * baseline on a log scale, coloured by library, with breakwater's targets marked.
 */
import { GROUP_ORDER, type Row } from './report.js';
import type { Group, Library } from './scenario.js';

const COLORS: Record<Library, string> = {
  breakwater: '#1f6feb',
  opossum: '#d97706',
  cockatiel: '#2f9e44',
  hystrixjs: '#8e44ad',
};

const GROUP_TITLES: Record<Group, string> = {
  success: 'Success path — × bare await fn()',
  sync: 'Sync mode — × bare await fn()',
  failure: 'Failure + fallback — × bare try/catch around the same rejecting fn',
  open: 'Open circuit — × bare await fn()',
  inflight: '1,000 calls in flight — × bare Promise.all of the same calls',
  decorated: 'Decorated method — × bare await fn() in the same process (AsyncLocalStorage promise hooks on)',
};

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(r: number): string {
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

/** The cost ratio a target allows, in the chart's terms (a throughput floor becomes a cost ceiling). */
function targetRatio(row: Row): number | undefined {
  const t = row.target;
  if (t === undefined) return undefined;
  if (t.against === 'await' && row.chartRatio !== row.ratio) return undefined; // drawn against another base
  return t.kind === 'max' ? t.value : 1 / t.value;
}

/** The floor each group's targeted breakwater row is drawn against (see bench/floor.ts). */
const FLOOR_OF_GROUP: Partial<Record<Group, string>> = {
  success: 'settleableTwoClocks',
  sync: 'twoClocks',
  open: 'resolvedTwoClocks',
  inflight: 'inflightTwoClocks', // against the bare batch, as the in-flight rows are drawn
};

/**
 * Renders the SVG. `subtitle` names the machine and date; `floors` (ratios by floor name, from the same run) adds
 * a grey mark on the targeted rows at what any wrapper with the same guarantees pays.
 */
export function renderChart(rows: readonly Row[], subtitle: string, floors: Record<string, number> = {}): string {
  const width = 1000;
  const labelW = 330;
  const valueW = 70;
  const plotX = labelW + 10;
  const plotW = width - plotX - valueW;
  const rowH = 20;
  const barH = 13;
  const top = 70;
  const max = Math.max(10, ...rows.map((r) => r.chartRatio));
  const lo = Math.log10(0.5);
  const hi = Math.log10(10 ** Math.ceil(Math.log10(max)));
  const x = (r: number): number => plotX + ((Math.log10(Math.max(r, 0.5)) - lo) / (hi - lo)) * plotW;

  const parts: string[] = [];
  let y = top;
  const groups = GROUP_ORDER.filter((g) => rows.some((r) => r.group === g));
  const ticks: number[] = [];
  for (let d = 0; 10 ** d <= 10 ** hi; d++) for (const m of [1, 2, 5]) if (m * 10 ** d <= 10 ** hi) ticks.push(m * 10 ** d);
  const heightOf = groups.reduce((h, g) => h + 26 + rows.filter((r) => r.group === g).length * rowH + 8, 0);
  const bottom = top + heightOf;

  for (const t of ticks) {
    const tx = x(t).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom}" stroke="${t === 1 ? '#888' : '#e3e3e3'}" stroke-width="1"/>`);
    parts.push(`<text x="${tx}" y="${bottom + 14}" text-anchor="middle" class="tick">${t}×</text>`);
  }
  for (const g of groups) {
    parts.push(`<text x="10" y="${y + 15}" class="group">${escapeXml(GROUP_TITLES[g])}</text>`);
    y += 26;
    for (const row of rows.filter((r) => r.group === g)) {
      const bx = x(0.5);
      const bw = Math.max(1, x(row.chartRatio) - bx);
      const cy = y + (rowH - barH) / 2;
      parts.push(`<text x="${labelW}" y="${y + 14}" text-anchor="end" class="label">${escapeXml(`${row.library} · ${row.title}`)}</text>`);
      parts.push(
        `<rect x="${bx.toFixed(1)}" y="${cy.toFixed(1)}" width="${bw.toFixed(1)}" height="${barH}" fill="${COLORS[row.library]}" rx="2"><title>${escapeXml(
          `${row.library} · ${row.title}: ${row.ns.toFixed(0)} ns/call, ${fmt(row.chartRatio)}`,
        )}</title></rect>`,
      );
      parts.push(`<text x="${(bx + bw + 5).toFixed(1)}" y="${y + 14}" class="value">${fmt(row.chartRatio)}</text>`);
      const floorName = FLOOR_OF_GROUP[row.group];
      const floor = row.target !== undefined && row.library === 'breakwater' && floorName !== undefined ? floors[floorName] : undefined;
      if (floor !== undefined) {
        const fx = x(floor).toFixed(1);
        parts.push(`<line x1="${fx}" y1="${y + 1}" x2="${fx}" y2="${y + rowH - 1}" stroke="#555" stroke-width="2" stroke-dasharray="3,2"><title>floor ${fmt(floor)}</title></line>`);
      }
      const t = targetRatio(row);
      if (t !== undefined) {
        const tx = x(t).toFixed(1);
        const color = row.target!.met ? '#2f9e44' : '#d1242f';
        parts.push(`<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${y + rowH - 1}" stroke="${color}" stroke-width="2.5"><title>target ${escapeXml(row.target!.label)}</title></line>`);
      }
      y += rowH;
    }
    y += 8;
  }
  const legendY = 48;
  let lx = 10;
  const legend: string[] = [];
  for (const lib of Object.keys(COLORS) as Library[]) {
    if (!rows.some((r) => r.library === lib)) continue;
    legend.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[lib]}" rx="2"/><text x="${lx + 17}" y="${legendY}" class="label">${lib}</text>`);
    lx += 30 + lib.length * 7.5;
  }
  legend.push(
    `<line x1="${lx}" y1="${legendY - 11}" x2="${lx}" y2="${legendY + 2}" stroke="#2f9e44" stroke-width="2.5"/><text x="${lx + 7}" y="${legendY}" class="label">target (green met, red missed)</text>`,
  );
  if (Object.keys(floors).length > 0) {
    lx += 200;
    legend.push(
      `<line x1="${lx}" y1="${legendY - 11}" x2="${lx}" y2="${legendY + 2}" stroke="#555" stroke-width="2" stroke-dasharray="3,2"/><text x="${lx + 7}" y="${legendY}" class="label">floor: two clock reads (+ the Promise) alone</text>`,
    );
  }
  const height = bottom + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="title">`,
    `<title id="title">breakwater benchmark: cost per call relative to a bare baseline (log scale, lower is better)</title>`,
    '<style>text{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;fill:#222}.h{font-size:16px;font-weight:600}.sub{font-size:11px;fill:#666}.group{font-size:12px;font-weight:600}.label{font-size:11px}.value{font-size:11px;fill:#444}.tick{font-size:10px;fill:#666}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" class="h">Cost per call relative to a bare baseline (log scale, lower is better)</text>`,
    `<text x="10" y="34" class="sub">${escapeXml(subtitle)}</text>`,
    ...legend,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
