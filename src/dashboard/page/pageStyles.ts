/**
 * @internal the dashboard page's stylesheet, inlined into the page (no build step, no CDN). Light by default, dark
 * when the browser prefers it; every text colour meets WCAG AA contrast on its background.
 */
export const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f3f5f9;
  --panel: #ffffff;
  --panel-2: #f8fafc;
  --border: #dfe4ec;
  --text: #0f172a;
  --muted: #4b5563;
  --faint: #6b7280;
  --accent: #1d4ed8;
  --accent-soft: #dbeafe;
  --ok: #15803d;
  --ok-soft: #dcfce7;
  --ok-text: #14532d;
  --bad: #b91c1c;
  --bad-soft: #fee2e2;
  --bad-text: #7f1d1d;
  --warn: #b45309;
  --warn-soft: #fef3c7;
  --warn-text: #78350f;
  --rate: #2563eb;
  --lat: #c2410c;
  --shadow: 0 1px 2px rgba(15, 23, 42, .06), 0 4px 12px rgba(15, 23, 42, .05);
  --radius: 12px;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b1120;
    --panel: #111a2e;
    --panel-2: #0f172a;
    --border: #243049;
    --text: #e5e9f2;
    --muted: #a7b0c2;
    --faint: #8b95a8;
    --accent: #93b4ff;
    --accent-soft: #1e2b4d;
    --ok: #4ade80;
    --ok-soft: #0f2f1d;
    --ok-text: #86efac;
    --bad: #f87171;
    --bad-soft: #3b1414;
    --bad-text: #fca5a5;
    --warn: #fbbf24;
    --warn-soft: #3a2a0a;
    --warn-text: #fcd34d;
    --rate: #60a5fa;
    --lat: #fb923c;
    --shadow: none;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  background: var(--bg);
  color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Helvetica Neue", Arial, sans-serif;
  -webkit-font-smoothing: antialiased;
}
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}
.topbar {
  position: sticky; top: 0; z-index: 2;
  display: flex; flex-wrap: wrap; align-items: center; gap: 12px 20px;
  padding: 12px 24px;
  background: color-mix(in srgb, var(--panel) 92%, transparent);
  backdrop-filter: blur(6px);
  border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: center; gap: 10px; margin: 0; font-size: 17px; font-weight: 650; letter-spacing: -.01em; }
.brand svg { flex: none; }
.brand small { font-weight: 500; color: var(--muted); font-size: 13px; }
.streams { display: flex; flex-wrap: wrap; gap: 6px; margin: 0; padding: 0; list-style: none; }
.conn {
  display: inline-flex; align-items: center; gap: 6px;
  padding: 3px 10px; border-radius: 999px;
  background: var(--panel-2); border: 1px solid var(--border);
  color: var(--muted); font-size: 12px;
}
.conn::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: var(--faint); }
.conn[data-status="live"]::before { background: var(--ok); }
.conn[data-status="down"]::before { background: var(--bad); }
.conn[data-status="connecting"]::before, .conn[data-status="silent"]::before { background: var(--warn); }
.problems { margin: 0 0 16px; padding: 0; list-style: none; display: flex; flex-direction: column; gap: 6px; }
.problems[hidden] { display: none; }
.problems li {
  padding: 8px 12px; border-radius: 8px; font-size: 13px;
  background: var(--bad-soft); color: var(--bad-text); overflow-wrap: anywhere;
}
.problems li[data-status="silent"] { background: var(--warn-soft); color: var(--warn-text); }
.problems strong { font-weight: 650; margin-right: 4px; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; margin-left: auto; }
.seg { display: inline-flex; border: 1px solid var(--border); border-radius: 8px; overflow: hidden; background: var(--panel-2); }
.seg-label { color: var(--muted); font-size: 12px; margin-right: 2px; }
.seg button {
  appearance: none; border: 0; background: transparent; color: var(--text);
  font: inherit; font-size: 13px; padding: 5px 12px; cursor: pointer;
}
.seg button + button { border-left: 1px solid var(--border); }
.seg button[aria-pressed="true"] { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
.seg button:focus-visible, .filter:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.filter {
  font: inherit; font-size: 13px; color: var(--text);
  background: var(--panel-2); border: 1px solid var(--border); border-radius: 8px;
  padding: 5px 10px; width: 180px;
}
main { padding: 20px 24px 40px; max-width: 1680px; margin: 0 auto; }
.section-head { display: flex; align-items: baseline; gap: 10px; margin: 4px 0 12px; }
.section-head h2 { margin: 0; font-size: 15px; font-weight: 650; }
.section-head .summary { color: var(--muted); font-size: 13px; }
.empty {
  padding: 28px; text-align: center; color: var(--muted);
  background: var(--panel); border: 1px dashed var(--border); border-radius: var(--radius);
}
.grid { position: relative; --card-h: 416px; margin-bottom: 28px; }
.grid-window { display: grid; gap: 16px; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); will-change: transform; }
.card {
  position: relative; overflow: hidden;
  background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius);
  box-shadow: var(--shadow);
  padding: 14px 16px 12px;
  display: flex; flex-direction: column; gap: 10px;
  height: var(--card-h); contain: layout paint style;
}
.card > * { flex: none; }
.card::before { content: ""; position: absolute; left: 0; right: 0; top: 0; height: 3px; background: var(--ok); }
.card[data-state="open"]::before { background: var(--bad); }
.card[data-state="half-open"]::before { background: var(--warn); }
.card[data-stale="true"] { opacity: .55; }
.card-head { display: flex; align-items: flex-start; justify-content: space-between; gap: 10px; }
.titles { min-width: 0; }
.name {
  margin: 0; font-size: 15px; font-weight: 650; line-height: 1.3;
  overflow-wrap: anywhere; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; line-clamp: 2; overflow: hidden;
}
.group { margin: 1px 0 0; color: var(--muted); font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.state {
  flex: none; display: inline-flex; align-items: center; gap: 6px;
  padding: 3px 10px 3px 8px; border-radius: 999px;
  font-size: 12px; font-weight: 650; letter-spacing: .01em;
  background: var(--ok-soft); color: var(--ok-text);
}
.state svg { width: 10px; height: 10px; }
.state[data-state="open"] { background: var(--bad-soft); color: var(--bad-text); }
.state[data-state="half-open"] { background: var(--warn-soft); color: var(--warn-text); }
.kpis { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
.kpi { display: flex; flex-direction: column; }
.kpi-value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; letter-spacing: -.02em; line-height: 1.15; }
.kpi-value[data-level="warn"] { color: var(--warn); }
.kpi-value[data-level="bad"] { color: var(--bad); }
.kpi-label { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em; }
.spark-wrap { background: var(--panel-2); border: 1px solid var(--border); border-radius: 8px; padding: 6px 8px 4px; }
.spark { display: block; width: 100%; height: 44px; }
.spark .rate-area { fill: var(--rate); opacity: .14; }
.spark .rate-line { fill: none; stroke: var(--rate); stroke-width: 1.6; vector-effect: non-scaling-stroke; }
.spark .lat-line { fill: none; stroke: var(--lat); stroke-width: 1.6; stroke-dasharray: 4 3; vector-effect: non-scaling-stroke; }
.legend { display: flex; justify-content: space-between; gap: 8px; font-size: 11px; color: var(--muted); margin-top: 2px; }
.legend .key { display: inline-flex; align-items: center; gap: 5px; white-space: nowrap; }
.legend .swatch { width: 12px; height: 0; border-top: 2px solid var(--rate); }
.legend .swatch.lat { border-top: 2px dashed var(--lat); }
.counts, .latency { display: grid; gap: 6px 10px; margin: 0; }
.counts { grid-template-columns: repeat(3, 1fr); }
.latency { grid-template-columns: repeat(4, 1fr); padding-top: 8px; border-top: 1px solid var(--border); }
.counts div, .latency div { min-width: 0; }
.counts dt, .latency dt { color: var(--muted); font-size: 11.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.counts dd, .latency dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; font-size: 14px; }
.counts div { padding-left: 8px; border-left: 3px solid var(--border); }
.counts .c-success { border-color: var(--ok); }
.counts .c-failure { border-color: var(--bad); }
.counts .c-timeout { border-color: var(--lat); }
.counts .c-rejected { border-color: #7c3aed; }
.counts .c-short { border-color: var(--warn); }
.counts .c-fallback { border-color: var(--rate); }
.latency dd .unit { color: var(--muted); font-weight: 500; font-size: 11.5px; margin-left: 1px; }
.card-foot { display: flex; align-items: flex-start; gap: 8px; margin-top: auto; max-height: 42px; overflow: hidden; }
.notes { flex: 1; display: flex; flex-wrap: wrap; gap: 6px; margin: 0; padding: 0; list-style: none; font-size: 11.5px; color: var(--muted); }
.details, .details-close {
  margin-left: auto; flex: none; appearance: none; font: inherit; font-size: 12px; cursor: pointer;
  color: var(--accent); background: transparent; border: 1px solid var(--border); border-radius: 6px; padding: 1px 8px;
}
.details:hover, .details-close:hover { background: var(--accent-soft); }
.details:focus-visible, .details-close:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.details-dialog {
  width: min(720px, calc(100vw - 32px)); max-height: calc(100vh - 64px); overflow: auto;
  background: var(--panel); color: var(--text); border: 1px solid var(--border); border-radius: var(--radius); padding: 18px 20px;
}
.details-dialog::backdrop { background: rgba(15, 23, 42, .45); }
.details-head { display: flex; align-items: flex-start; gap: 12px; }
.details-head h2 { margin: 0; font-size: 16px; overflow-wrap: anywhere; flex: 1; }
.details-dialog p { margin: 6px 0; color: var(--muted); }
.details-dialog .table-wrap { margin-top: 12px; box-shadow: none; }
.details-dialog .details-note { padding: 10px 12px; border-radius: 8px; background: var(--panel-2); border: 1px solid var(--border); color: var(--text); }
.instances tr[data-state="open"] td:nth-child(2) { color: var(--bad); font-weight: 650; }
.instances tr[data-state="half-open"] td:nth-child(2) { color: var(--warn); font-weight: 650; }
.instances tr[data-dropped="true"] td { color: var(--faint); }
.state-hosts { font-weight: 500; }
.notes li { padding: 1px 8px; border-radius: 999px; background: var(--panel-2); border: 1px solid var(--border); }
.notes li[data-tone="bad"] { color: var(--bad-text); background: var(--bad-soft); border-color: transparent; }
.table-wrap { overflow-x: auto; background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 9px 14px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); font-weight: 600; background: var(--panel-2); border-bottom: 1px solid var(--border); }
tbody tr + tr td { border-top: 1px solid var(--border); }
tbody td:first-child { font-weight: 600; }
td[data-level="bad"] { color: var(--bad); font-weight: 650; }
.bar { display: inline-block; vertical-align: middle; width: 60px; height: 6px; margin-left: 8px; border-radius: 3px; background: var(--border); overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--rate); }
footer { color: var(--faint); font-size: 12px; text-align: center; padding: 0 24px 24px; }
@media (max-width: 640px) {
  .topbar { padding: 10px 14px; }
  main { padding: 14px; }
  .controls { margin-left: 0; }
}
`;
