/**
 * The count mode of `npm run bench` (bench/count.ts, bench/args.ts) without valgrind: its options, the reader of
 * callgrind's profile parts (on parts captured from a real run, test/bench/fixtures/callgrind/), which units a
 * selection counts, and the ratios and targets it derives from instructions per call. The run under valgrind itself is
 * a manual check (docs/benchmarks.md, "Instruction counts"): it takes minutes, not the seconds a test may take.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../bench/args.js';
import {
  COUNT_DEFAULTS,
  NO_VALGRIND,
  countReport,
  countRows,
  countUnits,
  parseCallgrindPart,
  requireValgrind,
  summarize,
  windowCounts,
  type CallgrindPart,
  type UnitCount,
} from '../../bench/count.js';
import type { CountUnit } from '../../bench/countChild.js';
import { rowTargets, selectScenarios, withPartners } from '../../bench/report.js';
import { scenarios } from '../../bench/scenarios.js';

const FIXTURES = join(__dirname, 'fixtures', 'callgrind');
const scenario = (id: string) => scenarios.find((s) => s.id === id)!;

describe('the count options', () => {
  it('--count takes the defaults, the filters and --node, and each knob as a whole number', () => {
    const a = parseArgs(['--count', 'success', '--node', '/opt/node24', '--calls', '5000', '--windows', '3', '--warmup', '20_000', '--repeat', '1'], {}, '/usr/bin/node');
    expect(a.count).toEqual({ calls: 5000, windows: 3, warmup: 20_000, repeat: 1 });
    expect(a.filters).toEqual(['success']);
    expect(a.node).toBe('/opt/node24');
    expect(parseArgs(['--count'], {}, '/usr/bin/node').count).toEqual(COUNT_DEFAULTS);
  });

  it('a run without --count has no count options and parses as before', () => {
    const a = parseArgs(['--quick', 'open', '--out', 'x.json'], { BW_BENCH_NODE: '/n' }, '/usr/bin/node');
    expect(a).toEqual({ from: [], quick: true, chart: false, docs: false, list: false, filters: ['open'], node: '/n', out: 'x.json' });
  });

  it.each([
    [['--count', '--calls', '0'], "--calls must be a whole number ≥ 1, got '0'"],
    [['--count', '--windows', 'three'], "--windows must be a whole number ≥ 1, got 'three'"],
    [['--count', '--repeat', '1.5'], "--repeat must be a whole number ≥ 1, got '1.5'"],
    [['--count', '--warmup', '-1'], "--warmup must be a whole number ≥ 0, got '-1'"],
    [['--count', '--calls'], '--calls needs a value'],
    [['--calls', '100'], '--calls applies to --count only'],
    [['--count', '--docs'], '--count cannot be combined with --docs'],
    [['--count', '--quick'], '--count cannot be combined with --quick'],
    [['--count', 'keys'], "'keys' has no count mode"],
    [['--count', '--fast'], 'unknown option --fast'],
  ])('%j fails with a message naming the option and value', (argv, message) => {
    expect(() => parseArgs(argv, {}, '/usr/bin/node')).toThrow(message);
  });

  it('says how to install valgrind when it is missing', () => {
    expect(() => requireValgrind('/nonexistent/valgrind')).toThrow(NO_VALGRIND);
    expect(NO_VALGRIND).toContain('apt-get install valgrind');
  });
});

describe('reading callgrind output', () => {
  const parts = readdirSync(FIXTURES).map((f) => parseCallgrindPart(readFileSync(join(FIXTURES, f), 'utf8')));

  it('reads the part number, what ended it and its instructions from each part of a real run', () => {
    const byPart = [...parts].sort((a, b) => a.part - b.part);
    expect(byPart.map((p) => p.trigger)).toEqual(['--dump-before=getpriority', '--dump-before=getpriority', '--dump-before=getpriority', 'Program termination']);
    for (const p of byPart) expect(p.ir).toBeGreaterThan(0);
  });

  it('the windows are the parts the marker ended, but the first (start-up and warm-up)', () => {
    const windows = windowCounts(parts, 2);
    expect(windows).toHaveLength(2);
    const byPart = [...parts].sort((a, b) => a.part - b.part);
    expect(windows).toEqual([byPart[1]!.ir, byPart[2]!.ir]);
    // the captured run: 2 windows of 1,000 bare awaits, each a few hundred instructions a call
    for (const w of windows) expect(w / 1000).toBeGreaterThan(100);
    for (const w of windows) expect(w / 1000).toBeLessThan(5000);
  });

  it('refuses a run where the marker was called more or fewer times than the windows need', () => {
    expect(() => windowCounts(parts, 3)).toThrow(/expected 4 callgrind parts ended by getpriority\(\).*, found 3/);
    const extra: CallgrindPart = { part: 9, trigger: '--dump-before=getpriority', ir: 5 };
    expect(() => windowCounts([...parts, extra], 2)).toThrow('something else calls getpriority()');
  });

  it('takes the Ir column of summary:, or of totals: when there is no summary', () => {
    const text = (costs: string) => `# callgrind format\nversion: 1\npart: 3\n\ndesc: Trigger: --dump-before=getpriority\n\nevents: Dr Ir\n${costs}\nfn=(1) x\n1 2 3\n`;
    expect(parseCallgrindPart(text('summary: 10 123456'))).toEqual({ part: 3, trigger: '--dump-before=getpriority', ir: 123456 });
    expect(parseCallgrindPart(text('totals: 10 654321')).ir).toBe(654321);
    expect(() => parseCallgrindPart('not a profile')).toThrow('not a callgrind profile part');
  });
});

/** A unit counted at `perCall` instructions in every window of every run. */
const flat = (unit: CountUnit, perCall: number): UnitCount => summarize(unit, [[perCall, perCall]]);

describe('what a count run counts', () => {
  it('a filter ending in $ selects that id alone, the others any id containing them (timed mode alike)', () => {
    const ids = (filters: string[]) => selectScenarios(scenarios, filters).map((s) => s.id);
    expect(ids(['breakwater/sync$'])).toEqual(['breakwater/sync']);
    expect(ids(['breakwater/sync'])).toContain('breakwater/sync-frozen-clock');
    expect(ids(['breakwater/inflight$'])).toEqual(expect.arrayContaining(['breakwater/inflight', 'cockatiel/sampling-inflight', 'hystrixjs/inflight']));
    expect(ids(['breakwater/inflight$'])).not.toContain('breakwater/like-cockatiel/consecutive-inflight');
  });

  it('a filtered selection counts the bare await, its references and floors, then the scenarios, each once', () => {
    const selected = withPartners([scenario('breakwater/sync'), scenario('breakwater/failure-fallback')], scenarios);
    const units = countUnits(selected, false);
    expect(units[0]).toBe('bare');
    expect(units).toContain('reference:sync');
    expect(units).toContain('reference:trycatch');
    expect(units).toContain('floor:twoClocks');
    expect(units).not.toContain('floor:clock');
    expect(units).toContain('scenario:breakwater/sync');
    expect(units).toContain('scenario:hystrixjs/failure-fallback'); // the pair's peer comes along
    expect(new Set(units).size).toBe(units.length);
  });

  it('every floor when asked for, and the bare batch the in-flight floor is measured against', () => {
    const units = countUnits([], true);
    expect(units).toContain('floor:inflightTwoClocks');
    expect(units).toContain('reference:inflight');
    expect(units).toContain('floor:clock');
  });

  it('summarises windows as their median, with the spread of the runs and of the windows but an outlier', () => {
    const c = summarize('bare', [
      [100, 102, 98],
      [104, 103, 150], // 150: a compile that landed in a window
    ]);
    expect(c.perCall).toBe(102.5);
    expect(c.runSpread).toBeCloseTo((104 - 100) / 102.5, 10); // the runs' medians: 100 and 104
    expect(c.windowSpread).toBeCloseTo((104 - 98) / 102.5, 10);
    expect(c.outliers).toBe(1);
    expect(c.unsteady).toBe(false);
    expect(summarize('bare', [[7, 7]]).runSpread).toBe(0);
  });

  it('flags a unit whose windows were still falling (most of a child’s windows well above its lowest)', () => {
    // Node 24, 1,000 in flight as cockatiel SamplingBreaker after 100,000 warm-up calls (13:28 on 2026-12-07)
    const c = summarize('scenario:breakwater/like-cockatiel/sampling-inflight', [[4228, 3852, 4074, 2598, 2467]]);
    expect(c.unsteady).toBe(true);
    const counts = new Map([flat('bare', 534), c].map((u) => [u.unit, u]));
    const { rows, floors } = countRows([scenario('breakwater/like-cockatiel/sampling-inflight')], counts);
    const text = countReport({ units: [...counts.values()], rows, floors, targets: [], options: COUNT_DEFAULTS });
    expect(text).toContain('⚠ not steady: scenario:breakwater/like-cockatiel/sampling-inflight');
    // a row that only has a compile in one window, or two levels (a periodic job), is steady
    expect(summarize('bare', [[2283, 2463, 2283, 2283, 2489]]).unsteady).toBe(false);
  });
});

describe('ratios and targets on instructions', () => {
  it('a target against a floor is the row’s instructions ÷ the floor’s', () => {
    const counts = new Map([flat('bare', 700), flat('floor:settleableTwoClocks', 1400), flat('scenario:breakwater/success', 2800)].map((c) => [c.unit, c]));
    const { rows, floors } = countRows([scenario('breakwater/success')], counts);
    expect(floors.settleableTwoClocks!.ratio).toBeCloseTo(2, 10);
    const row = rows[0]!;
    expect(row.ns).toBe(2800);
    expect(row.ratio).toBeCloseTo(4, 10);
    expect(row.target?.actual).toBeCloseTo(2, 10);
    expect(row.target?.met).toBe(false);
    expect(rowTargets(rows, floors).map((t) => t.text)).toContain('success, Hystrix defaults: ≤ 1.5× its floor → 2.00× (4.00× bare ÷ floor 2.00× bare)');
  });

  it('a failure row against its reference, an in-flight row against its peer’s throughput, a pair as × peer', () => {
    const counts = new Map(
      [
        flat('bare', 700),
        flat('reference:trycatch', 20_000),
        flat('reference:inflight', 900),
        flat('scenario:breakwater/failure-fallback', 23_000),
        flat('scenario:hystrixjs/failure-fallback', 60_000),
        flat('scenario:breakwater/inflight', 2_700),
        flat('scenario:cockatiel/sampling-inflight', 3_000),
      ].map((c) => [c.unit, c]),
    );
    const selected = ['breakwater/failure-fallback', 'hystrixjs/failure-fallback', 'breakwater/inflight', 'cockatiel/sampling-inflight'].map(scenario);
    const { rows } = countRows(selected, counts);
    const failure = rows.find((r) => r.id === 'breakwater/failure-fallback')!;
    expect(failure.target?.actual).toBeCloseTo(1.15, 10);
    expect(failure.target?.met).toBe(true);
    expect(failure.like?.vsPeer).toBeCloseTo(23 / 60, 10);
    const inflight = rows.find((r) => r.id === 'breakwater/inflight')!;
    expect(inflight.target?.actual).toBeCloseTo(3000 / 2700, 10); // throughput: the peer's instructions ÷ ours
    expect(inflight.target?.met).toBe(true);
  });

  it('a row whose floor or peer failed to count keeps its target without a figure', () => {
    const counts = new Map([flat('bare', 700), flat('scenario:breakwater/success', 2800)].map((c) => [c.unit, c]));
    const { rows } = countRows([scenario('breakwater/success')], counts);
    expect(rows[0]!.target?.actual).toBeUndefined();
    expect(rows[0]!.target?.met).toBeUndefined();
  });

  it('prints instructions per call, both spreads, the ratios and each target as met or not', () => {
    const units = [flat('bare', 700), flat('floor:twoClocks', 400), summarize('scenario:breakwater/sync', [[1000, 1010], [1020, 1030]])];
    const counts = new Map(units.map((c) => [c.unit, c]));
    const { rows, floors } = countRows([scenario('breakwater/sync')], counts);
    const text = countReport({ units, rows, floors, targets: rowTargets(rows, floors), options: COUNT_DEFAULTS });
    expect(text).toContain('breakwater · sync mode');
    expect(text).toMatch(/1,015\s+±1\.0%\s+±1\.5%\s+1\.45×/);
    expect(text).toContain('≤ 1.5× its floor: 2.54× ✗');
    expect(text).toContain('✗ sync mode');
    expect(text).toMatch(/400\s+±0\.0%\s+0\.57× base\s+floor:twoClocks/);
  });
});
