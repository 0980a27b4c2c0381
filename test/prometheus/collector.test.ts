import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENT_TYPES, command, isConfigError, metricsFor, registerPrometheus } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { scrapeSlicing } from '../../src/prometheus/scrapeData.js';
import { countingTurns } from '../support/countingTurns.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function traffic(keys: number, prefix = 'Col'): Promise<void> {
  for (let i = 0; i < keys; i++) {
    const c = command({
      key: `${prefix}.${i}`,
      group: i % 2 === 0 ? 'Even' : 'Odd "quoted" \\ group',
      run: async () => {
        clock.advance(i % 7);
        return i;
      },
    });
    await c.execute();
    await c.execute();
  }
}

function promtool(text: string): string {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
  expect(result.error).toBeUndefined();
  return `${result.stdout}${result.stderr}`.trim();
}

describe('registerPrometheus collector', () => {
  it('writes exactly what prom-client writes for the same series with its own Gauge and Counter', async () => {
    await traffic(5);
    const ours = new Registry();
    registerPrometheus(ours);
    const text = await ours.metrics();
    // The same families rebuilt through prom-client's own metrics, from our JSON form of the same scrape.
    const json = await ours.getMetricsAsJSON();
    const theirs = new Registry();
    for (const family of json) {
      // (a labelled metric with no values writes no series, as ours; an unlabelled one would write a default 0)
      const labelNames = [...new Set(family.values.flatMap((v) => Object.keys(v.labels))), 'pool'];
      const Kind = String(family.type) === 'counter' ? Counter : Gauge;
      const metric = new Kind({ name: family.name, help: family.help, labelNames, registers: [theirs] });
      if (String(family.type) === 'summary') (metric as unknown as { type: string }).type = 'summary';
      for (const v of family.values) {
        if (metric instanceof Counter) metric.inc(v.labels as Record<string, string>, v.value);
        else metric.set(v.labels as Record<string, string>, v.value);
      }
    }
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('group="Odd \\"quoted\\" \\\\ group"');
    expect(promtool(text)).toBe('');
  });

  it('reads each command key once per scrape, however many families and registrations read it', async () => {
    await traffic(3);
    const registry = new Registry();
    registerPrometheus(registry);
    registerPrometheus(registry, { prefix: 'other_' });
    const snapshot = vi.spyOn(metricsFor('Col.1'), 'snapshot');
    await registry.metrics();
    expect(snapshot).toHaveBeenCalledTimes(1);
    await registry.metrics();
    expect(snapshot).toHaveBeenCalledTimes(2);
  });

  it('leaves out the latency families with percentiles: false, and keys the filter refuses', async () => {
    await traffic(4);
    const registry = new Registry();
    const r = registerPrometheus(registry, { percentiles: false, filter: (key, group) => key !== 'Col.2' && group === 'Even' });
    expect(r.metricNames.some((n) => n.includes('latency'))).toBe(false);
    const text = await registry.metrics();
    expect(text).not.toContain('latency');
    expect(text).toContain('command="Col.0"');
    expect(text).not.toContain('command="Col.1"'); // odd group
    expect(text).not.toContain('command="Col.2"'); // filtered by key
    const perKey = text.split('\n').filter((l) => l.includes('command="Col.0"')).length;
    expect(perKey).toBe(EVENT_TYPES.length + 3 + 6); // events, circuit state, and six single gauges
    expect(promtool(text)).toBe('');
  });

  it('leaves out a key whose filter throws, and warns once', async () => {
    await traffic(3);
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }): void => {
      if (w.code === 'BW_PROMETHEUS_FILTER') warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      const registry = new Registry();
      registerPrometheus(registry, {
        filter: (key) => {
          if (key === 'Col.1') throw new Error('boom');
          return true;
        },
      });
      const text = await registry.metrics();
      await registry.metrics();
      expect(text).toContain('command="Col.0"');
      expect(text).not.toContain('command="Col.1"');
      await new Promise((r) => setImmediate(r));
      expect(warnings).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('follows prom-client when the registry has default labels or speaks OpenMetrics', async () => {
    await traffic(2);
    const labelled = new Registry();
    labelled.setDefaultLabels({ service: 'shop' });
    registerPrometheus(labelled);
    const text = await labelled.metrics();
    expect(text).toContain('breakwater_circuit_open{command="Col.0",group="Even",service="shop"} 0');
    expect(promtool(text)).toBe('');
    const open = new (Registry as unknown as new (contentType: string) => Registry)(Registry.OPENMETRICS_CONTENT_TYPE);
    registerPrometheus(open);
    const om = await open.metrics();
    expect(om).toContain('# TYPE breakwater_command_events counter');
    expect(om).toContain('breakwater_command_events_total{command="Col.0",group="Even",event="success"} 2');
    expect(om.endsWith('# EOF\n')).toBe(true);
  });

  it('builds a scrape of many keys over several event-loop turns', async () => {
    await traffic(300);
    const registry = new Registry();
    registerPrometheus(registry);
    scrapeSlicing.maxPerSlice = 50; // six slices, however fast the machine reads 300 keys
    const { value: text, turns } = await countingTurns(() => registry.metrics().finally(() => delete scrapeSlicing.maxPerSlice));
    expect(text.split('\n').filter((l) => l.startsWith('breakwater_circuit_open{')).length).toBe(300);
    expect(turns).toBeGreaterThan(0); // other work ran while the scrape was under way
  });

  it('gives the families of one scrape one shared budget per turn, and the text is unchanged', async () => {
    await traffic(300);
    const registry = new Registry();
    registerPrometheus(registry);
    const whole = await registry.metrics(); // 300 keys fit one 5 ms slice per family on a fast machine
    // Each family writes 300 rows or more; 100 rows per turn in all means every family spans turns, and
    // prom-client's families (asked together) must not each take their own slice in the same turn.
    scrapeSlicing.maxPerSlice = 100;
    const rows = 300 * 10 + 300; // ten command families with rows, plus the read of the keys
    const { value: text, turns } = await countingTurns(() => registry.metrics().finally(() => delete scrapeSlicing.maxPerSlice));
    expect(text).toBe(whole);
    expect(turns).toBeGreaterThanOrEqual(rows / 100 - 1);
  });

  it('yields to a timer between slices when the budget is tiny', async () => {
    await traffic(50);
    const registry = new Registry();
    registerPrometheus(registry);
    const whole = await registry.metrics();
    scrapeSlicing.budgetMs = 0; // every time check ends the slice
    const { setTimeout: realTimeout } = await import('node:timers');
    let fired = false;
    realTimeout(() => (fired = true), 0);
    // The timer is made due before the scrape starts: 50 keys can be scraped within its 1 ms on a fast machine, and
    // then it would not fire even between slices. Now only a scrape that never yields keeps it from firing.
    const due = performance.now() + 2;
    while (performance.now() < due) {
      // wait, blocking, until the timer is due
    }
    const text = await registry.metrics().finally(() => delete scrapeSlicing.budgetMs);
    expect(fired).toBe(true);
    expect(text).toBe(whole);
  });

  it('holds nothing after registry.clear(), and registers afresh on the cleared registry', async () => {
    await traffic(3);
    const registry = new Registry();
    const first = registerPrometheus(registry);
    await registry.metrics();
    registry.clear();
    expect(await registry.metrics()).toBe('\n');
    const second = registerPrometheus(registry);
    expect(second).not.toBe(first);
    expect((await registry.metrics()).includes('command="Col.0"')).toBe(true);
    second.unregister();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    registry.resetMetrics(); // prom-client's reset reaches our families without error
  });

  it('tells a node:cluster primary how to merge each family (CLUSTER_AGGREGATION)', async () => {
    await traffic(1);
    const registry = new Registry();
    registerPrometheus(registry);
    const json = await registry.getMetricsAsJSON();
    const aggregator = (name: string) => json.find((m) => m.name === `breakwater_${name}`)?.aggregator;
    expect(aggregator('circuit_open')).toBe('max');
    expect(aggregator('command_events_total')).toBe('sum');
    expect(aggregator('command_latency_mean_seconds')).toBe('average');
  });

  it('refuses bad percentiles and filter options, naming them', () => {
    for (const [options, option] of [
      [{ percentiles: 'no' }, 'registerPrometheus.percentiles'],
      [{ filter: 'Col.*' }, 'registerPrometheus.filter'],
    ] as const) {
      let error: unknown;
      try {
        registerPrometheus(new Registry(), options as never);
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error)).toBe(true);
      expect((error as { option: string }).option).toBe(option);
    }
  });
});
