/**
 * hystrixjs 0.2.0, the old direct Node port of Hystrix. It needs rxjs 5, so it lives in its own package under
 * bench/hystrixjs (installed by bench/run.ts with `npm ci --prefix bench/hystrixjs`) and is loaded from there.
 * Defaults: timeout 30 s (a setTimeout per call), circuit 50% over 10 s, percentiles on. Its fallbacks must
 * return a Promise.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FALLBACK_VALUE, IN_FLIGHT, atAppDepth, failing, fallbackValue, gated, inFlightBatch, work, type Scenario, type Subject } from './scenario.js';

interface HystrixCommand {
  execute(...args: unknown[]): Promise<unknown>;
}
interface HystrixBuilder {
  run(fn: (...args: unknown[]) => Promise<unknown>): HystrixBuilder;
  fallbackTo(fn: (error: unknown, args: unknown[]) => Promise<unknown>): HystrixBuilder;
  circuitBreakerForceOpened(value: boolean): HystrixBuilder;
  circuitBreakerRequestVolumeThreshold(value: number): HystrixBuilder;
  build(): HystrixCommand;
}
interface Hystrixjs {
  commandFactory: { getOrCreate(key: string, group?: string): HystrixBuilder };
  metricsFactory: { getOrCreate(config: { commandKey: string }): Record<string, unknown> };
}

/** Where bench/ is: the child is bundled elsewhere, so the runner passes it in BW_BENCH_DIR. */
function benchDir(): string {
  const dir = process.env.BW_BENCH_DIR;
  if (dir === undefined) throw new Error('BW_BENCH_DIR is not set (run the benchmark through bench/run.ts)');
  return dir;
}

function load(): Hystrixjs {
  const require = createRequire(join(benchDir(), 'hystrixjs', 'package.json'));
  return require('hystrixjs') as Hystrixjs;
}

const fallbackPromise = (): Promise<number> => Promise.resolve(fallbackValue());
const call = (cmd: HystrixCommand): Subject['op'] => ({ kind: 'async', fn: () => cmd.execute() });

export const hystrixjsScenarios: Scenario[] = [
  {
    id: 'hystrixjs/success',
    library: 'hystrixjs',
    group: 'success',
    title: 'success, defaults',
    note: 'commandFactory.getOrCreate(key).run(fn).build(): timeout 30 s (a setTimeout per call)',
    async setup() {
      const h = load();
      const cmd = h.commandFactory.getOrCreate('BenchSuccess').run(work).build();
      return { op: call(cmd), expect: 42 };
    },
  },
  {
    id: 'hystrixjs/failure-fallback',
    library: 'hystrixjs',
    group: 'failure',
    title: 'failure + fallback',
    note: 'circuitBreakerRequestVolumeThreshold MAX_SAFE_INTEGER so the circuit stays closed',
    reference: 'trycatch',
    async setup() {
      const h = load();
      const cmd = h.commandFactory
        .getOrCreate('BenchFailure')
        .run(failing)
        .fallbackTo(fallbackPromise)
        .circuitBreakerRequestVolumeThreshold(Number.MAX_SAFE_INTEGER)
        .build();
      return { op: { kind: 'async', fn: atAppDepth(() => cmd.execute()) }, expect: FALLBACK_VALUE };
    },
  },
  {
    id: 'hystrixjs/open-fallback',
    library: 'hystrixjs',
    group: 'open',
    title: 'open circuit + fallback',
    note: 'circuitBreakerForceOpened(true); hystrixjs builds an Error per short-circuited call',
    async setup() {
      const h = load();
      const cmd = h.commandFactory.getOrCreate('BenchOpen').run(work).fallbackTo(fallbackPromise).circuitBreakerForceOpened(true).build();
      return { op: call(cmd), expect: FALLBACK_VALUE };
    },
  },
  {
    id: 'hystrixjs/inflight',
    library: 'hystrixjs',
    group: 'inflight',
    title: `${IN_FLIGHT.toLocaleString('en')} calls in flight, defaults`,
    reference: 'inflight',
    async setup() {
      const h = load();
      const cmd = h.commandFactory.getOrCreate('BenchInFlight').run(gated).build();
      return { op: inFlightBatch(() => cmd.execute()), expect: 42 };
    },
  },
];
