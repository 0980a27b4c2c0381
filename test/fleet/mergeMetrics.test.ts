import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command, registerPrometheus } from '../../src/index.js';
import { answerPieces, metricsForPrimary, piecesOf } from '../../src/fleet/clusterMetrics.js';
import { MetricsFold, mergeSlicing, writeFoldedMetrics, writeMergedMetrics, type MetricJson, type TextSink } from '../../src/fleet/mergeMetrics.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { countingTurns } from '../support/countingTurns.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});
afterEach(() => {
  delete mergeSlicing.maxPerSlice;
  delete mergeSlicing.budgetMs;
});

/**
 * One "worker": a registry with breakwater's families and metrics of the user's own of every kind and aggregator,
 * its values told apart by `n`; `only` adds series and a metric that no other worker has.
 */
function workerRegistry(n: number, only = false): Registry {
  const r = new Registry();
  registerPrometheus(r);
  const requests = new Counter({ name: 'app_requests_total', help: 'requests \\ with "help"\nnewline', labelNames: ['route', 'code'], registers: [r] });
  requests.inc({ route: '/a', code: '200' }, 3 * n);
  requests.inc({ route: '/b "q" \\ x\ny', code: '500' }, n);
  if (only) requests.inc({ route: '/only', code: '200' }, 7);
  new Gauge({ name: 'app_plain', help: 'summed by default', registers: [r] }).set(n * 1.5);
  new Gauge({ name: 'app_first', help: 'first', aggregator: 'first', registers: [r] }).set(10 + n);
  new Gauge({ name: 'app_min', help: 'min', aggregator: 'min', labelNames: ['k'], registers: [r] }).set({ k: 'x' }, 5 - n);
  new Gauge({ name: 'app_max', help: 'max', aggregator: 'max', registers: [r] }).set(n * n);
  new Gauge({ name: 'app_average', help: 'average', aggregator: 'average', registers: [r] }).set(n / 3);
  new Gauge({ name: 'app_omitted', help: 'omitted', aggregator: 'omit', registers: [r] }).set(n);
  new Gauge({ name: 'app_odd_values', help: 'NaN and infinities (null after JSON)', labelNames: ['v'], registers: [r] }).set({ v: 'nan' }, NaN);
  new Gauge({ name: 'app_no_series', help: 'labelled, never set', labelNames: ['x'], registers: [r] });
  const h = new Histogram({ name: 'app_latency_seconds', help: 'histogram', labelNames: ['route'], buckets: [0.01, 0.1, 1], registers: [r] });
  const s = new Summary({ name: 'app_size_bytes', help: 'summary', labelNames: ['route'], percentiles: [0.5, 0.99], registers: [r] });
  for (let i = 0; i < 30; i++) {
    h.observe({ route: i % 2 === 0 ? '/a' : '/b' }, (i * n) / 40);
    s.observe({ route: '/a' }, i * n);
  }
  if (only) new Gauge({ name: 'app_only_here', help: 'one worker', registers: [r] }).set(1);
  return r;
}

/** What the primary receives: each worker's getMetricsAsJSON() after a trip through the IPC channel's JSON. */
async function responsesOf(registries: Registry[]): Promise<MetricJson[][]> {
  const out: MetricJson[][] = [];
  for (const r of registries) out.push(JSON.parse(JSON.stringify(await r.getMetricsAsJSON())) as MetricJson[]);
  return out;
}

/** Merges into a string, counting the sink's writes and the event-loop turns other work got meanwhile. */
async function merge(responses: MetricJson[][], sink: Partial<TextSink> = {}): Promise<{ text: string; writes: number; turns: number }> {
  let text = '';
  let writes = 0;
  const { turns } = await countingTurns(
    () =>
      new Promise<void>((resolve, reject) => {
        writeMergedMetrics(
          responses,
          {
            write(t) {
              text += t;
              writes++;
              return sink.write?.(t) ?? true;
            },
            drained: sink.drained ?? (() => Promise.resolve()),
          },
          (error) => (error === undefined ? resolve() : reject(error)),
        );
      }),
  );
  return { text, writes, turns };
}

async function keys(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const c = command({ key: `Merge.${i}`, group: i % 2 === 0 ? 'Even' : 'Odd "g" \\ x', run: async () => clock.advance(i % 5) });
    await c.execute();
  }
}

describe('writeMergedMetrics (the cluster primary’s /metrics)', () => {
  it("writes byte for byte what prom-client's AggregatorRegistry writes for the same workers, in many slices", async () => {
    await keys(12);
    const responses = await responsesOf([workerRegistry(1), workerRegistry(2, true), workerRegistry(3)]);
    const expected = await AggregatorRegistry.aggregate(responses).metrics();
    // every kind is there, so the comparison covers them
    for (const part of ['breakwater_command_events_total{', 'app_latency_seconds_bucket{le="0.1",route="/a"}', 'app_size_bytes{quantile="0.99",route="/a"}', 'app_first 11', 'app_only_here 1', '# TYPE app_no_series gauge']) {
      expect(expected).toContain(part);
    }
    expect(expected).not.toContain('app_omitted');
    mergeSlicing.maxPerSlice = 5;
    const sliced = await merge(responses);
    expect(sliced.text).toBe(expected);
    // the merged series, 5 per slice: many turns went to other work in between
    const lines = expected.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    expect(sliced.turns).toBeGreaterThan(lines / 5 - 2);
    delete mergeSlicing.maxPerSlice;
    // and in the order the workers answered, whatever it is
    const reversed = [...responses].reverse();
    expect((await merge(reversed)).text).toBe(await AggregatorRegistry.aggregate(reversed).metrics());
  });

  it('reads a metric cut into IPC pieces as the whole metric', async () => {
    await keys(30);
    const responses = await responsesOf([workerRegistry(1), workerRegistry(2)]);
    const pieces = responses.map((metrics) => piecesOf(metrics, 7));
    expect(pieces[0]!.length).toBeGreaterThan(10);
    for (const p of pieces) for (const piece of p.slice(0, -1)) expect(piece.reduce((n, m) => n + (m.values?.length ?? 0), 0)).toBe(7);
    // a metric without series travels too
    expect(pieces[0]!.flat().some((m) => m.name === 'app_no_series' && m.values?.length === 0)).toBe(true);
    const rejoined = pieces.map((p) => p.flat());
    expect((await merge(rejoined)).text).toBe(await AggregatorRegistry.aggregate(responses).metrics());
  });

  it('folds the pieces in as they arrive, the workers interleaved, and writes them in the order the workers finished', async () => {
    await keys(25);
    const responses = await responsesOf([workerRegistry(1), workerRegistry(2, true), workerRegistry(3)]);
    const pieces = responses.map((metrics) => piecesOf(metrics, 11));
    const fold = new MetricsFold(3);
    // round robin: a piece of each worker in turn (worker 1's answer is the longest, so it finishes last)
    for (let at = 0; pieces.some((p) => at < p.length); at++) pieces.forEach((p, slot) => at < p.length && fold.add(slot, p[at]!));
    for (const order of [[1, 2, 0], [0, 1, 2], [2, 0, 1]]) {
      let text = '';
      const error = await new Promise((resolve) => writeFoldedMetrics(fold, order, { write: (t) => ((text += t), true), drained: () => Promise.resolve() }, resolve));
      expect(error).toBeUndefined();
      expect(text).toBe(await AggregatorRegistry.aggregate(order.map((slot) => responses[slot]!)).metrics());
    }
    // a series sent twice by one worker counts twice, as in prom-client; labels in another order keep the first worker's
    const twice: MetricJson[][] = [
      [{ name: 'x_total', help: 'x', type: 'counter', aggregator: 'sum', values: [{ value: 1, labels: { a: '1', b: '2' } }, { value: 2, labels: { b: '2', a: '1' } }] }],
      [{ name: 'x_total', help: 'x', type: 'counter', aggregator: 'sum', values: [{ value: 4, labels: { b: '2', a: '1' } }] }],
    ];
    for (const order of [[0, 1], [1, 0]]) {
      const ordered = order.map((slot) => twice[slot]!);
      expect((await merge(ordered)).text).toBe(await AggregatorRegistry.aggregate(ordered).metrics());
    }
  });

  it('waits for the sink to drain when it is behind, and writes nothing but a newline for workers without metrics', async () => {
    await keys(20);
    const responses = await responsesOf([workerRegistry(1), workerRegistry(2)]);
    mergeSlicing.maxPerSlice = 50;
    let drains = 0;
    const slow = await merge(responses, {
      write: () => false,
      drained: () => {
        drains++;
        return new Promise((resolve) => setTimeout(resolve, 1));
      },
    });
    expect(drains).toBeGreaterThan(3);
    expect(slow.text).toBe(await AggregatorRegistry.aggregate(responses).metrics());
    expect((await merge([[], []])).text).toBe(await AggregatorRegistry.aggregate([[], []]).metrics());
  });

  it('lets other work run between slices when the sink drains at once (a socket that took the text in the same turn)', async () => {
    await keys(20);
    const responses = await responsesOf([workerRegistry(1), workerRegistry(2)]);
    mergeSlicing.maxPerSlice = 50;
    // `drain` on the next tick, as Node emits it for a write the socket took at once: without a turn in between, the
    // whole merge would run in one event-loop turn
    const eager = await merge(responses, { write: () => false, drained: () => new Promise((resolve) => process.nextTick(resolve)) });
    expect(eager.text).toBe(await AggregatorRegistry.aggregate(responses).metrics());
    const lines = eager.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    expect(eager.turns).toBeGreaterThan(lines / 50 - 2);
  });

  it("merges breakwater's series sent as finished lines (metricsForPrimary) into the text prom-client writes for getMetricsAsJSON()", async () => {
    await keys(15);
    const registries = [workerRegistry(1), workerRegistry(2, true), workerRegistry(3)];
    const asJson = await responsesOf(registries);
    const asLines: MetricJson[][] = [];
    for (const r of registries) asLines.push(JSON.parse(JSON.stringify(await metricsForPrimary(r))) as MetricJson[]);
    // breakwater's families travel as lines (no labels object), the user's own metrics as prom-client gives them
    const events = asLines[0]!.find((m) => m.name === 'breakwater_command_events_total')!;
    expect(events.values!.length).toBeGreaterThan(15);
    for (const v of events.values!) {
      expect(v.labels).toBeUndefined();
      expect(v.metricName).toMatch(/^breakwater_command_events_total\{command="Merge\.\d+",group="[^\n]*",event="[a-z_]+"\}$/);
    }
    expect(asLines[0]!.find((m) => m.name === 'app_requests_total')).toEqual(asJson[0]!.find((m) => m.name === 'app_requests_total'));
    for (const order of [[0, 1, 2], [2, 1, 0]]) {
      const expected = await AggregatorRegistry.aggregate(order.map((slot) => asJson[slot]!)).metrics();
      const lines = order.map((slot) => asLines[slot]!);
      // the primary's merge of the lines, whole or from interleaved pieces
      expect((await merge(lines)).text).toBe(expected);
      const fold = new MetricsFold(3);
      const pieces = lines.map((metrics) => piecesOf(metrics, 13));
      for (let at = 0; pieces.some((p) => at < p.length); at++) pieces.forEach((p, slot) => at < p.length && fold.add(slot, p[at]!));
      let text = '';
      await new Promise((resolve) => writeFoldedMetrics(fold, [0, 1, 2], { write: (t) => ((text += t), true), drained: () => Promise.resolve() }, resolve));
      expect(text).toBe(expected);
    }
    // a line and a labels object of the same series (a worker of an earlier version) are one series, either first
    expect((await merge([asLines[0]!, asJson[1]!])).text).toBe(await AggregatorRegistry.aggregate([asJson[0]!, asJson[1]!]).metrics());
    expect((await merge([asJson[1]!, asLines[0]!])).text).toBe(await AggregatorRegistry.aggregate([asJson[1]!, asJson[0]!]).metrics());
  });

  it('makes the answer a piece at a time: the same pieces as cutting metricsForPrimary() whole, in the same order', async () => {
    await keys(15);
    const plain = workerRegistry(1);
    const withDefaults = workerRegistry(2);
    withDefaults.setDefaultLabels({ host: 'b' });
    for (const r of [plain, withDefaults]) {
      for (const perPiece of [1, 13, 1000]) {
        const whole = JSON.parse(JSON.stringify(piecesOf(await metricsForPrimary(r), perPiece))) as unknown;
        const made: MetricJson[][] = [];
        const pieces = await answerPieces(r, perPiece);
        for (let p = pieces.next(); p.done !== true; p = pieces.next()) made.push(p.value);
        expect(JSON.parse(JSON.stringify(made))).toEqual(whole);
        expect(made.length).toBeGreaterThan(perPiece === 1000 ? 0 : 10);
      }
    }
  });

  it('sends labels objects from a registry with default labels (prom-client adds them to each series)', async () => {
    await keys(3);
    const r = workerRegistry(1);
    r.setDefaultLabels({ host: 'a' });
    const metrics = JSON.parse(JSON.stringify(await metricsForPrimary(r))) as MetricJson[];
    expect(metrics).toEqual(JSON.parse(JSON.stringify(await r.getMetricsAsJSON())));
    expect(metrics.find((m) => m.name === 'breakwater_command_events_total')!.values![0]!.labels).toMatchObject({ host: 'a', command: 'Merge.0' });
  });

  it('fails before writing anything when a metric names an aggregator prom-client does not have', async () => {
    const responses: MetricJson[][] = [[{ name: 'x', help: 'x', type: 'gauge', aggregator: 'median', values: [{ value: 1, labels: {} }] }]];
    expect(() => AggregatorRegistry.aggregate(responses)).toThrow("'median' is not a defined aggregator.");
    let writes = 0;
    const error = await new Promise((resolve) =>
      writeMergedMetrics(responses, { write: () => (writes++, true), drained: () => Promise.resolve() }, resolve),
    );
    expect(String(error)).toContain("'median' is not a defined aggregator.");
    expect(writes).toBe(0);
  });
});
