/**
 * Turns child results into rows, pairs each like-for-like breakwater row with its peer's, checks the targets, and
 * formats the console table and the Markdown tables of docs/benchmarks.md. Everything here is a pure function of
 * the measured figures (test/bench/report.test.ts).
 */
import type { FloorResult } from './floor.js';
import type { Retention, TimerCount, Timing } from './harness.js';
import { REFERENCES, type Group, type Library, type Like, type Reference, type Scenario, type Target } from './scenario.js';
import { STARTUP_TARGET, type StartupResult, type StartupRow } from './startup.js';

/** What a scenario child prints. */
export interface ChildResult {
  readonly id: string;
  readonly timing: { readonly bare: Timing; readonly subject: Timing; readonly reference?: Timing };
  readonly retention: Retention;
  readonly timers: TimerCount;
  readonly check: Record<string, unknown>;
}

/** A target with its figure from this run; `actual` and `met` are undefined when its base was not measured (a filtered run). */
export type EvaluatedTarget = Target & { readonly actual?: number; readonly met?: boolean };

/** The target of every like-for-like pair: breakwater at most this many times its peer's cost. */
export const PEER_TARGET = 1;

/** A breakwater row's pair: its peer's row, and breakwater's cost in units of the peer's (undefined: peer not measured). */
export type Pairing = Like & {
  readonly peerTitle?: string;
  /** breakwater's {@link Row.chartRatio} ÷ the peer's: below 1, breakwater is faster. */
  readonly vsPeer?: number;
  readonly met?: boolean;
};

/** One row of the results. */
export interface Row {
  readonly id: string;
  readonly library: Library;
  readonly group: Group;
  readonly title: string;
  readonly note?: string;
  /** Median ns per call. */
  readonly ns: number;
  /** Interquartile range of the samples, as a fraction of the median. */
  readonly spread: number;
  /** The bare `await fn()` measured in the same child. */
  readonly bareNs: number;
  /** ns ÷ bareNs. */
  readonly ratio: number;
  readonly reference?: { readonly name: Reference; readonly title: string; readonly ns: number; readonly ratio: number };
  /**
   * The row's cost against its own baseline, the figure pairs and the chart compare: against the reference for
   * failure and in-flight rows (bare try/catch, bare batch), else against the bare `await fn()`.
   */
  readonly chartRatio: number;
  readonly target?: EvaluatedTarget;
  /** A like-for-like breakwater row: its peer (filled by {@link evaluateRows}). */
  readonly like?: Pairing;
  readonly bytesPerCall: number;
  readonly retentionCalls: number;
  readonly timersPerCall: number;
  readonly timerCalls: number;
  readonly check: Record<string, unknown>;
  /** Children run for this row when its bare baseline was off the run's median (see bench/run.ts); absent: 1. */
  readonly attempts?: number;
  /** A row with a target against a floor: its ratio to its bare await in each child run; the row is the median child. */
  readonly children?: readonly number[];
}

/** One line of the targets list. `met` undefined: not measured in this run. */
export interface TargetLine {
  readonly text: string;
  readonly met?: boolean;
}

/** The floors of a run, as bench/floor.ts measured them (by name). */
export type Floors = Readonly<Record<string, Pick<FloorResult, 'ratio'> & Partial<FloorResult>>>;

/** What one floors child measures (bench/floor.ts), or the median of several children ({@link medianFloors}). */
export interface FloorRun {
  readonly bareNs: number;
  readonly bareInflightNs?: number;
  readonly floors: Record<string, FloorResult>;
}

const middle = <T>(xs: readonly T[], by: (x: T) => number): T => [...xs].sort((a, b) => by(a) - by(b))[xs.length >> 1]!;

/** Of one floor-targeted row measured in several children, the median child (by ratio), with every child's ratio. */
export function medianChild(each: readonly Row[]): Row {
  if (each.length < 2) return each[0]!;
  return { ...middle(each, (r) => r.ratio), children: each.map((r) => r.ratio) };
}

/** Of several floors children, each floor's median child (by ratio to its own child's bare await), with every child's ratio. */
export function medianFloors(parts: readonly FloorRun[]): FloorRun {
  const floors: Record<string, FloorResult> = {};
  for (const name of Object.keys(parts[0]!.floors)) {
    const each = parts.map((p) => p.floors[name]).filter((f): f is FloorResult => f !== undefined);
    floors[name] = { ...middle(each, (f) => f.ratio), ...(each.length > 1 ? { children: each.map((f) => f.ratio) } : {}) };
  }
  const inflight = parts.map((p) => p.bareInflightNs).filter((n): n is number => n !== undefined);
  return {
    bareNs: middle(parts, (p) => p.bareNs).bareNs,
    ...(inflight.length === 0 ? {} : { bareInflightNs: middle(inflight, (n) => n) }),
    floors,
  };
}

/** Fewer than one timer per 1,000 calls counts as "0 timers per call" (the breaker's health timer runs at most every 500 ms). */
export const TIMERS_PER_CALL_LIMIT = 0.001;
/** Under half a byte per call counts as "0 bytes retained per call" (one leaked object per call would be ≥ 16 B). */
export const BYTES_PER_CALL_LIMIT = 0.5;

/** `actual` against a target's bound. */
function check(t: Target, actual: number | undefined): EvaluatedTarget {
  if (actual === undefined || !Number.isFinite(actual)) return { ...t };
  return { ...t, actual, met: t.kind === 'max' ? actual <= t.value : actual >= t.value };
}

/** `mine` against `base` (cost ratios or ns): the target's figure (a cost ratio for `max`, a throughput ratio otherwise). */
function compare(t: Target, mine: number, base: number | undefined): number | undefined {
  if (base === undefined) return undefined;
  return t.kind === 'max' ? mine / base : base / mine;
}

/**
 * Builds the row of one scenario from its child's result. Targets against the bare await or the reference are
 * checked here; those against a floor or another row, and the pair, by {@link evaluateRows} once the run is complete.
 */
export function toRow(s: Scenario, r: ChildResult): Row {
  const { bare, subject, reference } = r.timing;
  const ratio = subject.ns / bare.ns;
  const ref =
    s.reference !== undefined && reference !== undefined
      ? { name: s.reference, title: REFERENCES[s.reference].title, ns: reference.ns, ratio: subject.ns / reference.ns }
      : undefined;
  const chartRatio = ref !== undefined && s.reference !== 'sync' ? ref.ratio : ratio;
  let target: EvaluatedTarget | undefined;
  if (s.target !== undefined) {
    const t = s.target;
    target = t.against === 'await' ? check(t, compare(t, subject.ns, bare.ns)) : t.against === 'reference' ? check(t, compare(t, subject.ns, reference?.ns)) : { ...t };
  }
  return {
    id: s.id,
    library: s.library,
    group: s.group,
    title: s.title,
    ...(s.note === undefined ? {} : { note: s.note }),
    ns: subject.ns,
    spread: (subject.p75 - subject.p25) / subject.ns,
    bareNs: bare.ns,
    ratio,
    ...(ref === undefined ? {} : { reference: ref }),
    chartRatio,
    ...(target === undefined ? {} : { target }),
    ...(s.like === undefined ? {} : { like: { ...s.like } }),
    bytesPerCall: r.retention.bytesPerCall,
    retentionCalls: r.retention.calls,
    timersPerCall: r.timers.timersPerCall,
    timerCalls: r.timers.calls,
    check: r.check,
  };
}

/**
 * Completes the rows of one run: each pair's × peer (breakwater's {@link Row.chartRatio} ÷ its peer's, each against
 * the baseline measured in its own child, so a child whose whole process runs a little faster or slower does not
 * move the ratio) and the targets against a floor (the row's × bare ÷ the floor's × bare) or against another row.
 * A target whose base was not measured in this run stays without a figure.
 */
export function evaluateRows(rows: readonly Row[], floors?: Floors): Row[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return rows.map((row) => {
    let out = row;
    const t = row.target;
    if (t !== undefined && (t.against === 'floor' || t.against === 'row')) {
      const baseRatio = t.against === 'floor' ? floors?.[t.floor ?? '']?.ratio : byId.get(t.row ?? '')?.chartRatio;
      const mine = t.against === 'floor' ? row.ratio : row.chartRatio;
      const { actual: _a, met: _m, ...bare } = t;
      out = { ...out, target: check(bare, compare(bare, mine, baseRatio)) };
    }
    if (row.like !== undefined) {
      const peer = byId.get(row.like.peer);
      const like: Pairing = row.like.reference === true ? { peer: row.like.peer, config: row.like.config, reference: true } : { peer: row.like.peer, config: row.like.config };
      out = {
        ...out,
        like:
          peer === undefined
            ? like
            : like.reference === true
              ? { ...like, peerTitle: `${peer.library} · ${peer.title}`, vsPeer: row.chartRatio / peer.chartRatio }
              : { ...like, peerTitle: `${peer.library} · ${peer.title}`, vsPeer: row.chartRatio / peer.chartRatio, met: row.chartRatio / peer.chartRatio <= PEER_TARGET },
      };
    }
    return out;
  });
}

export const GROUP_ORDER: readonly Group[] = ['success', 'sync', 'failure', 'open', 'inflight', 'decorated'];
const LIBRARY_ORDER: readonly Library[] = ['breakwater', 'opossum', 'cockatiel', 'hystrixjs'];

/**
 * Rows grouped by what they do; within a group, each like-for-like pair first (the peer's row, then breakwater's),
 * in the order of breakwater's scenarios, then the other rows (breakwater first, then its peers), in a stable order.
 */
export function sortRows(rows: readonly Row[], order: readonly string[]): Row[] {
  const present = new Set(rows.map((r) => r.id));
  const pairOf = new Map<string, { index: number; side: number }>();
  for (const r of rows) {
    if (r.like === undefined || !present.has(r.like.peer)) continue;
    const index = order.indexOf(r.id);
    pairOf.set(r.id, { index, side: 1 });
    if (!pairOf.has(r.like.peer)) pairOf.set(r.like.peer, { index, side: 0 });
  }
  const key = (r: Row): number[] => {
    const p = pairOf.get(r.id);
    return p !== undefined ? [GROUP_ORDER.indexOf(r.group), 0, p.index, p.side] : [GROUP_ORDER.indexOf(r.group), 1, LIBRARY_ORDER.indexOf(r.library), order.indexOf(r.id)];
  };
  return [...rows].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return 0;
  });
}

function ns(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} µs` : n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

/** A ratio as the tables print it: `7.39×`, `12.4×`, `265×`. */
export function times(r: number): string {
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

function bytes(b: number): string {
  return Math.abs(b) < 0.005 ? '0.00' : b.toFixed(2);
}

function timers(t: number): string {
  return t === 0 ? '0' : t.toFixed(3);
}

function mark(met: boolean | undefined): string {
  return met === undefined ? '(not measured)' : met ? '✓' : '✗';
}

/** The label of the pair target. */
export const PEER_LABEL = `≤ ${PEER_TARGET.toFixed(1)}× peer`;

function targetCell(row: Row): string {
  const out: string[] = [];
  if (row.like?.reference === true) out.push(`× peer: ${row.like.vsPeer === undefined ? '(not measured)' : times(row.like.vsPeer)} (for reference, no target)`);
  else if (row.like !== undefined) out.push(`${PEER_LABEL}: ${row.like.vsPeer === undefined ? '' : `${times(row.like.vsPeer)} `}${mark(row.like.met)}`);
  if (row.target !== undefined) out.push(`${row.target.label}: ${row.target.actual === undefined ? '' : `${times(row.target.actual)} `}${mark(row.target.met)}`);
  return out.join('; ');
}

function cells(row: Row): string[] {
  return [
    `${row.library} · ${row.title}`,
    ns(row.ns),
    `±${(row.spread * 50).toFixed(0)}%`,
    ns(row.bareNs),
    times(row.ratio),
    row.reference === undefined ? '' : `${times(row.reference.ratio)} ${row.reference.title}`,
    row.like?.vsPeer === undefined ? '' : times(row.like.vsPeer),
    targetCell(row),
    bytes(row.bytesPerCall),
    timers(row.timersPerCall),
  ];
}

/**
 * The start-up rows (bench/startup.ts) in the columns of the results table: ms instead of ns, × cockatiel's. The
 * `import()` rows carry the target; the `require()` rows (when measured) follow for CommonJS apps.
 */
function startupCells(s: StartupResult): string[][] {
  const loaders: [string, readonly StartupRow[]][] = [['import()', s.rows], ['require()', s.requireRows ?? []]];
  return loaders.flatMap(([loader, rows]) => {
    const cockatiel = rows.find((r) => r.library === 'cockatiel')?.ms;
    return rows.map((r) => {
      const x = cockatiel === undefined ? undefined : r.ms / cockatiel;
      const targeted = r.library === 'breakwater' && loader === 'import()';
      return [
        `${r.library} · ${loader} in a fresh process`,
        `${r.ms.toFixed(1)} ms`,
        '',
        '',
        '',
        x === undefined || r.library === 'cockatiel' ? '' : `${times(x)} cockatiel's ${loader}`,
        r.library === 'breakwater' && x !== undefined ? times(x) : '',
        targeted ? `≤ ${STARTUP_TARGET}× cockatiel: ${x === undefined ? '' : `${times(x)} `}${mark(x === undefined ? undefined : x <= STARTUP_TARGET)}` : '',
        '',
        '',
      ];
    });
  });
}

const HEADER = ['scenario', 'ns/call', 'spread', 'bare ns', '× bare await', '× reference', '× peer', 'target', 'heap B/call', 'timers/call'];
/** Columns whose cells are text (left-aligned); the others are numbers. */
const TEXT_COLUMNS = new Set([0, 5, 7]);

/** Rows of the table: the scenario rows by group, then the start-up rows; `undefined` marks a gap between groups. */
function tableBody(rows: readonly Row[], startup?: StartupResult): (string[] | undefined)[] {
  const out: (string[] | undefined)[] = [];
  let group: Group | undefined;
  for (const row of rows) {
    if (group !== undefined && row.group !== group) out.push(undefined);
    group = row.group;
    out.push(cells(row));
  }
  if (startup !== undefined) {
    if (out.length > 0) out.push(undefined);
    out.push(...startupCells(startup));
  }
  return out;
}

/** A plain-text table for the console. */
export function consoleTable(rows: readonly Row[], startup?: StartupResult): string {
  const body = tableBody(rows, startup);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => r?.[i]?.length ?? 0)));
  const line = (r: string[]): string => r.map((c, i) => (TEXT_COLUMNS.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(HEADER), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map((r) => (r === undefined ? '' : line(r)))].join('\n');
}

const esc = (s: string): string => s.replace(/\|/g, '\\|');

/** The same table in Markdown. */
export function markdownTable(rows: readonly Row[], startup?: StartupResult): string {
  const out = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (TEXT_COLUMNS.has(i) ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of tableBody(rows, startup)) if (r !== undefined) out.push(`| ${r.map(esc).join(' | ')} |`);
  return out.join('\n');
}

const GROUP_NAMES: Record<Group, string> = {
  success: 'success',
  sync: 'sync mode',
  failure: 'failure + fallback',
  open: 'open circuit + fallback',
  inflight: '1,000 calls in flight',
  decorated: 'decorated method',
};

/** What a group's figures are multiples of (each side against the baseline of its own child). */
export const GROUP_BASES: Record<Group, string> = {
  success: 'bare await',
  sync: 'bare await',
  failure: 'bare try/catch',
  open: 'bare await',
  inflight: 'bare batch',
  decorated: 'bare await',
};

/** Each pair's rows, grouped by configuration (in the order the rows come), with its peer's row when it was measured. */
export function pairs(rows: readonly Row[]): { readonly config: string; readonly pairs: { readonly row: Row; readonly peer?: Row }[] }[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: { config: string; pairs: { row: Row; peer?: Row }[] }[] = [];
  for (const row of rows) {
    if (row.like === undefined) continue;
    let group = out.find((g) => g.config === row.like!.config);
    if (group === undefined) out.push((group = { config: row.like.config, pairs: [] }));
    const peer = byId.get(row.like.peer);
    group.pairs.push(peer === undefined ? { row } : { row, peer });
  }
  for (const g of out) g.pairs.sort((a, b) => GROUP_ORDER.indexOf(a.row.group) - GROUP_ORDER.indexOf(b.row.group));
  return out;
}

/** The like-for-like table: one line per pair, grouped by configuration. */
export function pairsMarkdown(rows: readonly Row[]): string {
  const out = [
    '| configuration | scenario | peer ns | peer × base | breakwater ns | breakwater × base | × peer | target |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const g of pairs(rows)) {
    for (const { row, peer } of g.pairs) {
      out.push(
        `| ${esc(g.config)} | ${GROUP_NAMES[row.group]} (× ${GROUP_BASES[row.group]}) | ${peer === undefined ? '–' : ns(peer.ns)} | ${peer === undefined ? '–' : times(peer.chartRatio)} | ${ns(row.ns)} | ${times(row.chartRatio)} | ${row.like?.vsPeer === undefined ? '–' : `**${times(row.like.vsPeer)}**`} | ${row.like?.reference === true ? 'for reference, no target' : `${PEER_LABEL} ${row.like?.met === undefined ? '(peer not measured)' : row.like.met ? '✅' : '❌'}`} |`,
      );
    }
  }
  return out.join('\n');
}

function targetLine(row: Row, t: EvaluatedTarget, floors?: Floors): TargetLine {
  if (t.actual === undefined) return { text: `${row.title}: ${t.label} → not measured in this run` };
  let detail = '';
  if (t.against === 'floor') {
    const floor = floors?.[t.floor ?? ''];
    const each = (xs: readonly number[] | undefined): string => (xs === undefined || xs.length < 2 ? '' : `, median of ${xs.map(times).join(' / ')}`);
    detail = ` (${times(row.ratio)} bare${each(row.children)} ÷ floor ${times(floor?.ratio ?? NaN)} bare${each(floor?.children)})`;
  }
  return { text: `${row.title}: ${t.label} → ${times(t.actual)}${detail}`, met: t.met };
}

/**
 * The targets that come from the rows alone: each pair configuration's `≤ 1.0× peer` in every scenario and each
 * row's own target (the count mode's targets, bench/count.ts; {@link targetSummary} adds the per-call checks).
 */
export function rowTargets(rows: readonly Row[], floors?: Floors): TargetLine[] {
  const out: TargetLine[] = [];
  for (const g of pairs(rows)) {
    if (g.pairs.every(({ row }) => row.like?.reference === true)) continue; // shown for what a setting costs: no target
    const figures = g.pairs.map(({ row }) => `${GROUP_NAMES[row.group]} ${row.like?.vsPeer === undefined ? 'not measured' : `${times(row.like.vsPeer)}${row.like.met === true ? '' : ' ✗'}`}`);
    const measured = g.pairs.every(({ row }) => row.like?.met !== undefined);
    out.push({
      text: `like for like, as ${g.config}: ${PEER_LABEL} in each scenario → ${figures.join(', ')}`,
      ...(measured ? { met: g.pairs.every(({ row }) => row.like?.met === true) } : {}),
    });
  }
  for (const row of rows) if (row.target !== undefined) out.push(targetLine(row, row.target, floors));
  return out;
}

/**
 * The targets of issues 6 and 19, one line each with the evidence: each pair configuration's `≤ 1.0× peer` in every
 * scenario, each row's own target, 0 timers and 0 bytes retained per call, and the start-up target.
 */
export function targetSummary(rows: readonly Row[], floors?: Floors, startup?: StartupResult): TargetLine[] {
  const out = rowTargets(rows, floors);
  const own = rows.filter((r) => r.library === 'breakwater');
  if (own.length > 0) {
    const worstTimers = own.reduce((a, b) => (b.timersPerCall > a.timersPerCall ? b : a));
    out.push({
      text: `0 timers per call (every breakwater scenario; < ${TIMERS_PER_CALL_LIMIT} counts as 0) → worst ${timers(worstTimers.timersPerCall)} (${worstTimers.title})`,
      met: worstTimers.timersPerCall < TIMERS_PER_CALL_LIMIT,
    });
    const worstBytes = own.reduce((a, b) => (b.bytesPerCall > a.bytesPerCall ? b : a));
    out.push({
      text: `0 bytes retained per call (every breakwater scenario; < ${BYTES_PER_CALL_LIMIT} B counts as 0) → worst ${bytes(worstBytes.bytesPerCall)} B (${worstBytes.title})`,
      met: worstBytes.bytesPerCall < BYTES_PER_CALL_LIMIT,
    });
  }
  if (startup !== undefined) {
    const own = startup.rows.find((r) => r.library === 'breakwater');
    const cockatiel = startup.rows.find((r) => r.library === 'cockatiel');
    if (own !== undefined && cockatiel !== undefined) {
      const x = own.ms / cockatiel.ms;
      out.push({
        text: `start-up: import() at most ${STARTUP_TARGET}× cockatiel's → ${times(x)} (${own.ms.toFixed(1)} ms vs ${cockatiel.ms.toFixed(1)} ms)`,
        met: x <= STARTUP_TARGET,
      });
    }
  }
  return out;
}

/** A target line as the console and the page print it. */
export function formatTarget(t: TargetLine, style: 'console' | 'markdown'): string {
  if (style === 'console') return `${t.met === undefined ? '–' : t.met ? '✓' : '✗'} ${t.text}`;
  return `- ${t.met === undefined ? '⚪ not measured' : t.met ? '✅ met' : '❌ missed'}: ${t.text}`;
}

/**
 * `selected` plus what its figures are compared with: each pair's other side and the rows targets name, in the
 * order of `all`. `eligible` says which of `all` may be added (`bench:quick` adds only quick scenarios).
 */
export function withPartners(selected: readonly Scenario[], all: readonly Scenario[], eligible: (s: Scenario) => boolean = () => true): Scenario[] {
  const ids = new Set(selected.map((s) => s.id));
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of all) {
      if (ids.has(s.id) || !eligible(s)) continue;
      const partner = all.some(
        (o) => ids.has(o.id) && (o.like?.peer === s.id || s.like?.peer === o.id || (o.target?.against === 'row' && o.target.row === s.id)),
      );
      if (partner) {
        ids.add(s.id);
        changed = true;
      }
    }
  }
  return all.filter((s) => ids.has(s.id));
}

/**
 * The scenarios of `all` whose id contains a filter (or is it, for a filter ending in `$`: `breakwater/sync$` without
 * `breakwater/sync-frozen-clock`) or whose group is one (every one without filters), plus what their figures are
 * compared with ({@link withPartners}). `quick`: only those in `bench:quick`.
 */
export function selectScenarios(all: readonly Scenario[], filters: readonly string[], quick = false): Scenario[] {
  const eligible = (s: Scenario): boolean => !quick || s.quick !== false;
  const matches = (s: Scenario, f: string): boolean => (f.endsWith('$') ? s.id === f.slice(0, -1) : s.id.includes(f) || s.group === f);
  return withPartners(
    all.filter((s) => (filters.length === 0 || filters.some((f) => matches(s, f))) && eligible(s)),
    all,
    eligible,
  );
}

/**
 * The order children run in: each like-for-like pair's two children one right after the other (the peer's, then
 * breakwater's), so a slow drift of a shared machine over a long run falls on both sides of a pair alike.
 */
export function runOrder(selected: readonly Scenario[]): Scenario[] {
  const ids = new Set(selected.map((s) => s.id));
  const pairedPeers = new Set(selected.flatMap((s) => (s.like !== undefined && ids.has(s.like.peer) ? [s.like.peer] : [])));
  const out: Scenario[] = [];
  for (const s of selected) {
    if (pairedPeers.has(s.id)) continue; // runs just before its breakwater row
    if (s.like !== undefined && pairedPeers.has(s.like.peer)) {
      const peer = selected.find((p) => p.id === s.like!.peer)!;
      if (!out.includes(peer)) out.push(peer);
    }
    out.push(s);
  }
  return out;
}
