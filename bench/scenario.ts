/**
 * What a benchmark scenario is, and the bare references every ratio is taken against. The work functions here
 * are the same for every library, so a ratio only measures what the library adds around them.
 */
import type { Op } from './harness.js';

/** The libraries compared side by side. */
export type Library = 'breakwater' | 'opossum' | 'cockatiel' | 'hystrixjs';

/** Scenarios of the same group are the same work done through different libraries. */
export type Group = 'success' | 'sync' | 'failure' | 'open' | 'inflight' | 'decorated';

/**
 * The bare reference a scenario is compared with, besides the bare `await fn()` that every child measures:
 * - `sync`: a bare synchronous `fn()` call;
 * - `trycatch`: `try { return await failing() } catch { return fallback() }` with the same failing fn, both it and
 *   the scenario called {@link APP_DEPTH} frames deep (see there);
 * - `trycatch-shallow`: the same called straight from the benchmark loop, as deep as a microbenchmark gets;
 * - `trycatch-shared`: the same with a pre-built, shared Error (no stack capture per call);
 * - `trycatch-late`: the same, {@link APP_DEPTH} frames deep, around {@link failingLate} (the Error made after an await);
 * - `inflight`: 1,000 bare `fn()` calls in flight at once, then `Promise.all`.
 */
export type Reference = 'sync' | 'trycatch' | 'trycatch-shallow' | 'trycatch-shared' | 'trycatch-late' | 'inflight';

/**
 * A target (issues 6 and 19), checked in the same run. What the row is divided by:
 * - `await`: the bare `await fn()` of the row's own child;
 * - `reference`: the row's {@link Reference}, measured in its own child;
 * - `floor`: a floor of bench/floor.ts (`floor` names it), each side as its ratio to its own bare `await fn()`;
 * - `row`: another scenario of the same run (`row` is its id), each side as its ratio to its own baseline (the bare
 *   `await fn()`, or the reference for failure and in-flight rows: see `Row.chartRatio` in bench/report.ts).
 */
export interface Target {
  readonly against: 'await' | 'reference' | 'floor' | 'row';
  /** `against: 'floor'`: the floor's name in bench/floor.ts's FLOORS. */
  readonly floor?: string;
  /** `against: 'row'`: the id of the scenario compared with. */
  readonly row?: string;
  /** `max`: ratio (ns/op ÷ base ns/op) must be ≤ value. `minThroughput`: base ns ÷ ns must be ≥ value. */
  readonly kind: 'max' | 'minThroughput';
  readonly value: number;
  /** How the target reads in the table, e.g. `≤ 1.5× its floor`. */
  readonly label: string;
}

/**
 * A like-for-like pair (issue 19): a breakwater scenario configured to do the same work as a peer's scenario. The
 * target of every pair is `≤ 1.0× peer` (see bench/report.ts).
 */
export interface Like {
  /** The id of the peer's scenario. */
  readonly peer: string;
  /** The pair's configuration, as the pairs table names it (e.g. `cockatiel ConsecutiveBreaker`). */
  readonly config: string;
  /**
   * Shown beside the peer for what a setting costs (e.g. breakwater keeping its rolling window where the peer keeps
   * none), not a like-for-like claim: its × peer is reported with no target.
   */
  readonly reference?: boolean;
}

/** What a scenario's setup hands to the harness. */
export interface Subject {
  readonly op: Op;
  /** The value every call must produce; the child fails the scenario when the last call returned anything else. */
  readonly expect: unknown;
  /** Facts checked after the run (event counts, breaker state), reported in the JSON. */
  check?(): Record<string, unknown>;
  /**
   * Throws when the timed calls did not do what the row claims (a failure row whose circuit opened would time its
   * fallback on an open circuit). Called right after the timing.
   */
  verify?(): void;
  /**
   * Puts the subject back in its starting state (a fresh, closed circuit) after the timing and after the memory
   * measurement: a failure row whose trip threshold is 1,000,000 calls would reach it in a long child, where a
   * failing call takes 4 µs (Node 24).
   */
  reset?(): void;
}

/** One benchmark scenario, run alone in its own child process. */
export interface Scenario {
  /** Unique id, `library/name`; the argv filter matches it. */
  readonly id: string;
  readonly library: Library;
  readonly group: Group;
  /** Label in the table. */
  readonly title: string;
  /** Why this configuration, in one line (goes to docs/benchmarks.md). */
  readonly note?: string;
  readonly reference?: Reference;
  readonly target?: Target;
  /** A breakwater scenario configured as a peer's: the pair it belongs to. */
  readonly like?: Like;
  /**
   * Why this child's bare `await fn()` rightly differs from the other children's (the runner then never measures it
   * again for being off the run's median).
   */
  readonly ownBaseline?: string;
  /** Part of `bench:quick` (default true). */
  readonly quick?: boolean;
  /** Builds the subject (imports the library lazily, so a child loads only what it measures). */
  setup(): Promise<Subject>;
}

/** The work every success scenario wraps: an already-resolved async function. */
export const work = async (): Promise<number> => 42;

/** The synchronous work of the sync scenarios. */
export const workSync = (): number => 42;

/** The value the fallbacks return. */
export const FALLBACK_VALUE = 7;

/** Fallback used by every library's failure and open-circuit scenarios. */
export const fallbackValue = (): number => FALLBACK_VALUE;

/** Work that fails the way real I/O does: a fresh Error (with its stack) per call. */
export const failing = async (): Promise<number> => {
  throw new Error('boom');
};

/**
 * Work that fails the way a socket or an HTTP client does: the Error is made in a later job (after an await), so its
 * stack holds the failing function and async frames, not the synchronous frames of whoever started the call.
 */
export const failingLate = async (): Promise<number> => {
  await null;
  throw new Error('boom');
};

const SHARED_ERROR = new Error('boom (shared)');

/** Work that fails with one pre-built Error: isolates the machinery from the cost of capturing a stack. */
export const failingShared = async (): Promise<number> => {
  throw SHARED_ERROR;
};

/**
 * How deep below the benchmark loop the failure rows make their call. A fresh `Error` captures up to
 * `Error.stackTraceLimit` (10) frames, and capturing costs per frame: called straight from a benchmark loop, a bare
 * try/catch sits 3 frames deep while any wrapper's `run` sits 8–10 deep, so the comparison would mostly measure
 * stack depth. In an application the failing call sits under a framework, a router and a handler, deeper than 10
 * frames, where the capture costs the same with or without a wrapper. So the `trycatch` reference and the failure
 * scenarios are both called from this depth; `trycatch-shallow` keeps the microbenchmark's depth for comparison.
 */
export const APP_DEPTH = 12;

/** `call`, called through {@link APP_DEPTH} distinct stack frames. */
export function atAppDepth<T>(call: () => T): () => T {
  let f = call;
  for (let i = 0; i < APP_DEPTH; i++) {
    f = new Function('inner', `return function appFrame${i}() { return inner(); }`)(f) as () => T;
  }
  return f;
}

/** Calls in flight at once in the `inflight` scenarios. */
export const IN_FLIGHT = 1000;

let gateOpen: (value: number) => void = () => undefined;
let gate: Promise<number> = Promise.resolve(42);

/** The work of the in-flight scenarios: every call waits on the batch's gate, so all 1,000 are pending at once. */
export const gated = (): Promise<number> => gate;

/**
 * One batch: starts `IN_FLIGHT` calls of `call` (each waits on the gate), opens the gate, awaits them all.
 * Resolves with the last call's value.
 */
export function inFlightBatch(call: () => PromiseLike<unknown>): Op {
  const calls = new Array<PromiseLike<unknown>>(IN_FLIGHT);
  return {
    kind: 'async',
    callsPerOp: IN_FLIGHT,
    fn: async () => {
      gate = new Promise<number>((resolve) => {
        gateOpen = resolve;
      });
      for (let i = 0; i < IN_FLIGHT; i++) calls[i] = call();
      gateOpen(42);
      const values = await Promise.all(calls);
      return values[IN_FLIGHT - 1];
    },
  };
}

/** The bare `await fn()` every child measures. */
export const BARE_AWAIT: Op = { kind: 'async', fn: work };

/** `try { return await fail() } catch { return fallback() }`: the bare failure + fallback a failure row is compared with. */
function bareTryCatch(fail: () => Promise<number>): () => Promise<number> {
  return async () => {
    try {
      return await fail();
    } catch {
      return fallbackValue();
    }
  };
}

/** A bare try/catch reference: an async op that must return the fallback's value. */
function tryCatchReference(fn: () => Promise<number>, title: string): { readonly op: Op; readonly expect: unknown; readonly title: string } {
  return { op: { kind: 'async', fn }, expect: FALLBACK_VALUE, title };
}

/** The bare references, by name. */
export const REFERENCES: Record<Reference, { readonly op: Op; readonly expect: unknown; readonly title: string }> = {
  sync: { op: { kind: 'sync', fn: workSync }, expect: 42, title: 'bare fn()' },
  trycatch: tryCatchReference(atAppDepth(bareTryCatch(failing)), 'bare try/catch'),
  'trycatch-shallow': tryCatchReference(bareTryCatch(failing), 'bare try/catch (shallow)'),
  'trycatch-shared': tryCatchReference(bareTryCatch(failingShared), 'bare try/catch (shared Error)'),
  'trycatch-late': tryCatchReference(atAppDepth(bareTryCatch(failingLate)), 'bare try/catch (Error after an await)'),
  inflight: { op: inFlightBatch(gated), expect: 42, title: 'bare 1,000 in flight' },
};
