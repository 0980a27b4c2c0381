import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/hystrixDashboard.js';
import { freePort, pollUntil, startProcess, type Child } from './support/processes.js';

/**
 * A real Prometheus scraping two real instance processes (test/integration/support/fleetInstance.ts, one of them
 * failing half its calls so its circuit opens), with docs/prometheus/breakwater-rules.yml loaded: the rules evaluate
 * on real data, and every expression of docs/prometheus/grafana-dashboard.json is run as a query.
 * Time budget: beforeAll 20 s, the test 40 s, afterAll 15 s.
 */

const RULES = join(REPO_ROOT, 'docs', 'prometheus', 'breakwater-rules.yml');
const DASHBOARD = join(REPO_ROOT, 'docs', 'prometheus', 'grafana-dashboard.json');

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

let dir: string;
let prometheus: Child | undefined;
let promUrl: string;
const instances: Child[] = [];

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${promUrl}${path}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? JSON.stringify(body)}`);
  return body.data;
}

const query = async (expr: string): Promise<Sample[]> => (await api<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;

/** Every PromQL expression of the dashboard (panel targets, and the variables' label_values metrics). */
function dashboardExpressions(dashboard: { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { query?: unknown }[] } }): [string, string][] {
  const out: [string, string][] = [];
  for (const p of dashboard.panels) for (const t of p.targets) out.push([p.title, t.expr]);
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'object' && v.query !== null ? (v.query as { query: string }).query : undefined;
    const m = q === undefined ? null : /^label_values\((.+), (\w+)\)$/.exec(q);
    if (m !== null) out.push([`variable ${m[2]}`, `count by (${m[2]}) (${m[1]})`]);
  }
  return out;
}

/** Grafana's variables as Prometheus would see them with "All" selected. */
function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*').replaceAll('$command', '.*');
}

beforeAll(async () => {
  const ports = await Promise.all([freePort(), freePort()]);
  for (const [i, errors] of [0, 50].entries()) {
    instances.push(
      startProcess(process.execPath, ['--import', 'tsx', 'test/integration/support/fleetInstance.ts', '--port', String(ports[i]), '--calls', '1000000', '--errors', String(errors), '--per-tick', '2']),
    );
  }
  await Promise.all(instances.map((c) => pollUntil(async () => (c.output().includes('ready') ? true : undefined), 15_000, 50)));
  dir = await mkdtemp(join(tmpdir(), 'breakwater-prometheus-fleet-'));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${RULES}`,
      'scrape_configs:',
      '  - job_name: orders',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${ports[0]}', '127.0.0.1:${ports[1]}']`,
      '',
    ].join('\n'),
  );
  prometheus = startProcess('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn']);
}, 20_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(instances.map((c) => c.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
}, 15_000);

describe('Prometheus with the shipped rules, scraping two instances', () => {
  it('loads the rules, evaluates them on real data, raises the open-circuit alert, and answers every Grafana expression', async () => {
    const requests = await pollUntil(async () => {
      const r = await query('breakwater:command_requests:rate1m{command="Fleet.Get"}');
      return r.length > 0 && Number(r[0]!.value[1]) > 0 ? r : undefined;
    }, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nprometheus output:\n${prometheus?.output() ?? ''}`);
    });
    expect(requests[0]!.metric).toEqual({ __name__: 'breakwater:command_requests:rate1m', job: 'orders', group: 'Fleet', command: 'Fleet.Get' });

    const groups = (await api<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>('/api/v1/rules')).groups;
    const rules = groups.flatMap((g) => g.rules);
    expect(rules).toHaveLength(12);
    expect(rules.filter((r) => r.health !== 'ok' || (r.lastError ?? '') !== '')).toEqual([]);

    // instance 2 fails half its calls: its circuit opens, so one instance of two is open
    const open = await pollUntil(async () => {
      const r = await query('breakwater:circuit_open:instances{command="Fleet.Get"}');
      return r.length > 0 && r[0]!.value[1] === '1' ? r : undefined;
    }, 15_000);
    expect(open[0]!.metric.job).toBe('orders');
    expect((await query('breakwater:command:instances{command="Fleet.Get"}'))[0]!.value[1]).toBe('2');
    const alerts = await pollUntil(async () => {
      const a = (await api<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')).alerts;
      return a.some((x) => x.labels.alertname === 'BreakwaterCircuitOpen') ? a : undefined;
    }, 10_000);
    expect(alerts.find((x) => x.labels.alertname === 'BreakwaterCircuitOpen')).toMatchObject({
      labels: { command: 'Fleet.Get', job: 'orders', severity: 'warning' },
      state: expect.stringMatching(/^(pending|firing)$/),
    });

    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThanOrEqual(15);
    const empty: string[] = [];
    for (const [title, expr] of expressions) {
      const result = await query(substitute(expr)); // throws on a parse or evaluation error
      if (result.length === 0) empty.push(`${title}: ${expr}`);
    }
    expect(empty).toEqual([]);
  }, 40_000);
});
