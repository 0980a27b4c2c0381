/**
 * A node:cluster application for test/integration/cluster.test.ts: the primary forks two workers, forks one more on
 * each SIGUSR2 (the test's cue to replace a worker it killed, once it has seen the loss: a replacement forked at
 * once could start reporting before any sample showed the gap), and serves the workers' aggregate with startClusterPrimary on 127.0.0.1:`--port` (prints `ready <url>`).
 * Worker n runs 40·n successes and 10·n failures of `Cluster.Get` and 20·n executions of `Cluster.Put` on pool
 * `ClusterPool`, then prints `worker <id> pid <pid> done <cumulative counts as JSON>` from its own snapshot.
 */
import cluster from 'node:cluster';
import { command, metricsFor, reportToClusterPrimary, startClusterPrimary } from '../../../src/index.js';

if (cluster.isPrimary) {
  const i = process.argv.indexOf('--port');
  const port = i === -1 ? 0 : Number(process.argv[i + 1]);
  let stopping = false;
  process.on('SIGUSR2', () => {
    if (!stopping) cluster.fork();
  });
  cluster.fork();
  cluster.fork();
  const primary = await startClusterPrimary({ port, intervalMs: 200, workerTimeout: 3000 });
  process.stdout.write(`ready ${primary.url}\n`);
  process.once('SIGTERM', () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    void primary.close().then(() => process.exit(0));
  });
} else {
  reportToClusterPrimary({ intervalMs: 200 });
  const n = cluster.worker!.id;
  const metrics = { rollingWindow: 60_000, rollingBuckets: 10 };
  const get = command({
    key: 'Cluster.Get',
    group: 'Cluster',
    metrics,
    circuitBreaker: { requestVolumeThreshold: 1000 },
    run: async (fail: boolean) => {
      if (fail) throw new Error('down');
      return 'ok';
    },
    fallback: () => 'fallback',
  });
  const put = command({ key: 'Cluster.Put', group: 'Cluster', isolation: 'pool', pool: 'ClusterPool', metrics, run: async () => 'ok' });
  for (let k = 0; k < 40 * n; k++) await get.execute(false);
  for (let k = 0; k < 10 * n; k++) await get.execute(true);
  for (let k = 0; k < 20 * n; k++) await put.execute();
  const counts = { get: metricsFor('Cluster.Get').snapshot().cumulative, put: metricsFor('Cluster.Put').snapshot().cumulative };
  process.stdout.write(`worker ${n} pid ${process.pid} done ${JSON.stringify(counts)}\n`);
  process.on('disconnect', () => process.exit(0));
}
