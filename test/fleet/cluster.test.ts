import cluster, { type Worker } from 'node:cluster';
import { afterEach, describe, expect, it } from 'vitest';
import { isClusterSample } from '../../src/fleet/clusterMessages.js';
import { reportToClusterPrimary, startClusterPrimary, type ClusterPrimary } from '../../src/index.js';
import { useFakeClock } from '../../src/testing.js';
import { openStream, send } from '../dashboard/support.js';

/** In-process checks; the real primary with forked workers is test/integration/cluster.test.ts. */
const open: ClusterPrimary[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
});

describe('startClusterPrimary / reportToClusterPrimary', () => {
  it('refuse to run on the wrong side of the cluster, and bad options, naming them', async () => {
    expect(() => reportToClusterPrimary()).toThrow(/reportToClusterPrimary\(\) must be called in a node:cluster worker/);
    await expect(startClusterPrimary({ port: -1 })).rejects.toThrow(/startClusterPrimary\.port/);
    await expect(startClusterPrimary({ workerTimeout: 5 })).rejects.toThrow(/startClusterPrimary\.workerTimeout/);
    await expect(startClusterPrimary({ colour: 'red' } as never)).rejects.toThrow(/startClusterPrimary\.colour/);
  });

  it('with no worker yet, serves an empty /metrics and a stream holding only the status object, on 127.0.0.1', async () => {
    const primary = await startClusterPrimary({ port: 0, intervalMs: 50 });
    open.push(primary);
    expect(primary.url).toBe(`http://127.0.0.1:${primary.port}/`);
    expect(primary.server.address()).toMatchObject({ address: '127.0.0.1' });
    const metrics = await send(`${primary.url}metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toBe('');
    const stream = await openStream(`${primary.url}hystrix.stream`);
    await stream.waitFor((s) => s.objects().some((o) => o.type === 'TurbineInstances'));
    expect(stream.objects().find((o) => o.type === 'TurbineInstances')).toMatchObject({ reporting: 0, instances: [] });
    stream.close();
    expect(primary.workers()).toEqual([]);
    expect((await send(`${primary.url}metrics`, { headers: { host: 'evil.example' } })).status).toBe(403);
    expect((await send(`${primary.url}nothing`)).status).toBe(404);
  });

  it("says since when each worker is up, silent or gone, and keeps only the latest 64 departures", async () => {
    const clock = useFakeClock(1_000);
    const wallAt = (ms: number) => clock.wallTime() - (clock.now() - ms);
    const primary = await startClusterPrimary({ port: 0, workerTimeout: 3000 });
    open.push(primary);
    const worker = (id: number) => ({ id }) as Worker;
    const sample = (id: number) =>
      cluster.emit('message', worker(id), { type: 'breakwater:sample', objects: [{ type: 'HystrixCommand', name: 'A', reportingHosts: 1 }] });
    sample(1);
    clock.advance(100);
    sample(2);
    clock.advance(400);
    sample(1); // later samples do not move "since": it is when the worker started counting
    sample(2);
    expect(primary.workers()).toEqual([
      { id: 'worker 1', state: 'up', reason: '', since: wallAt(1_000) },
      { id: 'worker 2', state: 'up', reason: '', since: wallAt(1_100) },
    ]);
    cluster.emit('exit', worker(1));
    clock.advance(3_100); // worker 2 last sent at 1 500: silent for more than 3 000 ms at 4 600
    expect(primary.workers()).toEqual([
      { id: 'worker 1', state: 'down', reason: 'exited', since: wallAt(1_500) },
      { id: 'worker 2', state: 'down', reason: 'silent for 3000 ms', since: wallAt(4_500) },
    ]);
    sample(2); // back: up again from now
    expect(primary.workers()).toContainEqual({ id: 'worker 2', state: 'up', reason: '', since: wallAt(clock.now()) });
    for (let id = 3; id < 103; id++) {
      sample(id);
      cluster.emit('exit', worker(id));
    }
    const down = primary.workers().filter((w) => w.state === 'down');
    expect(down).toHaveLength(64);
    expect(down.at(-1)!.id).toBe('worker 102');
  });

  it('takes only well-formed samples from the IPC channel (other libraries share it)', () => {
    expect(isClusterSample({ type: 'breakwater:sample', objects: [{ type: 'HystrixCommand', name: 'A' }] })).toBe(true);
    for (const junk of [null, 'x', { type: 'prom-client:getMetricsRes' }, { type: 'breakwater:sample', objects: 'x' }, { type: 'breakwater:sample', objects: [1] }]) {
      expect(isClusterSample(junk)).toBe(false);
    }
  });
});
