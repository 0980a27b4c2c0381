import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, registerPrometheus } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { startLocalServer, type LocalServer } from './support/http.js';
import { freePort, pollUntil, startProcess, type Child } from './support/processes.js';

interface QueryResult {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

let target: LocalServer;
let prometheus: Child | undefined;
let dir: string;
let promUrl: string;

async function query(expr: string): Promise<QueryResult['data']['result']> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as QueryResult;
  if (body.status !== 'success') throw new Error(JSON.stringify(body));
  return body.data.result;
}

beforeAll(async () => {
  resetBreakwater();
  const registry = new Registry();
  registerPrometheus(registry);
  target = await startLocalServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  const ok = command({ key: 'PromInt.Ok', group: 'PromInt', run: async () => 1 });
  const failing = command({ key: 'PromInt.Fail', group: 'PromInt', run: async () => { throw new Error('down'); }, fallback: () => 0 });
  const pooled = command({ key: 'PromInt.Pool', isolation: 'pool', pool: 'PromIntPool', run: async () => 2 });
  for (let i = 0; i < 5; i++) await ok.execute();
  for (let i = 0; i < 3; i++) await failing.execute();
  await pooled.execute();

  dir = await mkdtemp(join(tmpdir(), 'breakwater-prometheus-'));
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
      'scrape_configs:',
      '  - job_name: breakwater',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${target.port}']`,
      '',
    ].join('\n'),
  );
  prometheus = startProcess('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
}, 20_000);

afterAll(async () => {
  await prometheus?.stop();
  await target?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  resetBreakwater();
}, 20_000);

describe('Prometheus (the real server) scraping registerPrometheus', () => {
  it('stores breakwater series scraped from /metrics', async () => {
    const started = Date.now();
    const success = await pollUntil(async () => {
      const r = await query('breakwater_command_events_total{command="PromInt.Ok",event="success"}');
      return r.length > 0 ? r : undefined;
    }, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nprometheus output:\n${prometheus?.output() ?? ''}`);
    });
    const firstSeriesMs = Date.now() - started;
    expect(success[0]!.metric).toMatchObject({ job: 'breakwater', group: 'PromInt', command: 'PromInt.Ok', event: 'success' });
    expect(Number(success[0]!.value[1])).toBe(5);

    const up = await query('up{job="breakwater"}');
    expect(up.map((r) => r.value[1])).toEqual(['1']);
    const failures = await query('breakwater_command_events_total{command="PromInt.Fail",event="failure"}');
    expect(Number(failures[0]!.value[1])).toBe(3);
    const closed = await query('breakwater_circuit_state{command="PromInt.Fail",state="closed"}');
    expect(Number(closed[0]!.value[1])).toBe(1);
    const p50 = await query('breakwater_command_latency_seconds{command="PromInt.Ok",kind="execute",quantile="0.5"}');
    expect(p50).toHaveLength(1);
    expect(Number(p50[0]!.value[1])).toBeGreaterThanOrEqual(0);
    const pool = await query('breakwater_pool_executions_total{pool="PromIntPool"}');
    expect(Number(pool[0]!.value[1])).toBe(1);
    // scrape health as Prometheus saw it: no failed scrapes, samples stored
    const samples = await query('scrape_samples_scraped{job="breakwater"}');
    expect(Number(samples[0]!.value[1])).toBeGreaterThan(50);
    console.info(`prometheus: first breakwater series after ${firstSeriesMs} ms; ${samples[0]!.value[1]} samples per scrape`);
  }, 40_000);
});
