/**
 * What the turbine's aggregation costs: `node --expose-gc --import tsx bench/turbine.ts` (run it under
 * `flock /work/bench.lock` on a shared machine). For N instances × K keys it measures, per sample (every instance
 * sending one object per key, as a breakwater instance does every 500 ms):
 *   read       SSE parsing + JSON.parse of every frame + recording it in the view (what each upstream connection does)
 *   aggregate  the pure merge (aggregateSamples over the view)
 *   write      JSON.stringify of every aggregated object (what /turbine.stream sends, once per sample, shared by clients)
 * as CPU time (process.cpuUsage, user + system) per sample and per instance-key, and the heap the view retains
 * (the latest object of every instance and key) per instance-key, after a forced GC.
 */
import { command, hystrixDashboardSample, type HystrixCommandJson } from '../src/index.js';
import { FleetView } from '../src/fleet/FleetView.js';
import { SseParser } from '../src/fleet/SseParser.js';
import { useFakeClock } from '../src/testing.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

useFakeClock();
await command({ key: 'Bench.Template', group: 'Bench', run: async () => 1 }).execute();
const template = hystrixDashboardSample().find((o) => o.type === 'HystrixCommand') as HystrixCommandJson;

/** One instance's sample text: K commands with their own numbers. */
function sampleText(instance: number, keys: number, round: number): string {
  let text = '';
  for (let k = 0; k < keys; k++) {
    const requests = (instance * 7 + k * 3 + round) % 500;
    const object = {
      ...template,
      name: `Bench.Command${k}`,
      group: `Group${k % 10}`,
      currentTime: 1_767_000_000_000 + round * 500,
      requestCount: requests,
      errorCount: requests % 13,
      errorPercentage: requests === 0 ? 0 : Math.floor(((requests % 13) * 100) / requests),
      rollingCountSuccess: requests - (requests % 13),
      rollingCountFailure: requests % 13,
      latencyExecute_mean: (k + instance) % 40,
      isCircuitBreakerOpen: (k + instance) % 17 === 0,
    };
    text += `data: ${JSON.stringify(object)}\n\n`;
  }
  return text;
}

interface Result {
  instances: number;
  keys: number;
  readMs: number;
  aggregateMs: number;
  writeMs: number;
  bytesIn: number;
  bytesOut: number;
  heapPerInstanceKey: number;
}

function cpuMs(f: () => void): number {
  const before = process.cpuUsage();
  f();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

function measure(instances: number, keys: number, rounds: number): Result {
  const texts = Array.from({ length: 3 }, (_, round) => Array.from({ length: instances }, (_, i) => sampleText(i, keys, round)));
  gc!();
  const heapBefore = process.memoryUsage().heapUsed;
  const view = new FleetView(5000);
  const parsers = Array.from({ length: instances }, (_, i) => {
    const id = `10.0.${Math.floor(i / 250)}.${i % 250}:8080/hystrix.stream`;
    return new SseParser(
      (data) => view.accept(id, JSON.parse(data) as Record<string, unknown>, now),
      () => view.touch(id, now),
    );
  });
  let now = 0;
  const read = (round: number): void => {
    for (let i = 0; i < instances; i++) parsers[i]!.push(texts[round % 3]![i]!);
  };
  read(0);
  gc!();
  const heapPerInstanceKey = (process.memoryUsage().heapUsed - heapBefore) / (instances * keys);
  // warm up every stage
  for (let r = 0; r < 5; r++) {
    read(r);
    for (const o of view.aggregate(now)) JSON.stringify(o);
  }
  let readMs = 0;
  let aggregateMs = 0;
  let writeMs = 0;
  let bytesOut = 0;
  for (let r = 0; r < rounds; r++) {
    now += 500;
    readMs += cpuMs(() => read(r));
    let out: Record<string, unknown>[] = [];
    aggregateMs += cpuMs(() => {
      out = view.aggregate(now);
    });
    writeMs += cpuMs(() => {
      let text = '';
      for (const o of out) text += `data: ${JSON.stringify(o)}\n\n`;
      bytesOut = text.length;
    });
  }
  return {
    instances,
    keys,
    readMs: readMs / rounds,
    aggregateMs: aggregateMs / rounds,
    writeMs: writeMs / rounds,
    bytesIn: texts[0]!.reduce((a, t) => a + t.length, 0),
    bytesOut,
    heapPerInstanceKey,
  };
}

const grid: [number, number, number][] = [
  [1, 100, 40],
  [5, 100, 40],
  [20, 100, 40],
  [20, 1000, 10],
  [2, 10_000, 5],
];
const only = process.argv.slice(2).filter((a) => /^\d+x\d+$/.test(a));
const rows: Result[] = [];
for (const [instances, keys, rounds] of grid) {
  if (only.length > 0 && !only.includes(`${instances}x${keys}`)) continue;
  rows.push(measure(instances, keys, rounds));
}
const f = (n: number, d = 2): string => n.toFixed(d);
console.log('| instances × keys | CPU per sample (read + aggregate + write) | per instance-key: read / aggregate / write | bytes in → out per sample | view heap per instance-key | CPU share of one core at 500 ms samples |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const total = r.readMs + r.aggregateMs + r.writeMs;
  const per = (ms: number): string => `${f((ms * 1000) / (r.instances * r.keys), 1)} µs`;
  console.log(
    `| ${r.instances} × ${r.keys} | ${f(total)} ms (${f(r.readMs)} + ${f(r.aggregateMs)} + ${f(r.writeMs)}) | ${per(r.readMs)} / ${per(r.aggregateMs)} / ${per(r.writeMs)} | ${(r.bytesIn / 1024).toFixed(0)} KiB → ${(r.bytesOut / 1024).toFixed(0)} KiB | ${r.heapPerInstanceKey.toFixed(0)} B | ${f((total / 500) * 100, 1)} % |`,
  );
}
