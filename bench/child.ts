/**
 * The benchmark child: runs ONE scenario (or one section of the scale benchmark at one key count) and prints one JSON line. bench/run.ts
 * bundles this file with esbuild into plain JavaScript and starts it as `node --expose-gc child.mjs <mode> <id>`,
 * so no TypeScript loader runs inside a measured process. `count <unit>` is the count mode's child (bench/countChild.ts),
 * started under valgrind by bench/count.ts.
 */
import { countTimers, measureRetention, timeOps, type HarnessOptions, type Op } from './harness.js';
import { BARE_AWAIT, REFERENCES } from './scenario.js';
import { scenarios } from './scenarios.js';
import { measureFloors } from './floor.js';
import { measureKeySection } from './keys.js';
import { countWindows, type CountChildOptions } from './countChild.js';

function options(): HarnessOptions {
  const raw = process.env.BW_BENCH_OPTIONS;
  if (raw === undefined) throw new Error('BW_BENCH_OPTIONS is not set (run the benchmark through bench/run.ts)');
  return JSON.parse(raw) as HarnessOptions;
}

function same(a: unknown, b: unknown): boolean {
  return Object.is(a, b);
}

async function runScenario(id: string, o: HarnessOptions): Promise<Record<string, unknown>> {
  const scenario = scenarios.find((s) => s.id === id);
  if (scenario === undefined) throw new Error(`unknown scenario '${id}'`);
  const subject = await scenario.setup();
  const ops: Record<string, Op> = { bare: BARE_AWAIT, subject: subject.op };
  const reference = scenario.reference === undefined ? undefined : REFERENCES[scenario.reference];
  if (reference !== undefined) ops.reference = reference.op;
  const timing = await timeOps(ops, o);
  if (!same(timing.subject!.last, subject.expect)) {
    throw new Error(`${id}: the last call returned ${String(timing.subject!.last)}, expected ${String(subject.expect)}`);
  }
  if (reference !== undefined && !same(timing.reference!.last, reference.expect)) {
    throw new Error(`${id}: the reference returned ${String(timing.reference!.last)}`);
  }
  subject.verify?.();
  subject.reset?.();
  const retention = await measureRetention(subject.op, o, timing.subject!.ns);
  subject.reset?.();
  const timers = await countTimers(subject.op, o.timerCalls);
  return { id, timing, retention, timers, check: subject.check?.() ?? {} };
}

async function main(): Promise<void> {
  const [mode, id, count] = process.argv.slice(2);
  if (mode === 'count' && id !== undefined) {
    // the count mode (bench/count.ts): its own options, no timing
    const raw = process.env.BW_BENCH_COUNT;
    if (raw === undefined) throw new Error('BW_BENCH_COUNT is not set (run the count mode through bench/run.ts --count)');
    process.stdout.write(`${JSON.stringify(await countWindows(id, JSON.parse(raw) as CountChildOptions))}\n`);
    return;
  }
  const o = options();
  let result: Record<string, unknown>;
  if (mode === 'scenario' && id !== undefined) result = await runScenario(id, o);
  else if (mode === 'keys' && id !== undefined && count !== undefined) result = await measureKeySection(id, Number(count), o);
  else if (mode === 'floors') result = await measureFloors(o);
  else throw new Error(`usage: child.mjs scenario <id> | keys <section> <count> | floors | count <unit>`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
