/**
 * The dashboard page's script: reads the configuration the server embedded, opens every stream, keeps the latest
 * HystrixCommand and HystrixThreadPool objects plus a short history per circuit, and renders cards, a pool table
 * and each stream's connection state. Bundled into one inline classic script by `../bundleScript.ts`.
 */
import { Card, type Sample } from './cards.js';
import { connect, type ConnectionStatus } from './connection.js';
import { byId, el, setAttr, setText } from './dom.js';
import { fmtCount, fmtSeconds } from './format.js';
import { readCommand, readPool, type CommandData, type PoolData } from './model.js';

const HISTORY = 60; // sparkline samples
const SAMPLE_MS = 1000; // one sample per second
const STALE_MS = 15_000; // dim a card not reported for this long; call a live stream without data silent
const RENDER_MS = 250; // at most four renders a second

interface PageStream {
  readonly url: string;
  readonly label: string;
}

interface StreamState {
  readonly url: string;
  readonly label: string;
  readonly badge: HTMLElement;
  status: ConnectionStatus;
  /** performance.now() of the last data frame, -1 before the first. */
  lastDataAt: number;
}

interface Circuit {
  readonly id: string;
  readonly stream: number;
  data: CommandData;
  readonly hist: Sample[];
  lastSampleAt: number;
  seenAt: number;
  card: Card | undefined;
}

interface Pool {
  readonly id: string;
  readonly stream: number;
  data: PoolData;
  seenAt: number;
}

type SortKey = 'error' | 'volume' | 'name';

function readConfig(): { streams: PageStream[] } {
  try {
    const parsed = JSON.parse(byId('bw-config').textContent || '{}') as { streams?: unknown };
    const streams = Array.isArray(parsed.streams) ? parsed.streams : [];
    return {
      streams: streams
        .filter((s): s is { url: string; label?: unknown } => s !== null && typeof s === 'object' && typeof (s as { url?: unknown }).url === 'string')
        .map((s) => ({ url: s.url, label: typeof s.label === 'string' ? s.label : s.url })),
    };
  } catch {
    return { streams: [] };
  }
}

const config = readConfig();
const multi = config.streams.length > 1;
const circuits = new Map<string, Circuit>();
const pools = new Map<string, Pool>();
let sortBy: SortKey = 'error';
let filterText = '';
let renderTimer = 0;
let lastDataWall: Date | undefined;

const gridEl = byId('circuits');
const circuitsEmpty = byId('circuits-empty');
const circuitsSummary = byId('circuits-summary');
const poolBody = byId('pool-rows');
const poolsSection = byId('pools-section');
const poolsSummary = byId('pools-summary');
const streamsEl = byId('streams');
const problemsEl = byId('problems');
const updatedEl = byId('updated');
const filterEl = byId<HTMLInputElement>('filter');

// ---------- data ----------
function onObject(stream: number, d: unknown): void {
  if (d === null || typeof d !== 'object') return;
  if (Array.isArray(d)) {
    for (const item of d) onObject(stream, item);
    return;
  }
  const fields = d as Record<string, unknown>;
  if (fields.name === undefined || fields.name === null) return;
  const now = performance.now();
  const id = `${stream}\u0000${String(fields.name)}`;
  if (fields.type === 'HystrixCommand') {
    const data = readCommand(fields);
    let c = circuits.get(id);
    if (c === undefined) {
      c = { id, stream, data, hist: [], lastSampleAt: -Infinity, seenAt: now, card: undefined };
      circuits.set(id, c);
    }
    c.data = data;
    c.seenAt = now;
    const sample = { rate: data.rate, lat: data.p90 };
    if (now - c.lastSampleAt >= SAMPLE_MS || c.hist.length === 0) {
      c.hist.push(sample);
      if (c.hist.length > HISTORY) c.hist.shift();
      c.lastSampleAt = now;
    } else {
      c.hist[c.hist.length - 1] = sample;
    }
    scheduleRender();
  } else if (fields.type === 'HystrixThreadPool') {
    pools.set(id, { id, stream, data: readPool(fields), seenAt: now });
    scheduleRender();
  }
}

// ---------- streams ----------
const streamStates: StreamState[] = config.streams.map((s) => {
  const badge = el('li', 'conn', s.label);
  streamsEl.append(badge);
  return { url: s.url, label: s.label, badge, status: { kind: 'connecting', attempt: 1 }, lastDataAt: -1 };
});

function openStreams(): void {
  streamStates.forEach((state, index) => {
    connect(state.url, {
      onData(value) {
        state.lastDataAt = performance.now();
        lastDataWall = new Date();
        onObject(index, value);
      },
      onStatus(status) {
        state.status = status;
        renderStreams();
        scheduleRender();
      },
    });
  });
}

function describe(s: StreamState, now: number): { kind: string; text: string; problem: string } {
  const st = s.status;
  if (st.kind === 'connecting') {
    return { kind: 'connecting', text: st.attempt > 1 ? `reconnecting (attempt ${st.attempt})` : 'connecting', problem: '' };
  }
  if (st.kind === 'down') {
    const when = st.retryAt > now ? `retrying in ${fmtSeconds(st.retryAt - now)}` : 'retrying now';
    const text = `unreachable: ${st.error}; ${when} (attempt ${st.attempt})`;
    return { kind: 'down', text, problem: text };
  }
  const quietFor = now - Math.max(st.since, s.lastDataAt);
  if (quietFor > STALE_MS) {
    const text = s.lastDataAt < 0 ? `connected, no data for ${fmtSeconds(quietFor)}` : `connected, silent for ${fmtSeconds(quietFor)}`;
    return { kind: 'silent', text, problem: text };
  }
  return { kind: 'live', text: s.lastDataAt < 0 ? 'connected, waiting for the first sample' : 'live', problem: '' };
}

function renderStreams(): void {
  const now = performance.now();
  const problems: HTMLElement[] = [];
  for (const s of streamStates) {
    const d = describe(s, now);
    setAttr(s.badge, 'data-status', d.kind);
    setAttr(s.badge, 'aria-label', `Stream ${s.label}: ${d.text}`);
    const title = `${s.label}: ${d.text}`;
    if (s.badge.title !== title) s.badge.title = title;
    if (d.problem) {
      const li = el('li', '', '');
      li.setAttribute('data-status', d.kind);
      li.append(el('strong', '', s.label), document.createTextNode(` ${d.problem}`));
      problems.push(li);
    }
  }
  const key = problems.map((p) => p.textContent).join('\n');
  if (problemsEl.getAttribute('data-key') !== key) {
    problemsEl.setAttribute('data-key', key);
    problemsEl.replaceChildren(...problems);
    problemsEl.hidden = problems.length === 0;
  }
}

// ---------- sorting and filtering ----------
function byName(a: { id: string; data: { name: string } }, b: { id: string; data: { name: string } }): number {
  const x = a.data.name.toLowerCase();
  const y = b.data.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
const circuitOrders: Record<SortKey, (a: Circuit, b: Circuit) => number> = {
  error: (a, b) => b.data.errorPct - a.data.errorPct || b.data.requests - a.data.requests || byName(a, b),
  volume: (a, b) => b.data.requests - a.data.requests || byName(a, b),
  name: byName,
};
const poolOrders: Record<SortKey, (a: Pool, b: Pool) => number> = {
  error: (a, b) => b.data.rejected - a.data.rejected || b.data.executed - a.data.executed || byName(a, b),
  volume: (a, b) => b.data.executed - a.data.executed || byName(a, b),
  name: byName,
};
function matches(d: { name: string; group?: string }): boolean {
  if (!filterText) return true;
  return d.name.toLowerCase().includes(filterText) || (d.group ?? '').toLowerCase().includes(filterText);
}

function sourceOf(stream: number): string {
  return multi ? (config.streams[stream]?.label ?? '') : '';
}

// ---------- render ----------
function scheduleRender(): void {
  if (renderTimer !== 0) return;
  renderTimer = window.setTimeout(render, RENDER_MS);
}

function render(): void {
  window.clearTimeout(renderTimer);
  renderTimer = 0;
  const now = performance.now();
  const list: Circuit[] = [];
  for (const c of circuits.values()) if (matches(c.data)) list.push(c);
  list.sort(circuitOrders[sortBy]);
  const wanted: HTMLElement[] = [];
  for (const c of list) {
    c.card ??= new Card(c.id);
    c.card.update({ data: c.data, hist: c.hist, source: sourceOf(c.stream), stale: now - c.seenAt > STALE_MS });
    wanted.push(c.card.root);
  }
  // Reorder only when the order changed, so focus and hover survive updates.
  const current = Array.from(gridEl.children);
  const same = current.length === wanted.length && wanted.every((n, j) => current[j] === n);
  if (!same) {
    const keep = new Set<Element>(wanted);
    for (const n of current) if (!keep.has(n)) n.remove();
    gridEl.append(...wanted);
  }
  let notClosed = 0;
  for (const c of circuits.values()) if (c.data.state !== 'closed') notClosed++;
  renderEmpty(list.length);
  setText(
    circuitsSummary,
    circuits.size === 0
      ? ''
      : `${circuits.size} ${circuits.size === 1 ? 'circuit' : 'circuits'}${notClosed ? `, ${notClosed} not closed` : ', all closed'}`,
  );
  renderPools();
  renderStreams();
  setText(updatedEl, lastDataWall === undefined ? 'No data yet' : `Last data ${lastDataWall.toLocaleTimeString()}`);
}

function renderEmpty(shown: number): void {
  let text = '';
  if (config.streams.length === 0) text = 'No stream configured.';
  else if (circuits.size !== 0) text = shown === 0 ? 'No circuit matches the filter.' : '';
  else {
    const now = performance.now();
    const kinds = streamStates.map((s) => describe(s, now).kind);
    const anyData = streamStates.some((s) => s.lastDataAt >= 0);
    if (kinds.every((k) => k === 'down')) {
      text = config.streams.length === 1 ? 'No data: the stream is unreachable (see above).' : 'No data: every stream is unreachable (see above).';
    } else if (kinds.every((k) => k === 'connecting')) text = 'Connecting\u2026';
    else if (anyData) text = 'Connected; no circuit has reported yet.';
    else text = 'Connected; waiting for the first sample\u2026';
  }
  setText(circuitsEmpty, text);
  circuitsEmpty.hidden = text === '';
}

function renderPools(): void {
  const list: Pool[] = [];
  for (const p of pools.values()) if (matches(p.data)) list.push(p);
  list.sort(poolOrders[sortBy]);
  poolsSection.hidden = pools.size === 0;
  setText(poolsSummary, pools.size === 0 ? '' : `${pools.size} ${pools.size === 1 ? 'pool' : 'pools'}`);
  const rows = list.map((p) => {
    const d = p.data;
    const tr = el('tr');
    tr.append(el('td', '', d.name + (multi ? ` (${sourceOf(p.stream)})` : '')));
    const activeCell = cell(tr, fmtCount(d.active));
    if (d.size > 0) {
      const bar = el('span', 'bar');
      bar.setAttribute('aria-hidden', 'true');
      const fill = el('span');
      fill.style.width = `${Math.min(100, (d.active / d.size) * 100).toFixed(0)}%`;
      bar.append(fill);
      activeCell.append(bar);
    }
    cell(tr, fmtCount(d.queued));
    cell(tr, fmtCount(d.maxActive));
    cell(tr, fmtCount(d.executed));
    cell(tr, fmtCount(d.rejected), d.rejected > 0 ? 'bad' : '');
    cell(tr, d.size ? fmtCount(d.size) : '\u2013');
    return tr;
  });
  poolBody.replaceChildren(...rows);
}

function cell(tr: HTMLElement, text: string, level = ''): HTMLElement {
  const td = el('td', '', text);
  if (level) td.setAttribute('data-level', level);
  tr.append(td);
  return td;
}

// ---------- details ----------
const dialog = byId<HTMLDialogElement>('details');
const detailsTitle = byId('details-title');
const detailsBody = byId('details-body');
let detailsOf: string | undefined;

gridEl.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest('button.details');
  const id = button?.getAttribute('data-card');
  if (id === null || id === undefined || !circuits.has(id)) return;
  detailsOf = id;
  renderDetails();
  dialog.showModal();
});
dialog.addEventListener('close', () => {
  detailsOf = undefined;
});
byId('details-close').addEventListener('click', () => dialog.close());

function renderDetails(): void {
  const c = detailsOf === undefined ? undefined : circuits.get(detailsOf);
  if (c === undefined) return;
  setText(detailsTitle, c.data.name);
  const lines: string[] = [c.data.group ? `Group ${c.data.group}` : 'No group'];
  const source = config.streams[c.stream]?.label;
  if (source !== undefined) lines.push(`Stream ${source}`);
  detailsBody.replaceChildren(...lines.map((line) => el('p', '', line)));
}

// ---------- controls ----------
const sortButtons = Array.from(document.querySelectorAll<HTMLButtonElement>('[data-sort]'));
for (const b of sortButtons) {
  b.addEventListener('click', () => {
    const key = b.getAttribute('data-sort');
    if (key !== 'error' && key !== 'volume' && key !== 'name') return;
    sortBy = key;
    for (const o of sortButtons) o.setAttribute('aria-pressed', String(o === b));
    render();
  });
}
filterEl.addEventListener('input', () => {
  filterText = filterEl.value.trim().toLowerCase();
  render();
});
// Keeps staleness, silence and retry countdowns current when streams go quiet.
window.setInterval(() => {
  renderStreams();
  if (detailsOf !== undefined) renderDetails();
  scheduleRender();
}, 1000);
openStreams();
render();
