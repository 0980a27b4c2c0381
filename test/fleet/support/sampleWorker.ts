/**
 * A node:cluster worker for test/fleet/clusterSample.test.ts. `BW_TEST_WORKER` says how it reports: `keys` (1,000
 * keys `Sample.K<i>`, key i run i % 5 + 1 times, reported every 100 ms: ten pieces per sample) or `die-mid-sample`
 * (300 keys `Torn.K<i>`; exits when about to send the second piece of its first sample, the first one sent). It says
 * `fixture:ready` once its keys have run.
 */
import { command, reportToClusterPrimary } from '../../../src/index.js';

const mode = process.env.BW_TEST_WORKER ?? 'keys';
const send = process.send!.bind(process) as (message: unknown, ...rest: unknown[]) => boolean;
const prefix = mode === 'keys' ? 'Sample' : 'Torn';
const count = mode === 'keys' ? 1000 : 300;
for (let i = 0; i < count; i++) {
  const c = command({ key: `${prefix}.K${i}`, group: prefix, run: async () => 1 });
  for (let n = 0; n < (i % 5) + 1; n++) await c.execute();
}
if (mode === 'die-mid-sample') {
  process.send = ((message: { type?: string; piece?: number }, ...rest: unknown[]) => {
    if (message?.type === 'breakwater:sample-piece' && message.piece === 1) process.exit(1);
    return send(message, ...rest);
  }) as typeof process.send;
}
send({ type: 'fixture:ready' });
reportToClusterPrimary({ intervalMs: 100 });
process.on('disconnect', () => process.exit(0));
