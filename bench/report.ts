/**
 * Turns child results into rows, checks the targets, and formats the console table and the Markdown table of
 * docs/benchmarks.md.
 */
import type { Retention, TimerCount, Timing } from './harness.js';
import { REFERENCES, type Group, type Library, type Reference, type Scenario, type Target } from './scenario.js';

/** What a scenario child prints. */
export interface ChildResult {
  readonly id: string;
  readonly timing: { readonly bare: Timing; readonly subject: Timing; readonly reference?: Timing };
  readonly retention: Retention;
  readonly timers: TimerCount;
  readonly check: Record<string, unknown>;
}

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
  /** The ratio the chart shows: against the reference for failure and in-flight rows, else against bare await. */
  readonly chartRatio: number;
  readonly target?: Target & { readonly actual: number; readonly met: boolean };
  readonly bytesPerCall: number;
  readonly retentionCalls: number;
  readonly timersPerCall: number;
  readonly timerCalls: number;
  readonly check: Record<string, unknown>;
  /** Children run for this row when its bare baseline was off the run's median (see bench/run.ts); absent: 1. */
  readonly attempts?: number;
}

/** Fewer than one timer per 1,000 calls counts as "0 timers per call" (the breaker's health timer runs at most every 500 ms). */
export const TIMERS_PER_CALL_LIMIT = 0.001;
/** Under half a byte per call counts as "0 bytes retained per call" (one leaked object per call would be ≥ 16 B). */
export const BYTES_PER_CALL_LIMIT = 0.5;

/** Builds the row of one scenario from its child's result. */
export function toRow(s: Scenario, r: ChildResult): Row {
  const { bare, subject, reference } = r.timing;
  const ratio = subject.ns / bare.ns;
  const ref =
    s.reference !== undefined && reference !== undefined
      ? { name: s.reference, title: REFERENCES[s.reference].title, ns: reference.ns, ratio: subject.ns / reference.ns }
      : undefined;
  const chartRatio = ref !== undefined && s.reference !== 'sync' ? ref.ratio : ratio;
  let target: Row['target'];
  if (s.target !== undefined) {
    const base = s.target.against === 'await' ? bare.ns : (reference?.ns ?? NaN);
    const actual = s.target.kind === 'max' ? subject.ns / base : base / subject.ns;
    const met = s.target.kind === 'max' ? actual <= s.target.value : actual >= s.target.value;
    target = { ...s.target, actual, met };
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
    bytesPerCall: r.retention.bytesPerCall,
    retentionCalls: r.retention.calls,
    timersPerCall: r.timers.timersPerCall,
    timerCalls: r.timers.calls,
    check: r.check,
  };
}

export const GROUP_ORDER: readonly Group[] = ['success', 'sync', 'failure', 'open', 'inflight', 'decorated'];
const LIBRARY_ORDER: readonly Library[] = ['breakwater', 'opossum', 'cockatiel', 'hystrixjs'];

/** Rows grouped by what they do (breakwater first, then its peers), in a stable order. */
export function sortRows(rows: readonly Row[], order: readonly string[]): Row[] {
  return [...rows].sort(
    (a, b) =>
      GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group) ||
      LIBRARY_ORDER.indexOf(a.library) - LIBRARY_ORDER.indexOf(b.library) ||
      order.indexOf(a.id) - order.indexOf(b.id),
  );
}

function ns(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} µs` : n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

function times(r: number): string {
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

function bytes(b: number): string {
  return Math.abs(b) < 0.005 ? '0.00' : b.toFixed(2);
}

function timers(t: number): string {
  return t === 0 ? '0' : t.toFixed(3);
}

function targetCell(row: Row): string {
  if (row.target === undefined) return '';
  return `${row.target.label}: ${times(row.target.actual)} ${row.target.met ? '✓' : '✗'}`;
}

function cells(row: Row): string[] {
  return [
    `${row.library} · ${row.title}`,
    ns(row.ns),
    `±${(row.spread * 50).toFixed(0)}%`,
    ns(row.bareNs),
    times(row.ratio),
    row.reference === undefined ? '' : `${times(row.reference.ratio)} ${row.reference.title}`,
    targetCell(row),
    bytes(row.bytesPerCall),
    timers(row.timersPerCall),
  ];
}

const HEADER = ['scenario', 'ns/call', 'spread', 'bare ns', '× bare await', '× reference', 'target', 'heap B/call', 'timers/call'];
/** Columns whose cells are text (left-aligned); the others are numbers. */
const TEXT_COLUMNS = new Set([0, 5, 6]);

/** A plain-text table for the console. */
export function consoleTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (TEXT_COLUMNS.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(HEADER), widths.map((w) => '─'.repeat(w)).join('  ')];
  let group: Group | undefined;
  for (let i = 0; i < rows.length; i++) {
    if (group !== undefined && rows[i]!.group !== group) out.push('');
    group = rows[i]!.group;
    out.push(line(body[i]!));
  }
  return out.join('\n');
}

/** The same table in Markdown. */
export function markdownTable(rows: readonly Row[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (TEXT_COLUMNS.has(i) ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows) out.push(`| ${cells(row).map(esc).join(' | ')} |`);
  return out.join('\n');
}

/** One line per target of issue 6, with the evidence. */
export function targetSummary(rows: readonly Row[]): { readonly text: string; readonly met: boolean }[] {
  const out: { text: string; met: boolean }[] = [];
  for (const row of rows) {
    if (row.target !== undefined) {
      out.push({ text: `${row.title}: ${row.target.label} → ${times(row.target.actual)}`, met: row.target.met });
    }
  }
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
  return out;
}
