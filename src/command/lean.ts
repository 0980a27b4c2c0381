/**
 * The lean flow: the common, unwatched call of a simple configuration runs without an {@link Execution} object,
 * its times in locals. Chosen once per resolved config ({@link ExecutionPlan.lean}) and, per call, only while
 * nobody watches the call (no listener, no execution record, no request-log entry, not shed). It covers:
 *
 * - a short-circuited `execute()` or `executeSync()`: SHORT_CIRCUITED, the fallback under its semaphore, its value;
 * - an `executeSync()` that its circuit admits and its semaphore has room for: run, SUCCESS, its value;
 * - an `execute()` with a timeout, likewise: its deadline node, RunContext and Promise are one small {@link LeanRun}.
 *
 * It records exactly what an Execution records on those paths (recordSuccess, leave/left and emitEvent are the
 * Execution's succeeded, deliver and notify steps; a success records its latency once, for run and total). Anything else — a half-open trial, a full bulkhead, run failing or (sync) returning a thenable, a late
 * value, the deadline, a fallback that throws, returns a thenable or cannot run — is handed over where it happens to
 * an Execution that takes over the call's state ({@link Execution.takeOver}) and goes on with the full flow.
 */
import { ADMIT, REFUSE, type Admission } from '../circuit/breakerState.js';
import { getClock } from '../config/store.js';
import { EV } from '../metrics/eventType.js';
import { RequestContext } from '../request/RequestContext.js';
import { shedder } from '../shedding/loadShedding.js';
import type { Clock } from '../time/Clock.js';
import { takeCapture } from './ExecutionRecord.js';
import type { DeadlineList, DeadlineNode, Deadlines } from '../time/Deadlines.js';
import { deadlinesFor } from '../time/deadlinesFor.js';
import {
  emitEvent,
  Execution,
  isThenable,
  leave,
  left,
  MESSAGES,
  MODE_ASYNC,
  MODE_SYNC,
  recordSuccess,
  type ExecutionSpec,
  type PlainRunSpec,
  type RunContext,
  type Sink,
} from './executor.js';
import { hasAnyListener } from './globalEvents.js';
import { isBadRequestError } from '../errors.js';
import type { Semaphore } from '../bulkhead/Semaphore.js';

/**
 * What `run` receives in a lean call: the command key and a signal created on first read. A per-call object (a
 * context shared by calls would be cheaper, but its signal would keep every call's abort listeners). If the call is
 * handed over, its signal is the execution's from then on (aborted by a late value's TIMEOUT, as an Execution's is).
 */
class LeanContext implements RunContext {
  // Set in the constructor, not as class fields: fields with initializers make V8 call a separate initializer
  // function, bytecode that counts against executeLeanSync's inlining budget (see executeLeanSync).
  declare controller: AbortController | null;
  /** The execution that took the call over. */
  declare exec: Execution | null;
  declare readonly commandKey: string;

  constructor(commandKey: string) {
    this.commandKey = commandKey;
    this.controller = null;
    this.exec = null;
  }

  get signal(): AbortSignal {
    if (this.exec !== null) return this.exec.signal;
    return (this.controller ??= new AbortController()).signal;
  }
}

/** Whether this call may start lean: its config's plan allows it and nobody watches the call (see the module doc). */
export function leanCall(spec: ExecutionSpec): boolean {
  const { runtime: rt, config: cfg } = spec;
  return (
    rt.planFor(cfg).lean &&
    takeCapture === null &&
    !hasAnyListener(rt.emitter) &&
    !(cfg.requestLog && RequestContext.current() !== undefined) &&
    !(cfg.sheddable && shedder.state.shed[cfg.priority])
  );
}

/** The execution a short-circuit handed its call over to (read and cleared at once by the caller). */
let handedOver: Execution | null = null;

function takeHandedOver(): Execution | null {
  const exec = handedOver;
  handedOver = null;
  return exec;
}

/** The sink of a sync-mode execution: the result stays in the execution (see readSync). */
export const NO_SINK: Sink = {
  value() {},
  error() {},
};

/** @internal a sync-mode execution's result: the value, or a throw. */
export function readSync(exec: Execution): unknown {
  if (exec.syncFailed) throw exec.syncError;
  return exec.syncValue;
}

/**
 * The start of the lean call last entered, read by {@link shortCircuit} right after {@link enter} refused it, and by
 * {@link leanSync} first thing. V8 inlines neither (they are too big), and a double passed to a call that is not
 * inlined is boxed, a heap number per call; a double kept in a typed array is not.
 */
const entered = new Float64Array(1);

/** Starts a lean sync call: the clock's first read, the key's in-flight count, the circuit's answer ({@link executeLeanAsync} writes it out). */
function enter(spec: ExecutionSpec, now: number): Admission {
  const rt = spec.runtime;
  rt.inFlight++; // in flight until it leaves: an idle key's expiry waits for it (see KeySweep)
  rt.lastUsedAt = now;
  entered[0] = now;
  return rt.breaker.attempt(now);
}

/** An execution of `mode` (async or sync) takes over the call started at `startedAt`, in this request context. */
function takeOver(spec: ExecutionSpec, args: readonly unknown[], mode: number, clock: Clock, startedAt: number): Execution {
  const requestContext = spec.runtime.planFor(spec.config).requestScope ? RequestContext.current() : undefined;
  return Execution.takeOver(spec, args, mode === MODE_SYNC ? NO_SINK : null, mode, clock, startedAt, requestContext);
}

/** … from the circuit's answer on. */
function handOver(spec: ExecutionSpec, args: readonly unknown[], mode: number, clock: Clock, admission: Admission, now: number): Execution {
  const exec = takeOver(spec, args, mode, clock, now);
  exec.afterAdmission(admission, null, now);
  return exec;
}

/**
 * A lean call that {@link enter} just refused (short-circuited), started at `entered[0]`: SHORT_CIRCUITED, then the
 * fallback with the key's shared rejection error (as an Execution's reject and fallback do). Returns the fallback's
 * value, or sets {@link handedOver}.
 */
function shortCircuit(spec: ExecutionSpec, args: readonly unknown[], mode: number, clock: Clock): unknown {
  const startedAt = entered[0]!;
  const { runtime: rt, config: cfg } = spec;
  const permits = cfg.fallbackEnabled && spec.hasFallback ? rt.fallbackSemaphore : null; // one read (a plain field again since 187384f)
  if (permits === null || !permits.tryAcquire()) {
    // no fallback to run (disabled, missing, or no permit: trying took nothing): the full flow fails the call
    handedOver = handOver(spec, args, mode, clock, REFUSE, startedAt);
    return undefined;
  }
  rt.metrics.mark(EV.SHORT_CIRCUITED, startedAt);
  let result: unknown;
  try {
    result = spec.invokeFallback(rt.rejection('SHORT_CIRCUIT', MESSAGES.SHORT_CIRCUIT), args);
  } catch (error) {
    const exec = (handedOver = takeOver(spec, args, mode, clock, startedAt));
    exec.inFallback(EV.SHORT_CIRCUITED, 'SHORT_CIRCUIT');
    exec.fallbackFailed(error);
    return undefined;
  }
  if (isThenable(result)) {
    const exec = (handedOver = takeOver(spec, args, mode, clock, startedAt));
    exec.inFallback(EV.SHORT_CIRCUITED, 'SHORT_CIRCUIT');
    exec.fallbackReturned(result);
    return undefined;
  }
  permits.release();
  const now = clock.now();
  rt.metrics.mark(EV.FALLBACK_SUCCESS, now);
  if (hasAnyListener(rt.emitter)) emitEvent(rt, 'FALLBACK_SUCCESS', now - startedAt, undefined); // one the fallback added
  leave(rt, now - startedAt, now);
  return result;
}

/**
 * An async lean call while `run` runs: its deadline node, its `RunContext` and the settling functions of its
 * caller's Promise. On its deadline, or when run fails, an Execution takes the call over (run's late outcome then
 * goes to it).
 */
export class LeanRun implements DeadlineNode, RunContext {
  deadlineAt = 0;
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlList: DeadlineList | null = null;
  controller: AbortController | null = null;
  exec: Execution | null = null;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  /** The caller's Promise, settled by this call (made by {@link executeLeanAsync}). */
  promise!: Promise<unknown>;

  /** @param deadlines - where its deadline is armed; their clock is the call's. */
  constructor(
    private readonly spec: ExecutionSpec,
    private readonly args: readonly unknown[],
    private readonly deadlines: Deadlines,
    private readonly startedAt: number,
    private readonly requestContext: RequestContext | undefined,
  ) {}

  get commandKey(): string {
    return this.spec.config.key;
  }

  get signal(): AbortSignal {
    if (this.exec !== null) return this.exec.signal;
    return (this.controller ??= new AbortController()).signal;
  }

  /**
   * The executor of the call's Promise, bound to this run (as are the handlers run's Promise gets, {@link
   * LeanRun.value} and {@link LeanRun.error}): it keeps the resolving functions in the call's own, just-made object.
   * The executor's module-level `capture` stores them into two module variables (long-lived objects), a write barrier
   * with a remembered-set entry each, and the call then copies them out; a fresh closure would store them here too
   * but runs V8's lazy-compile stub at its first call, every call (docs/benchmarks.md change 18). A method, not a
   * module function: V8 knows which function `run.settles` is, so it inlines the executor into the caller (it cannot
   * for a module-level function, whose binding may change) and the bound function it was given is never made.
   */
  settles(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
    this.resolve = resolve;
    this.reject = reject;
  }

  /** run gave its value in time: as an Execution's runValue and succeeded, on the semaphore. */
  value(value: unknown): void {
    if (this.exec !== null) return this.exec.runValue(value);
    const { runtime: rt } = this.spec;
    const deadlines = this.deadlines;
    const now = deadlines.clock.now();
    if (this.dlList !== null) deadlines.remove(this);
    rt.metrics.endRun();
    rt.semaphore.release();
    const runMs = now - this.startedAt;
    recordSuccess(rt, runMs, now, false);
    if (hasAnyListener(rt.emitter)) emitEvent(rt, 'SUCCESS', runMs, undefined); // one that run added
    left(rt, now);
    this.resolve(value);
  }

  /** run returned `result`: its value now, or its thenable's outcome when it settles (as {@link executeLeanAsync}'s own run call). */
  follow(result: unknown): void {
    if (isThenable(result)) result.then(this.value.bind(this), this.error.bind(this));
    else this.value(result);
  }

  /**
   * run failed: FAILURE, then the fallback under its semaphore and its value, recorded as an Execution's runError,
   * attemptFailed, fallback and fallbackValue record them (see {@link LeanRun.failed}). The full flow takes over for
   * anything else: a bad request, an `ignoreExceptions` predicate to ask, no fallback to run (disabled, missing, or
   * no permit: trying took nothing).
   */
  error(error: unknown): void {
    if (this.exec !== null) return this.exec.runError(error);
    if (this.dlList !== null) this.deadlines.remove(this); // as the execution's, removed before its fallback
    const { runtime: rt, config: cfg } = this.spec;
    const permits = cfg.fallbackEnabled && this.spec.hasFallback && cfg.ignoreExceptions === null && !isBadRequestError(error) ? rt.fallbackSemaphore : null;
    if (permits === null || !permits.tryAcquire()) return this.handOver().runError(error);
    this.failed(error, permits);
  }

  /**
   * {@link LeanRun.error} holding a fallback permit: run's end, FAILURE, the fallback and its value, in the order an
   * Execution records them. A fallback that throws or returns a thenable is handed over to an Execution in its
   * fallback, as {@link shortCircuit} hands over its own.
   */
  private failed(error: unknown, permits: Semaphore): void {
    const rt = this.spec.runtime;
    const clock = this.deadlines.clock;
    const startedAt = this.startedAt;
    const now = clock.now();
    rt.metrics.endRun();
    rt.semaphore.release();
    const runMs = now - startedAt;
    rt.metrics.recordExecute(runMs, now);
    rt.metrics.mark(EV.FAILURE, now);
    rt.breaker.onFailure(runMs, now, false);
    if (hasAnyListener(rt.emitter)) emitEvent(rt, 'FAILURE', runMs, error); // one that run added
    let result: unknown;
    try {
      result = this.spec.invokeFallback(error, this.args);
    } catch (fallbackError) {
      this.fallbackHandedOver(error).fallbackFailed(fallbackError);
      return;
    }
    if (isThenable(result)) {
      this.fallbackHandedOver(error).fallbackReturned(result);
      return;
    }
    permits.release();
    const end = clock.now();
    rt.metrics.mark(EV.FALLBACK_SUCCESS, end);
    if (hasAnyListener(rt.emitter)) emitEvent(rt, 'FALLBACK_SUCCESS', end - startedAt, undefined); // one the fallback added
    leave(rt, end - startedAt, end);
    this.resolve(result);
  }

  /** An Execution takes the call over in its fallback, run's FAILURE (`error`) recorded and its permits given back. */
  private fallbackHandedOver(error: unknown): Execution {
    const exec = this.handOver();
    exec.inRun(this.startedAt, true, this.controller);
    exec.inFallback(EV.FAILURE, 'COMMAND_EXCEPTION', error);
    return exec;
  }

  /** The deadline passed first: the full flow's timeout (run's late outcome then goes to the execution). */
  onDeadline(): void {
    this.handOver().onDeadline();
  }

  private handOver(): Execution {
    const exec = Execution.takeOver(this.spec, this.args, null, MODE_ASYNC, this.deadlines.clock, this.startedAt, this.requestContext);
    exec.inRun(this.startedAt, false, this.controller);
    exec.settles(this.resolve, this.reject);
    return (this.exec = exec);
  }
}

/**
 * @internal `execute()` of a lean call: whose circuit may refuse it (see {@link CircuitBreaker.mayRefuse}), or with a
 * timeout (the caller's Promise is settleable by the deadline).
 *
 * Keep it above 460 bytecodes (496 in the CommonJS build, 493 in the bench's ESM bundle; test/command/
 * inliningLimit.process.test.ts checks it), V8's limit for inlining a function: as its own optimised function it
 * inlines every callee of its success path, where inlined into `execute()` (which it is, below that size, in some
 * processes) the two of them ask ~1,400 bytecodes of V8's ~920 and what is left out differs between processes
 * (up to ~450 instructions more per call; docs/benchmarks.md change 23). So its rare paths stay in it, and its start
 * is written out rather than calling {@link enter}.
 *
 * The clock's first read, the circuit, the semaphore, then the call's {@link LeanRun} with its deadline armed, run
 * counted as started and the caller's Promise made ({@link LeanRun.promise}); then run:
 * - `callsRun` true: called here, and the caller's Promise is returned;
 * - `callsRun` false: the LeanRun is returned, and its caller calls run itself, then {@link LeanRun.follow} (or
 *   {@link LeanRun.error} when run throws). `FunctionalCommand.execute` does, so that between run and the user's
 *   caller there is one breakwater frame, not two: a fresh `Error` made in run captures its stack, and V8 decodes
 *   every frame it walks, inlined ones too (docs/benchmarks.md, change 24). Both uses are one function so that it
 *   stays above the inlining limit: the start alone (~300 bytecodes) was inlined into the caller, whose budget
 *   then left the start's own callees as calls.
 *
 * A call that ends (short-circuited) or is handed over to the full flow before run returns the caller's Promise
 * either way.
 */
export function executeLeanAsync(spec: ExecutionSpec, args: readonly unknown[], callsRun: true): Promise<unknown>;
export function executeLeanAsync(spec: ExecutionSpec, args: readonly unknown[], callsRun: false): LeanRun | Promise<unknown>;
export function executeLeanAsync(spec: ExecutionSpec, args: readonly unknown[], callsRun: boolean): LeanRun | Promise<unknown> {
  const { runtime: rt, config: cfg } = spec;
  const clock = getClock();
  const startedAt = clock.now();
  // enter() written out (see above): only a short circuit reads entered[0] here
  rt.inFlight++; // in flight until it leaves: an idle key's expiry waits for it (see KeySweep)
  rt.lastUsedAt = startedAt;
  const admission = rt.breaker.attempt(startedAt);
  if (admission === REFUSE) {
    entered[0] = startedAt;
    const value = shortCircuit(spec, args, MODE_ASYNC, clock);
    const exec = takeHandedOver();
    return exec === null ? Promise.resolve(value) : exec.promise();
  }
  const timeout = cfg.timeout;
  // a trial, no timeout (the full flow's direct path), or a full semaphore (trying took nothing): the full flow
  if (admission !== ADMIT || timeout === false || !rt.semaphore.tryAcquire()) return handOver(spec, args, MODE_ASYNC, clock, admission, startedAt).promise();
  const deadlines = deadlinesFor(clock);
  const run = new LeanRun(spec, args, deadlines, startedAt, RequestContext.current()); // a timeout's fallback runs in it
  const promise = (run.promise = new Promise<unknown>(run.settles.bind(run))); // see settles
  deadlines.add(run, startedAt, timeout);
  rt.metrics.startRun(startedAt);
  if (!callsRun) return run;
  let result: unknown;
  try {
    // no invoke frame for a call without arguments (see PlainRunSpec)
    result = args.length === 0 && spec.plainRun ? (spec as PlainRunSpec).run(run) : spec.invoke(args, run);
  } catch (error) {
    run.error(error);
    return promise;
  }
  // the handlers are run's own methods, bound (as its settles): no closures and context to allocate, and no lazy
  // compile of a fresh closure at its first (here: only) call. (LeanRun.follow written out: bytecode that keeps
  // this function above the inlining limit.)
  if (isThenable(result)) result.then(run.value.bind(run), run.error.bind(run));
  else run.value(result);
  return promise;
}

/**
 * @internal `executeSync()` of a lean call. Its start is here: the first clock read, the circuit's answer and, for a
 * call admitted with a free permit, its run counted as started; this is small, so V8 inlines it into the caller.
 * {@link leanSync} does the rest as an optimised function of its own (too big to be inlined anywhere: 485 bytecodes
 * in the CommonJS build, over V8's limit of 460, which test/command/inliningLimit.process.test.ts checks; keep its
 * rare paths in it), and V8 inlines at most ~920 bytecodes of callees into one optimised function. With the start here,
 * what a success calls after run (the second clock read, the counters, the histogram, the breaker's rule and
 * health) fits in leanSync's; before, ~1,300 bytecodes competed for it, and which callees stayed calls (their
 * doubles boxed) depended on call counts that differ by noise between processes (V8 11 orders by them).
 */
export function executeLeanSync(spec: ExecutionSpec, args: readonly unknown[]): unknown {
  const rt = spec.runtime;
  const clock = getClock();
  const admission = enter(spec, clock.now());
  const running = admission === ADMIT && rt.semaphore.tryAcquire(); // (a full semaphore: trying took nothing)
  if (running) rt.metrics.startRun(entered[0]!);
  return leanSync(spec, args, clock, admission, running);
}

/**
 * {@link executeLeanSync} once {@link enter} gave the circuit's answer to the call started at `entered[0]`;
 * `running`: admitted, a permit taken and the run counted, so run starts now.
 */
function leanSync(spec: ExecutionSpec, args: readonly unknown[], clock: Clock, admission: Admission, running: boolean): unknown {
  const { runtime: rt, config: cfg } = spec;
  const startedAt = entered[0]!;
  if (!running) {
    if (admission === REFUSE) {
      const value = shortCircuit(spec, args, MODE_SYNC, clock);
      const exec = takeHandedOver();
      return exec === null ? value : readSync(exec);
    }
    // a trial, or a full semaphore: the full flow
    return readSync(handOver(spec, args, MODE_SYNC, clock, admission, startedAt));
  }
  const context = new LeanContext(cfg.key);
  let result: unknown;
  try {
    // no invoke frame for a call without arguments (see PlainRunSpec); also bytecode that keeps this function above
    // the inlining limit in the CommonJS build users run (test/command/inliningLimit.process.test.ts checks it)
    result = args.length === 0 && spec.plainRun ? (spec as PlainRunSpec).run(context) : spec.invoke(args, context);
  } catch (error) {
    const exec = runHandedOver(spec, args, clock, startedAt, false, context);
    exec.runError(error);
    return readSync(exec);
  }
  if (isThenable(result)) {
    const exec = runHandedOver(spec, args, clock, startedAt, false, context);
    exec.refuseThenable(result, startedAt);
    return readSync(exec);
  }
  const now = clock.now();
  rt.metrics.endRun();
  rt.semaphore.release();
  const runMs = now - startedAt;
  const timeout = cfg.timeout;
  if (timeout !== false && runMs >= timeout) {
    // late: a synchronous run cannot be interrupted; the full flow discards its value as a TIMEOUT
    const exec = runHandedOver(spec, args, clock, startedAt, true, context);
    exec.succeeded(result, startedAt, now);
    return readSync(exec);
  }
  recordSuccess(rt, runMs, now, false);
  if (hasAnyListener(rt.emitter)) emitEvent(rt, 'SUCCESS', runMs, undefined); // one that run added
  left(rt, now);
  return result;
}

/** A sync execution takes over a lean call whose run started at `startedAt` (see {@link Execution.inRun}). */
function runHandedOver(spec: ExecutionSpec, args: readonly unknown[], clock: Clock, startedAt: number, settled: boolean, context: LeanContext): Execution {
  const exec = takeOver(spec, args, MODE_SYNC, clock, startedAt);
  exec.inRun(startedAt, settled, context.controller);
  context.exec = exec;
  return exec;
}
