import { spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { command, isConfigError, registerPrometheus, type PrometheusOptions } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

/** `name{labels} value` lines of an exposition, as a map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function drive(): Promise<void> {
  const ok = command({ key: 'Prom.Ok', group: 'Shop', timeout: 50, run: async (ms: number) => { clock.advance(ms); return 1; } });
  await ok.execute(20);
  await ok.execute(40);
  const failing = command({ key: 'Prom.Fail', group: 'Shop', circuitBreaker: { requestVolumeThreshold: 2 }, run: async () => { throw new Error('x'); }, fallback: () => 0 });
  await failing.execute();
  await failing.execute();
  clock.advance(500);
  await failing.execute(); // short-circuited
  const pooled = command({ key: 'Prom.Pool', isolation: 'pool', pool: { key: 'PromPool', coreSize: 1 }, run: async () => 1 });
  await pooled.execute();
  command({ key: 'Prom.NoPct', metrics: { percentileEnabled: false }, run: async () => 1 });
  await command({ key: 'Prom.NoPct', metrics: { percentileEnabled: false }, run: async () => 1 }).execute();
}

describe('registerPrometheus', () => {
  it('exposes event counters, circuit state, health, concurrency, latency in seconds and pools, read at scrape time', async () => {
    const registry = new Registry();
    registerPrometheus(registry);
    // no command yet: no per-command series (the process-wide load-shedding gauges read 0 while it is off)
    expect([...samples(await registry.metrics()).keys()].filter((k) => !k.startsWith('breakwater_load_shed'))).toEqual([]);
    await drive();
    const text = await registry.metrics();
    const s = samples(text);
    const l = (name: string, labels: string) => s.get(`breakwater_${name}{${labels}}`);
    expect(l('command_events_total', 'command="Prom.Ok",group="Shop",event="success"')).toBe(2);
    expect(l('command_events_total', 'command="Prom.Ok",group="Shop",event="failure"')).toBe(0);
    expect(l('command_events_total', 'command="Prom.Fail",group="Shop",event="failure"')).toBe(2);
    expect(l('command_events_total', 'command="Prom.Fail",group="Shop",event="short_circuited"')).toBe(1);
    expect(l('command_events_total', 'command="Prom.Fail",group="Shop",event="fallback_success"')).toBe(3);
    expect(l('command_events_total', 'command="Prom.Fail",group="Shop",event="rate_limited"')).toBe(0);
    expect(l('circuit_open', 'command="Prom.Fail",group="Shop"')).toBe(1);
    expect(l('circuit_open', 'command="Prom.Ok",group="Shop"')).toBe(0);
    expect(l('circuit_state', 'command="Prom.Fail",group="Shop",state="open"')).toBe(1);
    expect(l('circuit_state', 'command="Prom.Fail",group="Shop",state="closed"')).toBe(0);
    expect(l('circuit_state', 'command="Prom.Fail",group="Shop",state="half_open"')).toBe(0);
    expect(l('command_health_requests', 'command="Prom.Fail",group="Shop"')).toBe(2);
    expect(l('command_health_errors', 'command="Prom.Fail",group="Shop"')).toBe(2);
    expect(l('command_error_ratio', 'command="Prom.Fail",group="Shop"')).toBe(1);
    expect(l('command_concurrent_executions', 'command="Prom.Ok",group="Shop"')).toBe(0);
    expect(l('command_concurrent_executions_rolling_max', 'command="Prom.Ok",group="Shop"')).toBe(1);
    const p100 = l('command_latency_seconds', 'command="Prom.Ok",group="Shop",kind="execute",quantile="1"')!;
    expect(p100).toBeGreaterThanOrEqual(0.039);
    expect(p100).toBeLessThanOrEqual(0.041);
    expect(l('command_latency_seconds', 'command="Prom.Ok",group="Shop",kind="total",quantile="0.5"')).toBeGreaterThan(0);
    expect(l('command_latency_mean_seconds', 'command="Prom.Ok",group="Shop",kind="execute"')).toBeCloseTo(0.03, 2);
    expect([...s.keys()].some((k) => k.startsWith('breakwater_command_latency_seconds{command="Prom.NoPct"'))).toBe(false);
    expect(l('pool_executions_total', 'pool="PromPool"')).toBe(1);
    expect(l('pool_rejections_total', 'pool="PromPool"')).toBe(0);
    expect(l('pool_core_size', 'pool="PromPool"')).toBe(1);
    expect(l('pool_active', 'pool="PromPool"')).toBe(0);
    expect(l('pool_max_queue_size', 'pool="PromPool"')).toBe(-1);
    expect(text).toContain('# TYPE breakwater_command_events_total counter');
    expect(text).toContain('# TYPE breakwater_circuit_open gauge');
    expect(text).toContain('# TYPE breakwater_command_latency_seconds summary');

    // values follow the commands between scrapes with no per-call work
    await command({ key: 'Prom.Ok', group: 'Shop', run: async () => 1 }).execute();
    expect(samples(await registry.metrics()).get('breakwater_command_events_total{command="Prom.Ok",group="Shop",event="success"}')).toBe(3);
  });

  it('passes promtool check metrics', async () => {
    const registry = new Registry();
    registerPrometheus(registry);
    await drive();
    const text = await registry.metrics();
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
    expect(result.error).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('is idempotent per registry and prefix, and unregister removes only its metrics', async () => {
    const registry = new Registry();
    const a = registerPrometheus(registry);
    expect(registerPrometheus(registry)).toBe(a);
    const custom = registerPrometheus(registry, { prefix: 'svc_' });
    expect(custom).not.toBe(a);
    expect(registry.getMetricsAsArray()).toHaveLength(a.metricNames.length * 2);
    a.unregister();
    a.unregister();
    expect(registry.getMetricsAsArray().map((m) => m.name).every((n) => n.startsWith('svc_'))).toBe(true);
    const again = registerPrometheus(registry);
    expect(again).not.toBe(a);
    again.unregister();
    custom.unregister();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('uses the default prom-client registry when none is given', async () => {
    const { register } = await import('prom-client');
    const r = registerPrometheus();
    try {
      expect(r.registry).toBe(register);
      expect(register.getSingleMetric('breakwater_command_events_total')).toBeDefined();
    } finally {
      r.unregister();
    }
    expect(register.getSingleMetric('breakwater_command_events_total')).toBeUndefined();
  });

  it('refuses a bad registry or prefix naming the option', () => {
    const cases: [unknown, unknown, string][] = [
      [{}, undefined, 'registerPrometheus.registry'],
      [new Registry(), { prefix: 'bad-prefix' }, 'registerPrometheus.prefix'],
      [new Registry(), { prefix: 3 }, 'registerPrometheus.prefix'],
      [new Registry(), { prefx: 'x_' }, 'registerPrometheus.prefx'],
    ];
    for (const [registry, options, option] of cases) {
      let error: unknown;
      try {
        registerPrometheus(registry as Registry, options as PrometheusOptions);
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error), option).toBe(true);
      expect((error as { option: string }).option).toBe(option);
    }
  });
});
