/**
 * The benchmark report's pure logic (bench/report.ts, bench/chart.ts): how a like-for-like breakwater row is paired
 * with its peer and divided by it, how targets against a floor or another row are checked, which partners a filtered
 * run measures too, and what the tables and the chart show. Figures are made up; nothing here times anything.
 */
import { describe, expect, it } from 'vitest';
import { renderChart } from '../../bench/chart.js';
import {
  evaluateRows,
  markdownTable,
  medianChild,
  medianFloors,
  pairsMarkdown,
  runOrder,
  sortRows,
  targetSummary,
  toRow,
  withPartners,
  type ChildResult,
  type Row,
} from '../../bench/report.js';
import type { Scenario } from '../../bench/scenario.js';
import { scenarios } from '../../bench/scenarios.js';
import type { StartupResult } from '../../bench/startup.js';

const timing = (ns: number) => ({ ns, wallNs: ns, p25: ns, p75: ns, samples: [ns], calls: 1, last: 42 });

/** A child's result: `ns` per call against a bare await of `bare` ns (and a reference of `ref` ns). */
function child(id: string, ns: number, bare: number, ref?: number): ChildResult {
  return {
    id,
    timing: { bare: timing(bare), subject: timing(ns), ...(ref === undefined ? {} : { reference: timing(ref) }) },
    retention: { calls: 1000, bytesPerCall: 0, heapBefore: 0, heapAfter: 0 },
    timers: { calls: 1000, timeouts: 0, immediates: 0, timersPerCall: 0 },
    check: {},
  };
}

const setup = async (): Promise<never> => {
  throw new Error('not run');
};

const peerSuccess: Scenario = { id: 'cockatiel/x-success', library: 'cockatiel', group: 'success', title: 'success, X', setup };
const peerInflight: Scenario = { id: 'cockatiel/x-inflight', library: 'cockatiel', group: 'inflight', title: 'in flight, X', reference: 'inflight', setup };
const likeSuccess: Scenario = {
  id: 'breakwater/like-cockatiel/x-success',
  library: 'breakwater',
  group: 'success',
  title: 'success, as X',
  like: { peer: peerSuccess.id, config: 'cockatiel X' },
  setup,
};
const likeInflight: Scenario = {
  id: 'breakwater/like-cockatiel/x-inflight',
  library: 'breakwater',
  group: 'inflight',
  title: 'in flight, as X',
  reference: 'inflight',
  like: { peer: peerInflight.id, config: 'cockatiel X' },
  setup,
};
const defaults: Scenario = {
  id: 'breakwater/success',
  library: 'breakwater',
  group: 'success',
  title: 'success, defaults',
  target: { against: 'floor', floor: 'settleableTwoClocks', kind: 'max', value: 1.5, label: '≤ 1.5× its floor' },
  setup,
};
const inflight: Scenario = {
  id: 'breakwater/inflight',
  library: 'breakwater',
  group: 'inflight',
  title: 'in flight, defaults',
  reference: 'inflight',
  target: { against: 'row', row: peerInflight.id, kind: 'minThroughput', value: 1, label: "≥ X's throughput" },
  setup,
};
const ORDER = [defaults, inflight, likeSuccess, likeInflight, peerSuccess, peerInflight].map((s) => s.id);

/** A run: each side measured against its own bare await (40 ns here, 50 ns for the peer in flight). */
function run(): Row[] {
  return [
    toRow(likeSuccess, child(likeSuccess.id, 180, 40)), // 4.5× bare
    toRow(peerSuccess, child(peerSuccess.id, 200, 40)), // 5× bare
    toRow(likeInflight, child(likeInflight.id, 300, 40, 50)), // 6× the bare batch
    toRow(peerInflight, child(peerInflight.id, 250, 40, 50)), // 5× the bare batch
    toRow(defaults, child(defaults.id, 280, 40)), // 7× bare
    toRow(inflight, child(inflight.id, 200, 40, 50)), // 4× the bare batch
  ];
}

const FLOORS = { settleableTwoClocks: { ratio: 4 } };

describe('like-for-like pairs', () => {
  it('× peer is breakwater’s ratio to its own baseline ÷ the peer’s, and ≤ 1.0× is met', () => {
    const rows = evaluateRows(run(), FLOORS);
    const success = rows.find((r) => r.id === likeSuccess.id)!;
    expect(success.like?.vsPeer).toBeCloseTo(4.5 / 5, 10);
    expect(success.like?.met).toBe(true);
    expect(success.like?.peerTitle).toBe('cockatiel · success, X');
    const inFlight = rows.find((r) => r.id === likeInflight.id)!;
    expect(inFlight.chartRatio).toBeCloseTo(6, 10); // against the bare batch, not the bare await
    expect(inFlight.like?.vsPeer).toBeCloseTo(6 / 5, 10);
    expect(inFlight.like?.met).toBe(false);
  });

  it('divides by each side’s own baseline, so a child whose whole process ran slower does not move × peer', () => {
    const slowPeer = [toRow(likeSuccess, child(likeSuccess.id, 180, 40)), toRow(peerSuccess, child(peerSuccess.id, 220, 44))];
    expect(evaluateRows(slowPeer)[0]!.like?.vsPeer).toBeCloseTo(0.9, 10);
  });

  it('a pair whose peer was not measured has no figure and is neither met nor missed', () => {
    const [row] = evaluateRows([toRow(likeSuccess, child(likeSuccess.id, 180, 40))]);
    expect(row!.like).toEqual({ peer: peerSuccess.id, config: 'cockatiel X' });
    const lines = targetSummary([row!]);
    expect(lines[0]).toEqual({ text: 'like for like, as cockatiel X: ≤ 1.0× peer in each scenario → success not measured' });
  });

  it('sorts each pair together, the peer first, pairs before the other rows of the group', () => {
    const sorted = sortRows(evaluateRows(run(), FLOORS), ORDER).map((r) => r.id);
    expect(sorted).toEqual([peerSuccess.id, likeSuccess.id, defaults.id, peerInflight.id, likeInflight.id, inflight.id]);
  });

  it('the pairs table has one line per pair with both sides and the × peer', () => {
    const table = pairsMarkdown(sortRows(evaluateRows(run(), FLOORS), ORDER)).split('\n');
    expect(table).toHaveLength(4);
    expect(table[2]).toBe('| cockatiel X | success (× bare await) | 200 | 5.00× | 180 | 4.50× | **0.90×** | ≤ 1.0× peer ✅ |');
    expect(table[3]).toBe('| cockatiel X | 1,000 calls in flight (× bare batch) | 250 | 5.00× | 300 | 6.00× | **1.20×** | ≤ 1.0× peer ❌ |');
  });

  it('a reference row (what a setting costs beside the peer) shows its × peer with no target, and no target line', () => {
    const reference: Scenario = { ...likeSuccess, id: 'breakwater/like-cockatiel/x-success-window', like: { peer: peerSuccess.id, config: 'cockatiel X, with a window', reference: true } };
    const rows = evaluateRows([toRow(reference, child(reference.id, 240, 40)), toRow(peerSuccess, child(peerSuccess.id, 200, 40))]);
    const row = rows.find((r) => r.id === reference.id)!;
    expect(row.like?.vsPeer).toBeCloseTo(6 / 5, 10);
    expect(row.like?.met).toBeUndefined();
    expect(pairsMarkdown(rows).split('\n')[2]).toBe('| cockatiel X, with a window | success (× bare await) | 200 | 5.00× | 240 | 6.00× | **1.20×** | for reference, no target |');
    expect(targetSummary(rows).some((l) => l.text.includes('with a window'))).toBe(false);
    expect(markdownTable(rows)).toContain('× peer: 1.20× (for reference, no target)');
  });

  it('the like-for-like rows: every breakwater row names a peer that exists; the counting breakers run without a window', () => {
    const ids = new Set(scenarios.map((s) => s.id));
    for (const s of scenarios) if (s.like !== undefined) expect(ids.has(s.like.peer)).toBe(true);
    const titles = scenarios.filter((s) => s.id.startsWith('breakwater/like-cockatiel/')).map((s) => s.title);
    expect(titles).toContain('success, as cockatiel ConsecutiveBreaker, no rolling window');
    expect(titles).toContain('success, as cockatiel CountBreaker, no rolling window');
    expect(titles).toContain('success, as cockatiel SamplingBreaker');
    expect(titles).toContain('success, as cockatiel ConsecutiveBreaker, with the rolling window');
  });
});

describe('targets', () => {
  it('against a floor: the row’s × bare ÷ the floor’s × bare', () => {
    const row = evaluateRows(run(), FLOORS).find((r) => r.id === defaults.id)!;
    expect(row.target?.actual).toBeCloseTo(7 / 4, 10);
    expect(row.target?.met).toBe(false);
    expect(evaluateRows(run(), { settleableTwoClocks: { ratio: 5 } }).find((r) => r.id === defaults.id)!.target?.met).toBe(true);
  });

  it('against a floor that was not measured: no figure, reported as not measured', () => {
    const row = evaluateRows(run()).find((r) => r.id === defaults.id)!;
    expect(row.target?.actual).toBeUndefined();
    expect(targetSummary([row])).toContainEqual({ text: 'success, defaults: ≤ 1.5× its floor → not measured in this run' });
  });

  it('against a floor measured in several children: each side is its median child, and the line shows every child', () => {
    const each = [8, 6, 7].map((ns) => toRow(defaults, child(defaults.id, ns * 40, 40)));
    const row = medianChild(each);
    expect(row.ratio).toBe(7);
    expect(row.children).toEqual([8, 6, 7]);
    const f = (ratio: number, inflightNs: number) => ({
      bareNs: 40 * ratio,
      bareInflightNs: inflightNs,
      floors: { settleableTwoClocks: { title: 'floor', ns: 40 * ratio, ratio }, clock: { title: 'clock', ns: 10, ratio: 6 - ratio } },
    });
    const floors = medianFloors([f(5, 50), f(3.5, 70), f(4, 60)]);
    // each floor on its own: the median of its children, whichever child that is
    expect(floors.floors.settleableTwoClocks).toMatchObject({ ratio: 4, children: [5, 3.5, 4] });
    expect(floors.floors.clock).toMatchObject({ ratio: 2, children: [1, 2.5, 2] });
    expect(floors.bareInflightNs).toBe(60);
    const [evaluated] = evaluateRows([row], floors.floors);
    expect(evaluated!.target?.actual).toBeCloseTo(7 / 4, 10);
    expect(targetSummary([evaluated!], floors.floors)).toContainEqual({
      text: 'success, defaults: ≤ 1.5× its floor → 1.75× (7.00× bare, median of 8.00× / 6.00× / 7.00× ÷ floor 4.00× bare, median of 5.00× / 3.50× / 4.00×)',
      met: false,
    });
    // one child: the row as measured
    expect(medianChild([each[0]!])).toBe(each[0]);
  });

  it('against another row’s throughput: its ratio ÷ this row’s, each against its own baseline', () => {
    const row = evaluateRows(run()).find((r) => r.id === inflight.id)!;
    expect(row.target?.actual).toBeCloseTo(5 / 4, 10);
    expect(row.target?.met).toBe(true);
  });

  it('lists each pair configuration, the rows’ own targets, timers, bytes and start-up', () => {
    const rows = sortRows(evaluateRows(run(), FLOORS), ORDER);
    const startup: StartupResult = {
      rows: [
        { library: 'breakwater', ms: 45, runs: [45] },
        { library: 'opossum', ms: 9, runs: [9] },
        { library: 'cockatiel', ms: 25, runs: [25] },
      ],
      ratioToCockatiel: 1.8,
      requireRows: [
        { library: 'breakwater', ms: 15, runs: [15] },
        { library: 'opossum', ms: 6, runs: [6] },
        { library: 'cockatiel', ms: 20, runs: [20] },
      ],
    };
    const lines = targetSummary(rows, FLOORS, startup);
    expect(lines[0]).toEqual({ text: 'like for like, as cockatiel X: ≤ 1.0× peer in each scenario → success 0.90×, 1,000 calls in flight 1.20× ✗', met: false });
    expect(lines).toContainEqual({ text: 'success, defaults: ≤ 1.5× its floor → 1.75× (7.00× bare ÷ floor 4.00× bare)', met: false });
    expect(lines).toContainEqual({ text: "in flight, defaults: ≥ X's throughput → 1.25×", met: true });
    expect(lines).toContainEqual({ text: "start-up: import() at most 2× cockatiel's → 1.80× (45.0 ms vs 25.0 ms)", met: true });
    expect(lines.some((l) => l.text.startsWith('0 timers per call') && l.met === true)).toBe(true);
    expect(markdownTable(rows, startup)).toContain("| breakwater · import() in a fresh process | 45.0 ms |  |  |  | 1.80× cockatiel's import() | 1.80× | ≤ 2× cockatiel: 1.80× ✓ |  |  |");
    // require() follows for CommonJS apps, without a target of its own
    expect(markdownTable(rows, startup)).toContain("| breakwater · require() in a fresh process | 15.0 ms |  |  |  | 0.75× cockatiel's require() | 0.75× |  |  |  |");
  });
});

describe('a filtered run measures what its rows are compared with', () => {
  it('adds a pair’s other side and a target’s row, transitively', () => {
    const all = [defaults, inflight, likeSuccess, likeInflight, peerSuccess, peerInflight];
    expect(withPartners([peerSuccess], all).map((s) => s.id)).toEqual([likeSuccess.id, peerSuccess.id]);
    expect(withPartners([inflight], all).map((s) => s.id)).toEqual([inflight.id, likeInflight.id, peerInflight.id]);
    expect(withPartners([defaults], all).map((s) => s.id)).toEqual([defaults.id]);
    expect(withPartners([peerSuccess], all, (s) => s.library !== 'breakwater').map((s) => s.id)).toEqual([peerSuccess.id]);
  });

  it('runs each pair’s two children one after the other, the peer first', () => {
    const all = [defaults, inflight, likeSuccess, likeInflight, peerSuccess, peerInflight];
    expect(runOrder(all).map((s) => s.id)).toEqual([defaults.id, inflight.id, peerSuccess.id, likeSuccess.id, peerInflight.id, likeInflight.id]);
    expect(runOrder([likeSuccess, defaults]).map((s) => s.id)).toEqual([likeSuccess.id, defaults.id]); // peer not selected
  });

  it('every pair and row target of the real scenarios names a scenario that exists, in the same group', () => {
    const byId = new Map(scenarios.map((s) => [s.id, s]));
    expect(byId.size).toBe(scenarios.length);
    const paired = scenarios.filter((s) => s.like !== undefined);
    expect(paired.length).toBeGreaterThanOrEqual(20); // 3 cockatiel breakers, opossum tuned, hystrixjs defaults × 4 scenarios
    for (const s of paired) {
      const peer = byId.get(s.like!.peer);
      expect(peer, s.id).toBeDefined();
      expect(peer!.group, s.id).toBe(s.group);
      expect(peer!.library).not.toBe('breakwater');
      expect(s.library).toBe('breakwater');
    }
    for (const s of scenarios.filter((x) => x.target?.against === 'row')) expect(byId.has(s.target!.row!), s.id).toBe(true);
  });
});

describe('the chart', () => {
  it('shows each pair on a band with its × peer, the targets and the start-up rows', () => {
    const rows = sortRows(evaluateRows(run(), FLOORS), ORDER);
    const svg = renderChart(rows, 'test', { settleableTwoClocks: 4 }, {
      rows: [
        { library: 'breakwater', ms: 60, runs: [60] },
        { library: 'opossum', ms: 9, runs: [9] },
        { library: 'cockatiel', ms: 25, runs: [25] },
      ],
      ratioToCockatiel: 2.4,
    });
    expect(svg).toContain('4.50× · 0.90× peer');
    expect(svg).toContain('6.00× · 1.20× peer');
    expect(svg.match(/fill="#f1f5fb" rx="3"\/>/g)).toHaveLength(3); // two pair bands and the legend's
    expect(svg).toContain('breakwater · import() in a fresh process');
    expect(svg).toContain('2.40× · 60.0 ms');
    expect(svg).toContain("<title>target ≤ 2× cockatiel's import()</title>");
    expect(svg).toContain('<title>floor 4.00×</title>');
    expect(svg).toContain('<title>target ≤ 1.5× its floor</title>');
  });
});
