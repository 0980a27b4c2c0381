import { afterEach, describe, expect, it } from 'vitest';
import { isClusterSample } from '../../src/fleet/clusterMessages.js';
import { reportToClusterPrimary, startClusterPrimary, type ClusterPrimary } from '../../src/index.js';
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

  it('takes only well-formed samples from the IPC channel (other libraries share it)', () => {
    expect(isClusterSample({ type: 'breakwater:sample', objects: [{ type: 'HystrixCommand', name: 'A' }] })).toBe(true);
    for (const junk of [null, 'x', { type: 'prom-client:getMetricsRes' }, { type: 'breakwater:sample', objects: 'x' }, { type: 'breakwater:sample', objects: [1] }]) {
      expect(isClusterSample(junk)).toBe(false);
    }
  });
});
