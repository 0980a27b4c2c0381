import cluster, { type Worker } from 'node:cluster';
import { within } from '../../dashboard/support.js';

/**
 * Forks one node:cluster worker per mode (passed as `BW_TEST_WORKER`), adds them to `forked`, and resolves once each
 * has said `fixture:ready` (bounded: 20 s).
 */
export async function forkReady(forked: Worker[], ...modes: string[]): Promise<Worker[]> {
  const workers = modes.map((mode) => cluster.fork({ BW_TEST_WORKER: mode }));
  forked.push(...workers);
  await within(Promise.all(workers.map((w) => new Promise((resolve) => w.on('message', (m: { type?: string }) => m?.type === 'fixture:ready' && resolve(m))))), 20_000, 'the workers to be ready');
  return workers;
}

/** Kills every worker in `forked` that still runs, empties the list, and waits for their exits (bounded: 10 s). */
export async function killAll(forked: Worker[]): Promise<void> {
  await within(
    Promise.all(
      forked.splice(0).map((w) => {
        if (w.isDead()) return undefined;
        const exited = new Promise((resolve) => w.once('exit', resolve));
        w.process.kill();
        return exited;
      }),
    ),
    10_000,
    'the workers to exit',
  );
}
