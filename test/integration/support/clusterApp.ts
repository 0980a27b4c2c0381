/**
 * A node:cluster application for test/integration/cluster.test.ts: the primary forks two workers, forks one more on
 * each SIGUSR2 (the test's cue to replace a worker it killed, once it has seen the loss: a replacement forked at
 * once could start reporting before any sample showed the gap), and serves the workers' aggregate with startClusterPrimary on 127.0.0.1:`--port` (prints `ready <url>`).
 * Worker n runs 40·n successes and 10·n failures of `Cluster.Get` and 20·n executions of `Cluster.Put` on pool
 * `ClusterPool`, then prints `worker <id> pid <pid> done <cumulative counts as JSON>` from its own snapshot. Each
 * worker also has metrics of its own in prom-client's global registry (a histogram, a summary, a gauge merged by its
 * maximum); the primary serves prom-client's own `AggregatorRegistry.clusterMetrics()` beside breakwater's on a
 * second port (prints `reference <url>`), for comparison.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, Gauge, Histogram, Summary } from 'prom-client';
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
  const reference = new AggregatorRegistry();
  const referenceServer = createServer((_req, res) => {
    reference.clusterMetrics().then(
      (text) => res.writeHead(200, { 'content-type': reference.contentType }).end(text),
      (error: unknown) => res.writeHead(503).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => referenceServer.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`reference http://127.0.0.1:${(referenceServer.address() as AddressInfo).port}/\n`);
  process.stdout.write(`ready ${primary.url}\n`);
  process.once('SIGTERM', () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    referenceServer.close();
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
  const latency = new Histogram({ name: 'app_latency_seconds', help: 'the application\'s own histogram', labelNames: ['route'], buckets: [0.01, 0.1, 1] });
  const sizes = new Summary({ name: 'app_size_bytes', help: 'the application\'s own summary', labelNames: ['route'], percentiles: [0.5, 0.9] });
  for (let k = 0; k < 10 * n; k++) {
    latency.observe({ route: k % 2 === 0 ? '/a' : '/b "quoted"' }, k / 100);
    sizes.observe({ route: '/a' }, k * n);
  }
  new Gauge({ name: 'app_queue_depth', help: 'the deepest queue of any worker', aggregator: 'max' }).set(2 * n);
  const put = command({ key: 'Cluster.Put', group: 'Cluster', isolation: 'pool', pool: 'ClusterPool', metrics, run: async () => 'ok' });
  for (let k = 0; k < 40 * n; k++) await get.execute(false);
  for (let k = 0; k < 10 * n; k++) await get.execute(true);
  for (let k = 0; k < 20 * n; k++) await put.execute();
  const counts = { get: metricsFor('Cluster.Get').snapshot().cumulative, put: metricsFor('Cluster.Put').snapshot().cumulative };
  process.stdout.write(`worker ${n} pid ${process.pid} done ${JSON.stringify(counts)}\n`);
  process.on('disconnect', () => process.exit(0));
}
