import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, send, type LiveStream } from '../dashboard/support.js';
import { freePort, pollUntil, startProcess, type Child } from './support/processes.js';

/**
 * A real node:cluster application (test/integration/support/clusterApp.ts): a primary with two workers, each running
 * different traffic, and startClusterPrimary serving one /metrics and one /hystrix.stream for both.
 * Time budget: beforeAll 30 s, tests 20 + 10 + 25 s, afterAll 10 s.
 */

interface WorkerReport {
  id: number;
  pid: number;
  counts: { get: Record<string, number>; put: Record<string, number> };
}

let app: Child;
let base: string;
let stream: LiveStream;

function reports(): WorkerReport[] {
  const out: WorkerReport[] = [];
  for (const m of app.output().matchAll(/^worker (\d+) pid (\d+) done (\{.*\})$/gm)) {
    out.push({ id: Number(m[1]), pid: Number(m[2]), counts: JSON.parse(m[3]!) as WorkerReport['counts'] });
  }
  return out;
}

function latest(type: string, name: string): Record<string, unknown> | undefined {
  const all = stream.objects().filter((o) => o.type === type && o.name === name);
  return all[all.length - 1];
}

/** The value of one series line in an exposition, or undefined. */
function valueOf(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: stdout + stderr });
    });
    child.stdin!.end(text);
  });
}

beforeAll(async () => {
  const port = await freePort();
  app = startProcess(process.execPath, ['--import', 'tsx', 'test/integration/support/clusterApp.ts', '--port', String(port)]);
  await pollUntil(async () => (reports().length === 2 && app.output().includes('ready') ? true : undefined), 25_000, 100).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${app.output()}`);
  });
  base = `http://127.0.0.1:${port}/`;
  stream = await openStream(`${base}hystrix.stream`);
}, 30_000);

afterAll(async () => {
  stream?.close();
  await app?.stop(8000);
}, 10_000);

describe('a node:cluster primary with two workers (startClusterPrimary + reportToClusterPrimary)', () => {
  it("serves one /metrics that promtool check metrics accepts, with counts equal to the workers' sums", async () => {
    const [a, b] = reports();
    const expected = {
      success: a!.counts.get.SUCCESS! + b!.counts.get.SUCCESS!,
      failure: a!.counts.get.FAILURE! + b!.counts.get.FAILURE!,
      fallback_success: a!.counts.get.FALLBACK_SUCCESS! + b!.counts.get.FALLBACK_SUCCESS!,
      put: a!.counts.put.SUCCESS! + b!.counts.put.SUCCESS!,
    };
    expect(expected).toEqual({ success: 120, failure: 30, fallback_success: 30, put: 60 }); // workers 1 and 2: 40n, 10n, 20n
    // health counts are re-evaluated within healthSnapshotInterval (500 ms) of the last call: wait for them
    const reply = await pollUntil(async () => {
      const r = await send(`${base}metrics`);
      return valueOf(r.body, 'breakwater_command_health_requests{command="Cluster.Get",group="Cluster"}') === 150 ? r : undefined;
    }, 5000, 100);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toContain('text/plain');
    const text = reply.body;
    const series = (event: string, command = 'Cluster.Get'): string => `breakwater_command_events_total{command="${command}",group="Cluster",event="${event}"}`;
    expect(valueOf(text, series('success'))).toBe(expected.success);
    expect(valueOf(text, series('failure'))).toBe(expected.failure);
    expect(valueOf(text, series('fallback_success'))).toBe(expected.fallback_success);
    expect(valueOf(text, series('success', 'Cluster.Put'))).toBe(expected.put);
    expect(valueOf(text, 'breakwater_pool_executions_total{pool="ClusterPool"}')).toBe(expected.put);
    // gauges as documented: health counts summed, the open-circuit flag the maximum, circuit states counted per worker
    expect(valueOf(text, 'breakwater_command_health_requests{command="Cluster.Get",group="Cluster"}')).toBe(150);
    expect(valueOf(text, 'breakwater_circuit_open{command="Cluster.Get",group="Cluster"}')).toBe(0);
    expect(valueOf(text, 'breakwater_circuit_state{command="Cluster.Get",group="Cluster",state="closed"}')).toBe(2);
    expect(valueOf(text, 'breakwater_command_error_ratio{command="Cluster.Get",group="Cluster"}')).toBeCloseTo(0.2, 5);
    const check = await promtoolCheck(text);
    expect(check.output.trim()).toBe('');
    expect(check.code).toBe(0);
  }, 20_000);

  it("serves the text prom-client's AggregatorRegistry.clusterMetrics() gives for the same workers, their own metrics too", async () => {
    const reference = /^reference (\S+)$/m.exec(app.output())![1]!;
    const families = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('# HELP '));
    const sortedLines = (text: string): string[] => text.split('\n').sort();
    // Rolling figures can move between two scrapes: both are read together until they agree (bounded).
    const pair = await pollUntil(async () => {
      const [ours, theirs] = await Promise.all([send(`${base}metrics`), send(reference)]);
      return ours.status === 200 && theirs.status === 200 && sortedLines(ours.body).join('\n') === sortedLines(theirs.body).join('\n') ? { ours, theirs } : undefined;
    }, 8000, 200);
    // the same families in the same order, the same series and values (the order of series within a family follows
    // the order in which the workers answered, which differs between two scrapes)
    expect(families(pair.ours.body)).toEqual(families(pair.theirs.body));
    expect(pair.ours.headers['content-type']).toBe(pair.theirs.headers['content-type']);
    const text = pair.ours.body;
    expect(valueOf(text, 'app_queue_depth')).toBe(4);
    expect(valueOf(text, 'app_latency_seconds_count{route="/a"}')).toBe(15);
    expect(valueOf(text, 'app_size_bytes_count{route="/a"}')).toBe(30);
    expect(text).toContain('app_latency_seconds_bucket{le="+Inf",route="/b \\"quoted\\""} 15\n');
    const check = await promtoolCheck(text);
    expect(check.output.trim()).toBe('');
    expect(check.code).toBe(0);
  }, 20_000);

  it('serves one /hystrix.stream with the workers aggregated (reportingHosts 2, summed counts)', async () => {
    await stream.waitFor(() => latest('HystrixCommand', 'Cluster.Get')?.reportingHosts === 2 && latest('HystrixCommand', 'Cluster.Get')?.requestCount === 150, 8000);
    expect(latest('HystrixCommand', 'Cluster.Get')).toMatchObject({ rollingCountSuccess: 120, rollingCountFailure: 30, requestCount: 150, errorCount: 30 });
    expect(Number(latest('HystrixCommand', 'Cluster.Get')!.errorPercentage) / 2).toBe(20);
    expect(latest('HystrixThreadPool', 'ClusterPool')).toMatchObject({ reportingHosts: 2, currentCompletedTaskCount: 60 });
  }, 10_000);

  it('a worker that dies leaves the view at once, and its replacement joins it', async () => {
    const victim = reports()[0]!;
    process.kill(victim.pid, 'SIGKILL');
    await stream.waitFor(() => latest('HystrixCommand', 'Cluster.Get')?.reportingHosts === 1, 5000);
    const status = stream.objects().filter((o) => o.type === 'TurbineInstances').pop()!;
    expect(status.instances).toContainEqual(expect.objectContaining({ id: `worker ${victim.id}`, state: 'down', reason: 'exited' }));
    // the primary forks worker 3, which runs 40·3 successes
    app.process.kill('SIGUSR2');
    await pollUntil(async () => (reports().some((r) => r.id === 3) ? true : undefined), 15_000, 100);
    await stream.waitFor(() => latest('HystrixCommand', 'Cluster.Get')?.reportingHosts === 2, 5000);
    const survivor = reports().find((r) => r.id !== victim.id && r.id !== 3)!;
    // The cumulative counter, not the stream's rolling count: on a slow run the survivor's first calls can leave
    // the rolling window before worker 3's arrive.
    const expected = survivor.counts.get.SUCCESS! + 120;
    let counted: number | undefined;
    await pollUntil(async () => {
      counted = valueOf((await send(`${base}metrics`)).body, 'breakwater_command_events_total{command="Cluster.Get",group="Cluster",event="success"}');
      return counted === expected ? true : undefined;
    }, 5000, 100).catch(() => undefined);
    expect(counted).toBe(expected);
  }, 25_000);
});
