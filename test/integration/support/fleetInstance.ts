/**
 * One instance of a fleet, for the turbine and cluster tests: a real process that runs `--calls` executions of the
 * same command keys every instance has (`Fleet.Get`, semaphore-isolated, `--errors` percent of them failing, and
 * `Fleet.Put` on pool `FleetPool`), `--per-tick` calls every 50 ms, then idles, serving /hystrix.stream and /metrics
 * on 127.0.0.1:`--port`. The rolling window is 60 s so the counts stay put while a test compares them.
 * Prints `ready <url>` once listening and `done <calls>` once idle (every call settled, the last health snapshot taken);
 * exits on SIGTERM.
 */
import { command, startDashboard } from '../../../src/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const port = arg('port', 0);
const calls = arg('calls', 100);
const errorsPercent = arg('errors', 0);
const perTick = arg('per-tick', 10);
const metrics = { rollingWindow: 60_000, rollingBuckets: 10, percentileWindow: 60_000, percentileBuckets: 6 };

const get = command({
  key: 'Fleet.Get',
  group: 'Fleet',
  metrics,
  maxConcurrent: 1000,
  circuitBreaker: { requestVolumeThreshold: 20, sleepWindow: 600_000 },
  run: async (fail: boolean) => {
    await new Promise((r) => setTimeout(r, 1));
    if (fail) throw new Error('dependency down');
    return 'ok';
  },
  fallback: () => 'fallback',
});
const put = command({ key: 'Fleet.Put', group: 'Fleet', isolation: 'pool', pool: { key: 'FleetPool', coreSize: 4 }, metrics, run: async () => 'ok', fallback: () => 'busy' });

const dashboard = await startDashboard({ port, host: '127.0.0.1', intervalMs: 200 });
process.stdout.write(`ready ${dashboard.url}\n`);

let done = 0;
const settled: Promise<unknown>[] = [];
const tick = setInterval(() => {
  for (let i = 0; i < perTick && done < calls; i++, done++) {
    // every (100 / errorsPercent)-th call fails, spread evenly
    const fail = errorsPercent > 0 && Math.floor(((done + 1) * errorsPercent) / 100) > Math.floor((done * errorsPercent) / 100);
    settled.push(get.execute(fail).catch(() => undefined), put.execute().catch(() => undefined));
  }
  if (done >= calls) {
    clearInterval(tick);
    // Idle only once every call has settled and the breakers have taken their last health snapshot (at most
    // healthSnapshotInterval, 500 ms, after the last outcome; its timer is due before this one): until then
    // requestCount, errorCount and the circuit state of the stream can still change.
    void Promise.all(settled)
      .then(() => new Promise((r) => setTimeout(r, 600)))
      .then(() => process.stdout.write(`done ${done}\n`));
  }
}, 50);

process.once('SIGTERM', () => {
  clearInterval(tick);
  void dashboard.close().then(() => process.exit(0));
});
