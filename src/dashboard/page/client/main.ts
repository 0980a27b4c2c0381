/**
 * The dashboard page's script: reads the configuration the server embedded, opens every stream, keeps the latest
 * HystrixCommand and HystrixThreadPool objects plus a short history per circuit, and renders cards, a pool table
 * and each stream's connection state. Bundled into one inline classic script by `../bundleScript.ts`.
 */
import type { CardInput, Sample } from './cards.js';
import { connect, type ConnectionStatus } from './connection.js';
import { byId, el, setAttr, setText } from './dom.js';
import { fmtCount, fmtMs, fmtPct, fmtRate, fmtSeconds } from './format.js';
import { VirtualGrid, type GridItem } from './grid.js';
import { mergeCommands, mergePools, readCommand, readPool, STATE_WORDS, stateText, type CommandData, type PoolData } from './model.js';

const HISTORY = 60; // sparkline samples
const SAMPLE_MS = 1000; // one sample per second
const STALE_MS = 15_000; // dim a card not reported for this long; call a live stream without data silent
const RENDER_MS = 500; // at most two renders a second: the stream itself samples every 500 ms
const DROP_MS = 10_000; // with aggregate, an instance that has not reported a key for this long leaves its sums

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

/** What one stream last said about a key. */
interface Instance<T> {
  data: T;
  seenAt: number;
  /** Left the sums (not reported for DROP_MS). */
  dropped: boolean;
}

/** A key on the page: one stream's (or, with aggregate, every stream's) reports merged into `data`. */
interface Entry<T> {
  readonly id: string;
  /** The first stream that reported it (the only one unless aggregating). */
  readonly stream: number;
  readonly instances: Map<number, Instance<T>>;
  data: T;
  seenAt: number;
  /** An instance reported since the last merge. */
  dirty: boolean;
}

interface Circuit extends Entry<CommandData>, GridItem {
  readonly hist: Sample[];
  lastSampleAt: number;
}

type Pool = Entry<PoolData>;

type SortKey = 'error' | 'volume' | 'name';

function readConfig(): { streams: PageStream[]; aggregate: boolean } {
  try {
    const parsed = JSON.parse(byId('bw-config').textContent || '{}') as { streams?: unknown; aggregate?: unknown };
    const streams = Array.isArray(parsed.streams) ? parsed.streams : [];
    return {
      streams: streams
        .filter((s): s is { url: string; label?: unknown } => s !== null && typeof s === 'object' && typeof (s as { url?: unknown }).url === 'string')
        .map((s) => ({ url: s.url, label: typeof s.label === 'string' ? s.label : s.url })),
      aggregate: parsed.aggregate === true,
    };
  } catch {
    return { streams: [], aggregate: false };
  }
}

const config = readConfig();
const aggregate = config.aggregate;
/** Several streams shown side by side: each card names its stream. */
const multi = config.streams.length > 1 && !aggregate;
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
  const name = String(fields.name);
  const id = aggregate ? name : `${stream}\u0000${name}`;
  if (fields.type === 'HystrixCommand') {
    const data = readCommand(fields);
    let c = circuits.get(id);
    if (c === undefined) {
      const fresh: Circuit = {
        id, stream, instances: new Map(), data, seenAt: now, dirty: true, hist: [], lastSampleAt: -Infinity,
        input: () => cardInput(fresh),
      };
      circuits.set(id, (c = fresh));
    }
    report(c, stream, data, now);
    scheduleRender();
  } else if (fields.type === 'HystrixThreadPool') {
    const data = readPool(fields);
    let p = pools.get(id);
    if (p === undefined) pools.set(id, (p = { id, stream, instances: new Map(), data, seenAt: now, dirty: true }));
    report(p, stream, data, now);
    scheduleRender();
  }
}

function report<T>(entry: Entry<T>, stream: number, data: T, now: number): void {
  const instance = entry.instances.get(stream);
  if (instance === undefined) entry.instances.set(stream, { data, seenAt: now, dropped: false });
  else {
    instance.data = data;
    instance.seenAt = now;
    instance.dropped = false;
  }
  entry.seenAt = now;
  entry.dirty = true;
}

/** Merges an entry's instances (those still reporting; all of them if none is) into `data`, once per change. */
function settle<T>(entry: Entry<T>, merge: (list: T[]) => T): boolean {
  if (!entry.dirty) return false;
  entry.dirty = false;
  if (entry.instances.size === 1) {
    for (const i of entry.instances.values()) entry.data = i.data;
    return true;
  }
  const reporting: T[] = [];
  const all: T[] = [];
  for (const i of entry.instances.values()) {
    all.push(i.data);
    if (!i.dropped) reporting.push(i.data);
  }
  entry.data = merge(reporting.length > 0 ? reporting : all);
  return true;
}

function settleCircuit(c: Circuit, now: number): void {
  if (!settle(c, mergeCommands)) return;
  const sample = { rate: c.data.rate, lat: c.data.p90 };
  if (now - c.lastSampleAt >= SAMPLE_MS || c.hist.length === 0) {
    c.hist.push(sample);
    if (c.hist.length > HISTORY) c.hist.shift();
    c.lastSampleAt = now;
  } else {
    c.hist[c.hist.length - 1] = sample;
  }
}

/** With aggregate: instances that stopped reporting a key leave its sums (and come back when they report again). */
function dropSilentInstances(now: number): void {
  if (!aggregate) return;
  for (const map of [circuits, pools] as Map<string, Entry<unknown>>[]) {
    for (const entry of map.values()) {
      for (const i of entry.instances.values()) {
        if (!i.dropped && now - i.seenAt > DROP_MS) {
          i.dropped = true;
          entry.dirty = true;
        }
      }
    }
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

function cardInput(c: Circuit): CardInput {
  return { data: c.data, hist: c.hist, source: sourceOf(c.stream), stale: performance.now() - c.seenAt > STALE_MS, fleet: aggregate };
}

// ---------- render ----------
const grid = new VirtualGrid(gridEl);

function scheduleRender(): void {
  if (renderTimer !== 0) return;
  renderTimer = window.setTimeout(render, RENDER_MS);
}

function render(): void {
  window.clearTimeout(renderTimer);
  renderTimer = 0;
  const now = performance.now();
  dropSilentInstances(now);
  const list: Circuit[] = [];
  for (const c of circuits.values()) {
    settleCircuit(c, now);
    if (matches(c.data)) list.push(c);
  }
  list.sort(circuitOrders[sortBy]);
  grid.set(list);
  if (detailsOf !== undefined) renderDetails();
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

interface PoolRow {
  readonly tr: HTMLTableRowElement;
  readonly cells: HTMLElement[];
  readonly fill: HTMLElement;
  readonly bar: HTMLElement;
}
const poolRows = new Map<string, PoolRow>();

function poolRow(): PoolRow {
  const tr = el('tr');
  const cells: HTMLElement[] = Array.from({ length: 7 }, () => el('td'));
  const bar = el('span', 'bar');
  bar.setAttribute('aria-hidden', 'true');
  const fill = el('span');
  bar.append(fill);
  const activeText = el('span');
  cells[1]!.append(activeText, bar);
  tr.append(...cells);
  cells[1] = activeText;
  return { tr, cells, fill, bar };
}

/** The pool table: one row per pool, kept and updated in place. */
function renderPools(): void {
  const list: Pool[] = [];
  for (const p of pools.values()) {
    settle(p, mergePools);
    if (matches(p.data)) list.push(p);
  }
  list.sort(poolOrders[sortBy]);
  poolsSection.hidden = pools.size === 0;
  setText(poolsSummary, pools.size === 0 ? '' : `${pools.size} ${pools.size === 1 ? 'pool' : 'pools'}`);
  const wanted: HTMLElement[] = [];
  for (const p of list) {
    const d = p.data;
    let row = poolRows.get(p.id);
    if (row === undefined) poolRows.set(p.id, (row = poolRow()));
    const texts = [
      d.name + (multi ? ` (${sourceOf(p.stream)})` : ''),
      fmtCount(d.active),
      fmtCount(d.queued),
      fmtCount(d.maxActive),
      fmtCount(d.executed),
      fmtCount(d.rejected),
      d.size ? fmtCount(d.size) : '\u2013',
    ];
    texts.forEach((t, i) => setText(row.cells[i]!, t));
    setAttr(row.cells[5]!, 'data-level', d.rejected > 0 ? 'bad' : '');
    row.bar.hidden = d.size <= 0;
    const width = `${d.size > 0 ? Math.min(100, (d.active / d.size) * 100).toFixed(0) : 0}%`;
    if (row.fill.style.width !== width) row.fill.style.width = width;
    wanted.push(row.tr);
  }
  const current = poolBody.children;
  let same = current.length === wanted.length;
  for (let i = 0; same && i < wanted.length; i++) same = current[i] === wanted[i];
  if (!same) poolBody.replaceChildren(...wanted);
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
  const d = c.data;
  setText(detailsTitle, d.name);
  const parts: HTMLElement[] = [el('p', '', `${d.group ? `Group ${d.group}` : 'No group'} \u00b7 circuit ${stateText(d)}`)];
  if (!aggregate) {
    const source = config.streams[c.stream]?.label;
    if (source !== undefined) parts.push(el('p', '', `Stream ${source}`));
  }
  if (aggregate) parts.push(instanceTable(c));
  else if (d.hosts > 1) {
    parts.push(
      el(
        'p',
        'details-note',
        `This stream is already an aggregate of ${d.hosts} hosts (Turbine), so it carries their sums only: per-instance ` +
          'detail is not available. To see each instance, give the dashboard the instances\u2019 own streams with ' +
          'aggregate: true (breakwater dashboard --aggregate).',
      ),
    );
  }
  const key = parts.map((p) => p.textContent).join('\n');
  if (detailsBody.getAttribute('data-key') !== key) {
    detailsBody.setAttribute('data-key', key);
    detailsBody.replaceChildren(...parts);
  }
}

/** One row per instance that has reported the circuit: its own state, error %, rate, latency and freshness. */
function instanceTable(c: Circuit): HTMLElement {
  const now = performance.now();
  const table = el('table', 'instances');
  const head = el('tr');
  for (const h of ['Instance', 'Circuit', 'Error %', 'req/s', 'In flight', '90th ms', 'Reported']) {
    const th = el('th', '', h);
    th.scope = 'col';
    head.append(th);
  }
  table.append(el('thead'), el('tbody'));
  table.tHead!.append(head);
  const rows = [...c.instances.entries()].sort((a, b) => a[0] - b[0]);
  for (const [stream, i] of rows) {
    const tr = el('tr');
    const d = i.data;
    const ago = now - i.seenAt;
    const cells = [
      config.streams[stream]?.label ?? `stream ${stream}`,
      STATE_WORDS[d.state],
      fmtPct(d.errorPct),
      fmtRate(d.rate),
      fmtCount(d.inFlight),
      fmtMs(d.p90),
      i.dropped ? `not reporting (${fmtSeconds(ago)} ago)` : ago < 2000 ? 'now' : `${fmtSeconds(ago)} ago`,
    ];
    for (const text of cells) tr.append(el('td', '', text));
    tr.setAttribute('data-state', d.state);
    if (i.dropped) tr.setAttribute('data-dropped', 'true');
    table.tBodies[0]!.append(tr);
  }
  const wrap = el('div', 'table-wrap');
  wrap.append(table);
  return wrap;
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
