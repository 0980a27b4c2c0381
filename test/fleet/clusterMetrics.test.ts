import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startClusterPrimary, type ClusterPrimary } from '../../src/index.js';
import { METRICS_TIMEOUT_MS } from '../../src/fleet/clusterMetrics.js';
import { forkReady, killAll } from './support/workers.js';
import { resetBreakwater, useFakeClock } from '../../src/testing.js';
import { send, within } from '../dashboard/support.js';

/**
 * The primary's /metrics with real node:cluster workers (test/fleet/support/metricsWorker.ts) that fail while it
 * waits: this test file is the primary. Every wait is bounded; the workers are disconnected after each test.
 */
const open: ClusterPrimary[] = [];
const forked: Worker[] = [];

beforeAll(() => {
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./support/metricsWorker.ts', import.meta.url)), execArgv: ['--import', 'tsx'], silent: true });
});

afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  await killAll(forked);
  resetBreakwater();
});

/** Forks one worker per mode and waits until each is set up. */
const fork = (...modes: string[]): Promise<Worker[]> => forkReady(forked, ...modes);

function seriesOf(body: string): number {
  return body.split('\n').filter((l) => l.startsWith('fixture_series{')).length;
}

describe("the cluster primary's /metrics when a worker fails", () => {
  it('answers 503 at once when a worker exits in the middle of its answer, and serves the others next time', async () => {
    const [, victim] = await fork('answer', 'die-mid-scrape');
    const primary = await startClusterPrimary({ port: 0 });
    open.push(primary);
    const exited = new Promise((resolve) => victim!.once('exit', resolve));
    const started = performance.now();
    const reply = await send(`${primary.url}metrics`);
    expect(reply.status).toBe(503);
    expect(reply.body).toBe('a worker did not answer in time\n');
    // not after prom-client's 5 s timeout: the exit ends the wait
    expect(performance.now() - started).toBeLessThan(METRICS_TIMEOUT_MS - 1000);
    await within(exited, 5000, 'the victim to exit');
    const next = await send(`${primary.url}metrics`);
    expect(next.status).toBe(200);
    expect(seriesOf(next.body)).toBe(2500);
    expect(next.body).toContain('fixture_series{i="2499"} 2499\n');
  }, 40_000);

  it('answers 503 when a worker does not answer within the timeout (on the configured clock)', async () => {
    const [answering, silent] = await fork('answer', 'silent');
    const clock = useFakeClock();
    const primary = await startClusterPrimary({ port: 0 });
    open.push(primary);
    const asked = new Promise((resolve) => silent!.on('message', (m: { type?: string }) => m?.type === 'fixture:asked' && resolve(m)));
    const reply = send(`${primary.url}metrics`);
    let settled = false;
    void reply.then(() => (settled = true));
    await within(asked, 10_000, 'the silent worker to be asked');
    // the answering worker's whole answer arrives; the primary still waits for the silent one
    await new Promise((resolve) => setTimeout(resolve, 300));
    clock.advance(METRICS_TIMEOUT_MS - 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    clock.advance(1);
    const answered = await within(reply, 5000, 'the 503');
    expect(answered.status).toBe(503);
    expect(answered.body).toBe('a worker did not answer in time\n');
    expect(answering!.isConnected()).toBe(true);
  }, 40_000);

  it('waits 5 s for the next piece, not for the whole answer: an answer that keeps coming for longer is served', async () => {
    const [slow] = await fork('slow');
    const clock = useFakeClock();
    const primary = await startClusterPrimary({ port: 0 });
    open.push(primary);
    let pieces = 0;
    // each piece: 3 s pass on the primary's clock before the worker may send the next (3 pieces: 6 s in all)
    const onPiece = (worker: Worker, message: { type?: string }): void => {
      if (worker !== slow || message?.type !== 'breakwater:metrics-piece') return;
      pieces++;
      clock.advance(3000);
      slow.send({ type: 'fixture:next' });
    };
    cluster.on('message', onPiece);
    try {
      const reply = await within(send(`${primary.url}metrics`), 10_000, 'the answer');
      expect(pieces).toBe(3);
      expect(reply.status).toBe(200);
      expect(seriesOf(reply.body)).toBe(2500);
    } finally {
      cluster.off('message', onPiece);
    }
  }, 40_000);
});
