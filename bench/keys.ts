/**
 * Bytes per command key: what `CommandMetrics.footprintBytes` reports, and the heap delta of creating 1,000 keys
 * (each command built and executed once, so its runtime, counters and first histogram bucket exist).
 */
import * as bw from '../src/index.js';
import { fullGc, type HarnessOptions } from './harness.js';
import { work } from './scenario.js';

/** Keys created for the heap delta. */
export const KEYS = 1000;

export async function measureKeys(_o: HarnessOptions): Promise<Record<string, unknown>> {
  // Warm the code paths (and the shared deadline list) with one key first, so the delta is keys only.
  const first = bw.command({ key: 'BenchKey-warm', run: work });
  for (let i = 0; i < 1000; i++) await first.execute();
  const footprintWarm = bw.metricsFor('BenchKey-warm').footprintBytes;
  const handles: unknown[] = [];
  fullGc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < KEYS; i++) {
    const c = bw.command({ key: `BenchKey-${i}`, run: work });
    await c.execute();
    handles.push(c);
  }
  fullGc();
  const after = process.memoryUsage().heapUsed;
  const footprint = bw.metricsFor('BenchKey-0').footprintBytes;
  const noPercentiles = bw.command({ key: 'BenchKey-nop', run: work, metrics: { percentileEnabled: false } });
  await noPercentiles.execute();
  return {
    id: 'breakwater/keys',
    keys: KEYS,
    heapBytesPerKey: (after - before) / KEYS,
    footprintBytes: footprint,
    footprintBytesAfter1000Calls: footprintWarm,
    footprintBytesPercentilesOff: bw.metricsFor('BenchKey-nop').footprintBytes,
    handles: handles.length,
  };
}
