/**
 * A node:cluster worker for test/fleet/clusterMetrics.test.ts. `BW_TEST_WORKER` says how it answers the primary's
 * /metrics: `answer` (normally), `die-mid-scrape` (exits when about to send the second piece of its answer, the first
 * one already sent), `silent` (never reports, so never answers; it says `fixture:asked` when asked) or `slow` (sends
 * each piece after the first only once the primary has said `fixture:next` for it).
 * It holds 2,500 series of its own (three pieces) and one command key, and says `fixture:ready` when set up.
 */
import { Gauge, register } from 'prom-client';
import { command, reportToClusterPrimary } from '../../../src/index.js';

const mode = process.env.BW_TEST_WORKER ?? 'answer';
const send = process.send!.bind(process) as (message: unknown, ...rest: unknown[]) => boolean;
if (mode !== 'silent') reportToClusterPrimary({ intervalMs: 100 });
const gauge = new Gauge({ name: 'fixture_series', help: 'many series', labelNames: ['i'], registers: [register] });
for (let i = 0; i < 2500; i++) gauge.set({ i: String(i) }, i);
await command({ key: 'Fixture', run: async () => 1 }).execute();
let pieces = 0;
if (mode === 'die-mid-scrape') {
  process.send = ((message: { type?: string }, ...rest: unknown[]) => {
    if (message?.type === 'breakwater:metrics-piece' && ++pieces === 2) process.exit(1);
    return send(message, ...rest);
  }) as typeof process.send;
}
const held: unknown[][] = [];
/** `fixture:next` cues received before the piece they let through was ready. */
let credits = 0;
if (mode === 'slow') {
  process.send = ((message: { type?: string }, ...rest: unknown[]) => {
    if (message?.type === 'breakwater:metrics-piece' && ++pieces > 1) {
      if (credits > 0) {
        credits--;
        return send(message, ...rest);
      }
      held.push([message, ...rest]);
      return true;
    }
    return send(message, ...rest);
  }) as typeof process.send;
}
process.on('message', (message: { type?: string }) => {
  if (mode === 'silent' && message?.type === 'breakwater:metrics-request') send({ type: 'fixture:asked' });
  if (message?.type === 'fixture:next') {
    if (held.length > 0) send(...(held.shift() as [unknown, ...unknown[]]));
    else credits++;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'fixture:ready' });
