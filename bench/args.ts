/**
 * The command line of `npm run bench` (bench/run.ts): options and filters, checked before anything runs, so a typo
 * fails at once with the option's name rather than after minutes of measuring (test/bench/args.test.ts).
 */
import { COUNT_DEFAULTS, type CountOptions } from './count.js';

export interface Args {
  /** Another checkout's root whose src/ is measured instead of this one's (before/after comparisons). */
  src?: string;
  /** The Node binary that runs the children (`--node PATH`, or a version such as `--node 24.22.3`); default: this one. */
  node: string;
  quick: boolean;
  chart: boolean;
  docs: boolean;
  list: boolean;
  /** Results files to render instead of measuring (`--from` repeated: merged, see bench/run.ts's mergeResults). */
  from: string[];
  out?: string;
  filters: string[];
  /** `--count`: instructions per call under valgrind instead of time (bench/count.ts), with its knobs. */
  count?: CountOptions;
}

/** The count mode's knobs: `--calls N` per window, `--windows N` per child, `--warmup N` calls, `--repeat N` children per unit. */
const COUNT_KNOBS: Record<string, { readonly key: keyof CountOptions; readonly min: number }> = {
  '--calls': { key: 'calls', min: 1 },
  '--windows': { key: 'windows', min: 1 },
  '--warmup': { key: 'warmup', min: 0 },
  '--repeat': { key: 'repeat', min: 1 },
};

/** Options that make no sense with `--count` (it writes no docs or chart, and always runs whole windows). */
const NOT_WITH_COUNT = ['--docs', '--chart', '--from', '--quick', '--list'];

function value(argv: readonly string[], i: number, option: string): string {
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${option} needs a value (see bench/run.ts)`);
  return v;
}

/** Parses `npm run bench`'s arguments; `env` supplies `BW_BENCH_NODE`, `node` the default Node binary. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, node: string = process.execPath): Args {
  const a: Args = { from: [], quick: false, chart: false, docs: false, list: false, filters: [], node: env.BW_BENCH_NODE ?? node };
  const knobs: Partial<Record<keyof CountOptions, number>> = {};
  let count = false;
  const seen: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) seen.push(arg);
    if (arg === '--quick') a.quick = true;
    else if (arg === '--chart') a.chart = true;
    else if (arg === '--docs') a.docs = true;
    else if (arg === '--list') a.list = true;
    else if (arg === '--count') count = true;
    else if (arg === '--from') a.from.push(value(argv, i++, arg));
    else if (arg === '--out') a.out = value(argv, i++, arg);
    else if (arg === '--src') a.src = value(argv, i++, arg);
    else if (arg === '--node') a.node = value(argv, i++, arg);
    else if (COUNT_KNOBS[arg] !== undefined) {
      const { key, min } = COUNT_KNOBS[arg];
      const raw = value(argv, i++, arg);
      const digits = raw.replace(/_/g, ''); // 20_000 as in the code
      if (!/^\d+$/.test(digits) || !Number.isSafeInteger(Number(digits)) || Number(digits) < min) throw new Error(`${arg} must be a whole number ≥ ${min}, got '${raw}'`);
      knobs[key] = Number(digits);
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg} (see bench/run.ts)`);
    else a.filters.push(arg);
  }
  if (!count) {
    const knob = seen.find((o) => COUNT_KNOBS[o] !== undefined);
    if (knob !== undefined) throw new Error(`${knob} applies to --count only`);
    return a;
  }
  const clash = seen.find((o) => NOT_WITH_COUNT.includes(o));
  if (clash !== undefined) throw new Error(`--count cannot be combined with ${clash}`);
  const special = a.filters.find((f) => f === 'keys' || f === 'startup');
  if (special !== undefined) throw new Error(`--count counts the per-call scenarios; '${special}' has no count mode (run it timed)`);
  a.count = { ...COUNT_DEFAULTS, ...knobs };
  return a;
}
