/**
 * A hand-written SVG bar chart of the results (no dependencies): one bar per scenario, cost relative to its bare
 * baseline on a log scale, coloured by library, with breakwater's targets marked; each like-for-like pair (the
 * peer's bar, then breakwater's configured as it) on a shaded band with its × peer; the start-up rows last.
 */
import { GROUP_ORDER, PEER_LABEL, times, type Row } from './report.js';
import type { Group, Library } from './scenario.js';
import { STARTUP_TARGET, type StartupResult } from './startup.js';

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

const fmt = times;

/** The floor each group's floor-targeted breakwater row is drawn against (see bench/floor.ts). */
const FLOOR_OF_GROUP: Partial<Record<Group, string>> = {
  success: 'settleableTwoClocks',
  sync: 'twoClocks',
  open: 'resolvedTwoClocks',
  inflight: 'inflightTwoClocks', // against the bare batch, as the in-flight rows are drawn
};

/** Where a row's own target sits on the chart's axis (its chartRatio's terms), if it can be drawn. */
function targetRatio(row: Row, rows: readonly Row[], floors: Record<string, number>): number | undefined {
  const t = row.target;
  if (t === undefined) return undefined;
  const bound = t.kind === 'max' ? t.value : 1 / t.value;
  switch (t.against) {
    case 'await':
      return row.chartRatio === row.ratio ? bound : undefined; // drawn against another base
    case 'reference':
      return row.chartRatio === row.ratio ? undefined : bound;
    case 'floor': {
      const floor = floors[t.floor ?? ''];
      return floor === undefined || row.chartRatio !== row.ratio ? undefined : floor * bound;
    }
    case 'row': {
      const other = rows.find((r) => r.id === t.row);
      return other === undefined ? undefined : other.chartRatio * bound;
    }
  }
}

/** A bar of the chart: a scenario row, or a start-up row. */
interface Bar {
  readonly label: string;
  readonly library: Library;
  readonly value: number;
  readonly tooltip: string;
  /** Text after the value, e.g. `0.93× peer`. */
  readonly extra?: string;
  /** Marks on the bar's line: a target (green met, red missed) or a floor (dashed grey). */
  readonly marks: { readonly at: number; readonly kind: 'met' | 'missed' | 'floor'; readonly title: string }[];
  /** The second row of a like-for-like pair (a shaded band joins it to the row above). */
  readonly pairEnd?: boolean;
}

function scenarioBars(rows: readonly Row[], g: Group, floors: Record<string, number>): Bar[] {
  return rows.filter((r) => r.group === g).map((row): Bar => {
    const marks: Bar['marks'][number][] = [];
    const floorName = FLOOR_OF_GROUP[row.group];
    const floor = row.target !== undefined && row.library === 'breakwater' && floorName !== undefined ? floors[floorName] : undefined;
    if (floor !== undefined) marks.push({ at: floor, kind: 'floor', title: `floor ${fmt(floor)}` });
    const t = targetRatio(row, rows, floors);
    if (t !== undefined) marks.push({ at: t, kind: row.target!.met === true ? 'met' : 'missed', title: `target ${row.target!.label}` });
    const like = row.like;
    const peer = like?.vsPeer === undefined ? undefined : rows.find((r) => r.id === like.peer);
    if (peer !== undefined) marks.push({ at: peer.chartRatio, kind: like!.met === true ? 'met' : 'missed', title: `target ${PEER_LABEL}` });
    return {
      label: `${row.library} · ${row.title}`,
      library: row.library,
      value: row.chartRatio,
      tooltip: `${row.library} · ${row.title}: ${row.ns.toFixed(0)} ns/call, ${fmt(row.chartRatio)}`,
      ...(like?.vsPeer === undefined ? {} : { extra: `${fmt(like.vsPeer)} peer`, pairEnd: true }),
      marks,
    };
  });
}

function startupBars(s: StartupResult): Bar[] {
  const cockatiel = s.rows.find((r) => r.library === 'cockatiel')?.ms;
  if (cockatiel === undefined) return [];
  return s.rows.map((r): Bar => {
    const value = r.ms / cockatiel;
    const own = r.library === 'breakwater';
    return {
      label: `${r.library} · import() in a fresh process`,
      library: r.library as Library,
      value,
      tooltip: `${r.library}: import() ${r.ms.toFixed(1)} ms, ${fmt(value)} cockatiel's`,
      extra: `${r.ms.toFixed(1)} ms`,
      marks: own ? [{ at: STARTUP_TARGET, kind: value <= STARTUP_TARGET ? 'met' : 'missed', title: `target ≤ ${STARTUP_TARGET}× cockatiel's import()` }] : [],
    };
  });
}

const MARK_COLORS = { met: '#2f9e44', missed: '#d1242f', floor: '#555' } as const;

/**
 * Renders the SVG. `subtitle` names the machine and date; `floors` (ratios by floor name, from the same run) adds
 * a grey mark on the floor-targeted rows at what any wrapper with the same guarantees pays; `startup` adds the
 * import times as a last section.
 */
export function renderChart(rows: readonly Row[], subtitle: string, floors: Record<string, number> = {}, startup?: StartupResult): string {
  const sections: { title: string; bars: Bar[] }[] = GROUP_ORDER.filter((g) => rows.some((r) => r.group === g)).map((g) => ({
    title: GROUP_TITLES[g],
    bars: scenarioBars(rows, g, floors),
  }));
  if (startup !== undefined) sections.push({ title: "Start-up — import() in a fresh process, × cockatiel's", bars: startupBars(startup) });
  const all = sections.flatMap((s) => s.bars);
  const width = 1100;
  const labelW = 420;
  const valueW = 130;
  const plotX = labelW + 10;
  const plotW = width - plotX - valueW;
  const rowH = 20;
  const barH = 13;
  const top = 88;
  const max = Math.max(10, ...all.map((b) => b.value), ...all.flatMap((b) => b.marks.map((m) => m.at)));
  const min = Math.min(0.5, ...all.map((b) => b.value));
  const lo = Math.log10(min >= 0.5 ? 0.5 : min >= 0.2 ? 0.2 : 0.1);
  const hi = Math.log10(10 ** Math.ceil(Math.log10(max)));
  const x = (r: number): number => plotX + ((Math.log10(Math.max(r, 10 ** lo)) - lo) / (hi - lo)) * plotW;

  const parts: string[] = [];
  /** The shaded bands of the pairs, drawn before everything else so bars and text sit on top of them. */
  const bands: string[] = [];
  let y = top;
  const ticks: number[] = [];
  for (let d = Math.floor(lo); 10 ** d <= 10 ** hi; d++) for (const m of [1, 2, 5]) if (m * 10 ** d <= 10 ** hi && m * 10 ** d >= 10 ** lo - 1e-9) ticks.push(m * 10 ** d);
  const heightOf = sections.reduce((h, s) => h + 26 + s.bars.length * rowH + 8, 0);
  const bottom = top + heightOf;

  for (const t of ticks) {
    const tx = x(t).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom}" stroke="${t === 1 ? '#888' : '#e3e3e3'}" stroke-width="1"/>`);
    parts.push(`<text x="${tx}" y="${bottom + 14}" text-anchor="middle" class="tick">${t}×</text>`);
  }
  for (const section of sections) {
    parts.push(`<text x="10" y="${y + 15}" class="group">${escapeXml(section.title)}</text>`);
    y += 26;
    for (const bar of section.bars) {
      if (bar.pairEnd === true) bands.push(`<rect x="4" y="${y - rowH + 1}" width="${width - 8}" height="${2 * rowH - 2}" fill="#f1f5fb" rx="3"/>`);
      const bx = x(10 ** lo);
      const bw = Math.max(1, x(bar.value) - bx);
      const cy = y + (rowH - barH) / 2;
      parts.push(`<text x="${labelW}" y="${y + 14}" text-anchor="end" class="label">${escapeXml(bar.label)}</text>`);
      parts.push(
        `<rect x="${bx.toFixed(1)}" y="${cy.toFixed(1)}" width="${bw.toFixed(1)}" height="${barH}" fill="${COLORS[bar.library]}" rx="2"><title>${escapeXml(bar.tooltip)}</title></rect>`,
      );
      const text = bar.extra === undefined ? fmt(bar.value) : `${fmt(bar.value)} · ${bar.extra}`;
      // the value after the bar and after any mark beyond it, so no mark crosses the text
      const tx = Math.max(bx + bw, ...bar.marks.map((m) => x(m.at) + 1)) + 5;
      parts.push(`<text x="${tx.toFixed(1)}" y="${y + 14}" class="value">${escapeXml(text)}</text>`);
      for (const m of bar.marks) {
        const mx = x(m.at).toFixed(1);
        const style = m.kind === 'floor' ? 'stroke-width="2" stroke-dasharray="3,2"' : 'stroke-width="2.5"';
        parts.push(`<line x1="${mx}" y1="${y + 1}" x2="${mx}" y2="${y + rowH - 1}" stroke="${MARK_COLORS[m.kind]}" ${style}><title>${escapeXml(m.title)}</title></line>`);
      }
      y += rowH;
    }
    y += 8;
  }
  const legendY = 48;
  let lx = 10;
  const legend: string[] = [];
  for (const lib of Object.keys(COLORS) as Library[]) {
    if (!all.some((b) => b.library === lib)) continue;
    legend.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[lib]}" rx="2"/><text x="${lx + 17}" y="${legendY}" class="label">${lib}</text>`);
    lx += 30 + lib.length * 7.5;
  }
  legend.push(
    `<line x1="${lx}" y1="${legendY - 11}" x2="${lx}" y2="${legendY + 2}" stroke="#2f9e44" stroke-width="2.5"/><text x="${lx + 7}" y="${legendY}" class="label">target (green met, red missed)</text>`,
  );
  lx += 200;
  if (Object.keys(floors).length > 0) {
    legend.push(
      `<line x1="${lx}" y1="${legendY - 11}" x2="${lx}" y2="${legendY + 2}" stroke="#555" stroke-width="2" stroke-dasharray="3,2"/><text x="${lx + 7}" y="${legendY}" class="label">floor: two clock reads (+ the Promise) alone</text>`,
    );
  }
  if (rows.some((r) => r.like?.vsPeer !== undefined)) {
    const text = `like for like: the peer's row, then breakwater configured to do the same work; "× peer" is breakwater's figure ÷ the peer's (target ${PEER_LABEL})`;
    legend.push(`<rect x="10" y="${legendY + 6}" width="22" height="14" fill="#f1f5fb" rx="3"/><text x="37" y="${legendY + 17}" class="label">${escapeXml(text)}</text>`);
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
    ...bands,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
