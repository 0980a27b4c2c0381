import { AsyncResource } from 'node:async_hooks';
import type { Observable, Subscription } from 'rxjs';
import { QUEUED, REJECTED, type Bulkhead, type Waiter } from '../bulkhead/Bulkhead.js';
import { poolFor } from '../bulkhead/registry.js';
import { ADMIT, ADMIT_TRIAL, REFUSE, type Admission } from '../circuit/breakerState.js';
import type { CommandConfig } from '../config/options.js';
import { getClock } from '../config/store.js';
import { CancelledError, CommandError, isBadRequestError, TimeoutError, unwrapForCaller, type FailureType } from '../errors.js';
import { limiterFor } from '../limiter/registry.js';
import type { Limiter } from '../limiter/Limiter.js';
import type { TokenWait } from '../limiter/TokenBucket.js';
import { shedder } from '../shedding/loadShedding.js';
import { EV, EVENT_TYPES, type EventType } from '../metrics/eventType.js';
import { AttemptContext } from '../policy/AttemptContext.js';
import { HedgeRun, type HedgeHost } from '../policy/HedgeRun.js';
import { RetryRun, type RetryHost } from '../policy/RetryRun.js';
import { LogEntry, RequestContext } from '../request/RequestContext.js';
import type { Clock } from '../time/Clock.js';
import { deadlinesFor } from '../time/deadlinesFor.js';
import type { DeadlineList, DeadlineNode } from '../time/Deadlines.js';
import type { CommandRuntime } from './CommandRuntime.js';
import { takeCapture } from './ExecutionRecord.js';
import { LISTENER_NAMES } from './events.js';
import { emitBoth, hasAnyListener, hasListeners } from './globalEvents.js';

/**
 * What `run` receives: the execution's `AbortSignal` (aborted at the deadline or when the caller unsubscribes)
 * and the command key.
 */
export interface RunContext {
  /** Aborted when the execution times out (reason: a `TimeoutError`) or is cancelled. Created on first read. */
  readonly signal: AbortSignal;
  /** The command key of the running execution. */
  readonly commandKey: string;
}

/**
 * @internal how a mode adapter plugs user code into the executor.
 */
export interface ExecutionSpec {
  readonly runtime: CommandRuntime;
  readonly config: CommandConfig;
  /**
   * Calls the user's run/construct with the caller's `args` and `context` (the execution itself, an extra attempt's
   * own context under `retry`/`hedge`, or a lean call's, see lean.ts). Returns a value, a thenable, or (multi-value)
   * an Observable.
   */
  invoke(args: readonly unknown[], context: RunContext): unknown;
  /**
   * Set when `invoke(args, context)` is `this.run(...args, context)` with the user's function as the spec's own
   * `run` (a `command()` handle, see {@link PlainRunSpec}): a call without arguments then calls `run` itself where
   * run is called, without an `invoke` frame between.
   */
  readonly plainRun: boolean;
  /** Whether a fallback exists. */
  readonly hasFallback: boolean;
  /** Calls the user's fallback with the error and the caller's `args`. */
  invokeFallback(error: unknown, args: readonly unknown[]): unknown;
}

/**
 * @internal a spec whose {@link ExecutionSpec.plainRun} is set. Where run is called, a call without arguments calls
 * `spec.run(context)` itself, written out there rather than through a helper: every frame on the stack while run runs
 * is walked, and its inlined functions decoded, when run makes a fresh `Error` (docs/benchmarks.md, change 18).
 */
export interface PlainRunSpec extends ExecutionSpec {
  readonly run: (...argsThenContext: unknown[]) => unknown;
}

/** @internal how the result reaches the mode adapter. */
export interface Sink {
  value(value: unknown): void;
  error(error: unknown): void;
  /** Multi-value only: one emitted value (from run or from the fallback). */
  emit?(value: unknown): void;
}

const PENDING = 0;
const QUEUED_PHASE = 1;
const RUNNING = 2;
const IN_FALLBACK = 3;
const DONE = 4;
/** waiting for a rate-limiter token (`rateLimit.maxWait`). */
const TOKEN_WAIT = 5;
/** waiting out a retry's backoff (`retry`). */
const BACKOFF = 6;

/** Synchronous mode: the run must not return a thenable. */
export const MODE_ASYNC = 0;
/** @see MODE_ASYNC */
export const MODE_SYNC = 1;
/** @see MODE_ASYNC */
export const MODE_MULTI = 2;

/** @internal the message of each failure type (`<key> <message> and …`). */
export const MESSAGES: Record<FailureType, string> = {
  COMMAND_EXCEPTION: 'failed',
  TIMEOUT: 'timed-out',
  SHORT_CIRCUIT: 'short-circuited',
  REJECTED_THREAD_EXECUTION: 'could not be queued for execution',
  REJECTED_SEMAPHORE_EXECUTION: 'could not acquire a semaphore for execution',
  REJECTED_SEMAPHORE_FALLBACK: 'fallback execution rejected',
  BAD_REQUEST_EXCEPTION: 'was called with a bad request',
  RATE_LIMITED: 'was rate-limited',
  LOAD_SHED: 'was shed: the event loop is overloaded',
};

/** Events that refuse a call before `run` (their error is the shared rejection). */
const REJECTION_BITS = (1 << EV.SHORT_CIRCUITED) | (1 << EV.SEMAPHORE_REJECTED) | (1 << EV.THREAD_POOL_REJECTED) | (1 << EV.RATE_LIMITED);

// The resolving functions of the Promise being created: one module-level executor, no closure per call. (The lean
// flow binds its own executor to its call's object instead: see `settles` in lean.ts.)
let resolveNext: (value: unknown) => void = () => undefined;
let rejectNext: (error: unknown) => void = () => undefined;
function capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  resolveNext = resolve;
  rejectNext = reject;
}

/** @internal */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The state an execution needs only now and then — an AbortSignal read, a cancel or a timeout, a multi-value
 * subscription, a wait for a token or a queue slot — kept out of {@link Execution} so the common call allocates a
 * smaller object. Created on first need.
 */
class Extras {
  controller: AbortController | null = null;
  abortReason: unknown = undefined;
  subscription: Subscription | null = null;
  /** values emitted by `run` (multi-value), for the timeout and the request log's `EMITxN`. */
  emitted = 0;
  /** values emitted by the fallback, for the request log's `FALLBACK_EMITxN`. */
  fallbackEmitted = 0;
  /** the place in a rate limiter's queue while waiting for a token. */
  tokenWait: TokenWait | null = null;
  /** the caller's async context, kept while waiting so `run` starts in it, not in a releaser's. */
  scope: AsyncResource | null = null;
  /** `retry`: the attempts so far and the backoff's timer node (from the first failure on). */
  retry: RetryRun | null = null;
  /** `hedge`: the hedge timer and the extra attempts in flight. */
  hedge: HedgeRun | null = null;
  /** the context of the current retry attempt (the first attempt's is the execution itself). */
  attempt: AttemptContext | null = null;
}

/**
 * One execution of a command: the whole flow of DESIGN §1 in one place. Every mode (promise, sync, observable,
 * multi-value observable) is a thin adapter that creates one of these with a {@link Sink} and calls `start()`.
 *
 * The object is also its own deadline node, pool-queue node and `RunContext`, so a call allocates one object
 * here, plus an `AbortController` only if `run` reads `signal`.
 */
export class Execution implements DeadlineNode, Waiter, RunContext, RetryHost, HedgeHost {
  // DeadlineNode / Waiter links (owned by Deadlines / the pool).
  deadlineAt = 0;
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlList: DeadlineList | null = null;
  qNext: Waiter | null = null;

  private phase = PENDING;
  private clock!: Clock;
  private startedAt = 0;
  private runStartedAt = -1;
  /**
   * The start's time was not read (the plan's `untimedStart`, nobody watching the call): `startedAt` and
   * `runStartedAt` hold a stand-in until the call's first record reads the clock ({@link Execution.stamp}) and takes
   * that time as its start, so the call measures no latency.
   */
  private untimed = false;
  /** An untimed call of a plan's `clockless` stage: its success reads no clock (see runValue). */
  private clockless = false;
  /** The run's concurrency was counted without a time: it feeds the rolling maximum when the run ends. */
  private unstampedRun = false;
  /** Time in `run` (Hystrix's execution time), set when the run's outcome is known; -1 until then or if it never ran. */
  private runMs = -1;
  private runSettled = true;
  private trial = false;
  private bulkhead: Bulkhead | null = null;
  private x: Extras | null = null;
  private fallbackHeld = false;
  private failureType: FailureType = 'COMMAND_EXCEPTION';
  private cause: unknown = undefined;
  private log: LogEntry | null = null;
  /** The caller's request context: a timeout (fired by the shared timer) handles its fallback inside it. */
  private requestContext: RequestContext | undefined = undefined;
  /** Bit per event type recorded by this execution (for the request log). */
  private eventBits = 0;
  /** @internal the value delivered in sync mode, or during `start()` in async mode (before a Promise was attached). */
  syncValue: unknown = undefined;
  /** @internal the error delivered in sync mode, or during `start()` in async mode (before a Promise was attached). */
  syncError: unknown = undefined;
  /** @internal whether that result is an error. */
  syncFailed = false;
  /** The resolving functions of an async execution's Promise (no Sink object is built for it). */
  private resolveFn: ((value: unknown) => void) | null = null;
  private rejectFn: ((error: unknown) => void) | null = null;
  /**
   * The plan's `direct` stage for this call (an `execute()` of a command without timeout or hedge): the first
   * attempt's `run(…).then(…)` is the caller's Promise ({@link Execution.followed}), not a separately settled one.
   */
  private direct = false;
  private followed: Promise<unknown> | null = null;

  constructor(
    private readonly spec: ExecutionSpec,
    /** The caller's arguments. */
    readonly args: readonly unknown[],
    /**
     * Where the result goes. `null` (async mode) keeps a result delivered during `start()` in `syncValue` /
     * `syncError`, so the adapter can return an already-settled Promise, and otherwise takes the caller's Promise
     * from {@link Execution.promise} (run's own under the direct stage, else a pending one created then).
     */
    private sink: Sink | null,
    private readonly mode: number,
  ) {}

  /** The command key of this execution. */
  get commandKey(): string {
    return this.spec.config.key;
  }

  /** The rarely used state, created on first need. */
  private get extras(): Extras {
    return (this.x ??= new Extras());
  }

  /**
   * @internal the Promise of a started async-mode execution (started without a sink): already settled when it
   * finished during `start()` (an open circuit, a rejection, a synchronous run, each with its fallback), run's own
   * `then` under the plan's direct stage, else a pending one that the execution settles when it delivers.
   */
  promise(): Promise<unknown> {
    if (this.phase === DONE) return this.syncFailed ? Promise.reject(this.syncError) : Promise.resolve(this.syncValue);
    return this.followed ?? this.pending();
  }

  /** A new Promise that the execution settles when it delivers (its resolving functions kept, no Sink built). */
  private pending(): Promise<unknown> {
    const promise = new Promise<unknown>(capture);
    this.resolveFn = resolveNext;
    this.rejectFn = rejectNext;
    return promise;
  }

  /**
   * direct: what the caller's Promise (run's `then`) settles with once run's outcome was handled: the delivered value
   * or error, or, while the execution still goes on (an async fallback, a retry's backoff), a pending Promise.
   */
  private outcome(): unknown {
    if (this.phase !== DONE) return this.pending();
    if (this.syncFailed) throw this.syncError;
    return this.syncValue;
  }

  /** The execution's AbortSignal, created on first read. */
  get signal(): AbortSignal {
    const x = this.extras;
    if (x.controller === null) {
      x.controller = new AbortController();
      // Read for the first time after a timeout or cancel (e.g. after an await in run): already aborted.
      if (x.abortReason !== undefined) x.controller.abort(x.abortReason);
    }
    return x.controller.signal;
  }

  /** True once a result (or error) was delivered, or the execution was cancelled. */
  get done(): boolean {
    return this.phase === DONE;
  }

  /**
   * @internal a lean call (see lean.ts: started without an Execution, nobody watching it) needs the full flow from
   * here on: an execution takes over its state so far. It started at `startedAt` (the key's in-flight count and last
   * use already set) in the caller's `requestContext` (looked up when the config has request scope), reads `clock`,
   * and has no request-log entry or record (a lean call has neither).
   */
  static takeOver(
    spec: ExecutionSpec,
    args: readonly unknown[],
    sink: Sink | null,
    mode: number,
    clock: Clock,
    startedAt: number,
    requestContext: RequestContext | undefined,
  ): Execution {
    const exec = new Execution(spec, args, sink, mode);
    exec.clock = clock;
    exec.direct = spec.runtime.planFor(spec.config).direct && sink === null && mode === MODE_ASYNC;
    exec.requestContext = requestContext;
    exec.startedAt = startedAt;
    return exec;
  }

  /** @internal takeOver: the caller already holds the Promise these settle (a lean async call's). */
  settles(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
    this.resolveFn = resolve;
    this.rejectFn = reject;
  }

  /**
   * @internal takeOver: `event` (a rejection, or run's FAILURE with its error `cause`) was recorded and the
   * fallback's permit is held while it runs.
   */
  inFallback(event: number, failureType: FailureType, cause?: unknown): void {
    this.phase = IN_FALLBACK;
    this.failureType = failureType;
    this.cause = cause;
    this.eventBits = 1 << event;
    this.fallbackHeld = true;
  }

  /**
   * @internal takeOver: `run` started at `runStartedAt` on the key's semaphore (its permit and concurrency count
   * already given back when `settled`); `controller` is the lean context's AbortController if `run` read its signal.
   */
  inRun(runStartedAt: number, settled: boolean, controller: AbortController | null): void {
    this.phase = RUNNING;
    this.runStartedAt = runStartedAt;
    this.runSettled = settled;
    this.bulkhead = settled ? null : this.spec.runtime.semaphore;
    if (controller !== null) this.extras.controller = controller;
  }

  /** Starts the flow: circuit → limiter → bulkhead → run. */
  start(): void {
    const captured = takeCapture !== null;
    if (captured) takeCapture!(this); // captureExecution() or a class command wants this execution's record
    const clock = (this.clock = getClock());
    const { runtime: rt, config: cfg } = this.spec;
    // looked up first: naming an undeclared shared limiter throws before anything (log, trial) is taken
    const bucket = cfg.rateLimit === false ? null : limiterFor(cfg.key, cfg.rateLimit);
    const plan = rt.planFor(cfg);
    this.direct = plan.direct && this.sink === null && this.mode === MODE_ASYNC;
    if (plan.requestScope) {
      const ctx = (this.requestContext = RequestContext.current());
      if (ctx !== undefined && cfg.requestLog) {
        this.log = new LogEntry(cfg.key);
        ctx.record(this.log); // capped as Hystrix's request log
      }
    }
    // the start's time, unless nothing needs it (see ExecutionPlan.untimedStart): then the key's last time stands in
    // where an argument is due, and the first record reads the clock (see stamp)
    const untimed = plan.untimedStart && !captured && this.log === null && !rt.breaker.sleeping && !hasAnyListener(rt.emitter);
    const now = untimed ? rt.lastUsedAt : clock.now();
    this.startedAt = now;
    this.untimed = untimed;
    this.clockless = untimed && plan.clockless;
    // in flight until deliver/fail/cancel: an idle key's expiry waits for it (see KeySweep)
    rt.inFlight++;
    rt.lastUsedAt = now;
    // 1b: load shedding (before the circuit: a shed call must not become a half-open trial)
    if (cfg.sheddable && shedder.state.shed[cfg.priority]) return this.reject(EV.LOAD_SHED, 'LOAD_SHED', now);
    // 2: circuit. The steps from here are afterAdmission's (where a lean call hands over), and the success and
    // deliver bookkeeping is recordSuccess's and leave's, kept inline in the full flow: with them behind those calls
    // the full flow measured 5–10 % slower on the untimed like-for-like rows (Node 20, two A/B repetitions).
    const admission = rt.breaker.attempt(now);
    if (admission === REFUSE) return this.reject(EV.SHORT_CIRCUITED, 'SHORT_CIRCUIT', now);
    this.trial = admission === ADMIT_TRIAL;
    if (cfg.hedge !== false && this.mode === MODE_ASYNC) this.extras.hedge = new HedgeRun(this, cfg.hedge, rt.hedgeDelay!, rt.metrics, clock, cfg.key);
    // 3: rate limiter (with rateLimit.maxWait an async call may wait for its token: see waitForToken)
    if (bucket !== null && cfg.rateLimit !== false) {
      if (!bucket.tryTake(1, now)) {
        if (!this.waitForToken(bucket, cfg.rateLimit.maxWait ?? 0, now)) this.reject(EV.RATE_LIMITED, 'RATE_LIMITED', now);
        return;
      }
    }
    if (this.enterBulkhead(now)) this.begin(now);
  }

  /**
   * @internal the rest of the flow once the circuit answered (also where a lean call hands over, see lean.ts):
   * short-circuit, or on to the rate limiter and the bulkhead.
   */
  afterAdmission(admission: Admission, bucket: Limiter | null, now: number): void {
    if (admission === REFUSE) return this.reject(EV.SHORT_CIRCUITED, 'SHORT_CIRCUIT', now);
    this.trial = admission === ADMIT_TRIAL;
    const { runtime: rt, config: cfg } = this.spec;
    if (cfg.hedge !== false && this.mode === MODE_ASYNC) this.extras.hedge = new HedgeRun(this, cfg.hedge, rt.hedgeDelay!, rt.metrics, this.clock, cfg.key);
    // 3: rate limiter (with rateLimit.maxWait an async call may wait for its token: see waitForToken)
    if (bucket !== null && cfg.rateLimit !== false) {
      if (!bucket.tryTake(1, now)) {
        if (!this.waitForToken(bucket, cfg.rateLimit.maxWait ?? 0, now)) this.reject(EV.RATE_LIMITED, 'RATE_LIMITED', now);
        return;
      }
    }
    if (this.enterBulkhead(now)) this.begin(now);
  }

  /**
   * Queues for a token when `maxWait` > 0 and the token is due within both maxWait and the timeout (time
   * waiting counts against the timeout, as time in a pool queue does). Sync mode never waits.
   */
  private waitForToken(bucket: Limiter, maxWait: number, now: number): boolean {
    const timeout = this.spec.config.timeout;
    // a store-backed limiter without a leased token asks its store, even with maxWait 0 (bounded by its deadline)
    if ((maxWait <= 0 && !bucket.remote) || this.mode === MODE_SYNC) return false;
    // The token must be due at least 1 ms before the deadline (timers fire in whole ms): one due at the deadline
    // would only make the caller wait the whole timeout for a RATE_LIMITED.
    const bound = timeout === false ? maxWait : Math.min(maxWait, timeout - 1);
    const x = this.extras;
    x.tokenWait = bucket.wait(1, bound, now, (granted) => this.tokenSettled(granted));
    if (x.tokenWait === null) return false;
    this.phase = TOKEN_WAIT;
    x.scope = new AsyncResource('breakwater.token');
    if (timeout !== false) deadlinesFor(this.clock).add(this, now, timeout);
    return true;
  }

  /** The limiter granted the token (go on to the bulkhead) or gave up (RATE_LIMITED). */
  private tokenSettled(granted: boolean): void {
    const x = this.extras;
    x.tokenWait = null;
    if (this.phase !== TOKEN_WAIT) return;
    const now = this.clock.now();
    if (!granted || (this.dlList !== null && now >= this.deadlineAt)) {
      if (this.dlList !== null) deadlinesFor(this.clock).remove(this);
      this.reject(EV.RATE_LIMITED, 'RATE_LIMITED', now);
      return;
    }
    x.scope!.runInAsyncScope(this.bulkheadThenBegin, this, now);
  }

  /** The bulkhead, then run if admitted now (a call that waited for its token, or a retry's next attempt). */
  private bulkheadThenBegin(now: number): void {
    if (this.enterBulkhead(now)) this.begin(now);
  }

  /**
   * 4: bulkhead (the deadline is armed first: time queued counts against the timeout, as in Hystrix). Returns whether
   * run may begin now; the caller calls {@link Execution.begin} itself, so this frame is not on the stack while run
   * runs (see {@link PlainRunSpec}).
   */
  private enterBulkhead(now: number): boolean {
    const cfg = this.spec.config;
    const clock = this.clock;
    const bulkhead = this.bulkheadFor();
    if (cfg.timeout !== false && this.mode !== MODE_SYNC && this.dlList === null) deadlinesFor(clock).add(this, now, cfg.timeout);
    // a synchronous caller cannot wait in a queue: the pool admits or rejects it (and counts the rejection)
    const admitted = bulkhead.admit(this.mode === MODE_SYNC ? null : this, now);
    if (admitted === REJECTED) {
      if (this.dlList !== null) deadlinesFor(clock).remove(this);
      if (bulkhead.kind === 'semaphore') this.reject(EV.SEMAPHORE_REJECTED, 'REJECTED_SEMAPHORE_EXECUTION', now);
      else this.reject(EV.THREAD_POOL_REJECTED, 'REJECTED_THREAD_EXECUTION', now);
      return false;
    }
    this.bulkhead = bulkhead;
    if (admitted === QUEUED) {
      this.phase = QUEUED_PHASE;
      this.extras.scope ??= new AsyncResource('breakwater.queued');
      return false;
    }
    return true;
  }

  /** The key's semaphore, its adaptive limit, or its pool. */
  bulkheadFor(): Bulkhead {
    const { runtime: rt, config: cfg } = this.spec;
    return cfg.isolation === 'semaphore' ? rt.semaphore : cfg.isolation === 'adaptive' ? rt.adaptiveFor(cfg) : poolFor(cfg.poolKey, cfg.poolOptions);
  }

  /** Called by a pool when a queued execution gets its slot. */
  admitted(): void {
    if (this.phase !== QUEUED_PHASE) {
      // Not waiting any more (cannot happen: a timed-out or cancelled waiter leaves the queue); give the slot back.
      this.bulkhead?.release(this.clock.now());
      return;
    }
    // a pool admits a queued call from another call's release: start run in its own caller's context
    this.extras.scope!.runInAsyncScope(this.begin, this, this.clock.now());
  }

  /** Unsubscribe before a result: CANCELLED, signal aborted, nothing delivered. */
  cancel(): void {
    const phase = this.phase;
    if (phase === DONE || phase === PENDING) return;
    const now = this.clock.now();
    if (this.untimed) this.startedAt = this.runStartedAt = now; // no latency measured (see untimed)
    this.phase = DONE;
    this.finished(now);
    if (this.dlList !== null) deadlinesFor(this.clock).remove(this);
    if (phase === QUEUED_PHASE) this.bulkhead?.dequeue(this);
    if (phase === RUNNING) this.runMs = now - this.runStartedAt; // Hystrix keeps the latency so far
    const x = this.extras;
    if (x.tokenWait !== null) x.tokenWait.cancel(); // leave the limiter's queue
    this.mark(EV.CANCELLED, now);
    x.abortReason = new CancelledError(this.commandKey);
    if (x.controller !== null && !x.controller.signal.aborted) x.controller.abort(x.abortReason);
    this.stopAttempts(x.abortReason);
    if (x.subscription !== null) {
      const s = x.subscription;
      x.subscription = null;
      s.unsubscribe();
      this.settleRun(now);
    }
    // An abandoned fallback gives its permit back now, not when (or if) it settles.
    this.releaseFallback();
    // Hystrix re-opens a half-open circuit whose trial was unsubscribed (its PR #1621), so it cannot stay stuck.
    if (this.trial) this.spec.runtime.breaker.trialFailed(now);
    this.finishLog(now);
    this.notify('CANCELLED', now, undefined);
  }

  private begin(now: number): void {
    this.phase = RUNNING;
    this.runStartedAt = now;
    this.runSettled = false;
    const rt = this.spec.runtime;
    if (this.untimed) {
      this.unstampedRun = true;
      rt.metrics.startRunUnstamped();
    } else rt.metrics.startRun(now);
    const x = this.x;
    // attempt: retry/hedge state is on Extras only for commands that use them (see src/policy/)
    if (rt.budget !== null && (x === null || x.retry === null)) rt.budget.deposit(now);
    if (x !== null && x.hedge !== null) x.hedge.arm(now);
    const spec = this.spec;
    const args = this.args;
    const context = x === null ? this : (x.attempt ?? this);
    let result: unknown;
    try {
      // no invoke frame for a call without arguments (see PlainRunSpec)
      result = args.length === 0 && spec.plainRun ? (spec as PlainRunSpec).run(context) : spec.invoke(args, context);
    } catch (error) {
      this.runError(error);
      return;
    }
    if (this.mode === MODE_MULTI) {
      this.subscribeRun(result as Observable<unknown>);
    } else if (isThenable(result)) {
      if (this.mode === MODE_SYNC) return this.refuseThenable(result, now);
      if (this.direct && this.resolveFn === null && result instanceof Promise) {
        // direct: nothing can settle the caller's Promise before run's does, so it is run's own `then` (a native
        // Promise's: another thenable's `then` may return anything)
        this.direct = false;
        this.followed = result.then(
          (value) => {
            this.runValue(value);
            return this.outcome();
          },
          (error) => {
            this.runError(error);
            return this.outcome();
          },
        );
        return;
      }
      result.then(
        (value) => this.runValue(value),
        (error) => this.runError(error),
      );
    } else {
      this.runValue(result);
    }
  }

  /**
   * @internal misuse: `run` returned a thenable under executeSync. Let the work settle (holding the permit), refuse
   * the call (BAD_REQUEST).
   */
  refuseThenable(result: PromiseLike<unknown>, now: number): void {
    result.then(
      () => this.settleRun(this.clock.now()),
      () => this.settleRun(this.clock.now()),
    );
    this.phase = IN_FALLBACK;
    now = this.stamp(now);
    this.mark(EV.BAD_REQUEST, now);
    if (this.trial) this.spec.runtime.breaker.trialReleased();
    this.fail(
      new TypeError(`breakwater: command '${this.commandKey}' run returned a Promise under executeSync(); use execute() for asynchronous work (a decorated method: mode 'async')`),
      now,
    );
  }

  private subscribeRun(source: Observable<unknown>): void {
    if (source === null || typeof source !== 'object' || typeof (source as Observable<unknown>).subscribe !== 'function') {
      this.runError(new TypeError(`breakwater: command '${this.commandKey}' construct() must return an Observable`));
      return;
    }
    let sync = true;
    let completedSync = false;
    const subscription = source.subscribe({
      next: (value) => {
        if (this.phase !== RUNNING) return;
        const now = this.clock.now();
        // Hystrix: the timeout covers the time to the first value of a multi-value command.
        if (this.extras.emitted++ === 0 && this.dlList !== null) deadlinesFor(this.clock).remove(this);
        this.mark(EV.EMIT, now);
        this.notify('EMIT', now, undefined);
        this.sink!.emit!(value);
      },
      error: (error) => {
        if (this.x !== null) this.x.subscription = null;
        this.runError(error);
      },
      complete: () => {
        if (this.x !== null) this.x.subscription = null;
        if (sync) completedSync = true;
        this.runValue(undefined);
      },
    });
    sync = false;
    if (!completedSync && !subscription.closed) this.extras.subscription = subscription;
  }

  /**
   * The time of a record made before the run's outcome (a rejection, a refused thenable): an untimed start reads it
   * now and takes it as its start.
   */
  private stamp(now: number): number {
    if (!this.untimed) return now;
    this.untimed = false;
    return (this.startedAt = this.runStartedAt = this.clock.now());
  }

  /** Releases what the run held: the concurrency count and the bulkhead permit. Exactly once. */
  private settleRun(now: number): void {
    if (this.runSettled) return;
    this.runSettled = true;
    if (this.untimed) {
      // an untimed start: the run's end is the call's first time, so it measures no latency
      this.untimed = false;
      this.startedAt = this.runStartedAt = now;
    }
    if (this.unstampedRun) {
      this.unstampedRun = false;
      this.spec.runtime.metrics.endRunStamped(now);
    } else this.spec.runtime.metrics.endRun();
    const bulkhead = this.bulkhead;
    if (bulkhead !== null) {
      this.bulkhead = null;
      bulkhead.release(now);
    }
  }

  /** @internal run gave its value. */
  runValue(value: unknown): void {
    // clockless: the stand-in start (the key's last time) is the success's time; nothing it is handed to needs a real one
    const now = this.clockless ? this.startedAt : this.clock.now();
    this.settleRun(now);
    if (this.phase !== RUNNING) return; // a late result after a timeout or cancel is ignored
    this.succeeded(value, this.runStartedAt, now);
  }

  /** @internal settle: an attempt (the first, a retry or a hedge started at `runStartedAt`) produced the value. */
  succeeded(value: unknown, runStartedAt: number, now: number): void {
    if (this.dlList !== null) deadlinesFor(this.clock).remove(this);
    if (this.x !== null) this.stopAttempts(undefined);
    if (this.mode === MODE_SYNC) {
      const timeout = this.spec.config.timeout;
      if (timeout !== false && now - runStartedAt >= timeout) {
        // A synchronous run cannot be interrupted; past its deadline its value is discarded, as in Hystrix.
        this.timedOut(now); // (records the run time)
        return;
      }
    }
    const rt = this.spec.runtime;
    this.mark(EV.SUCCESS, now);
    rt.metrics.recordExecute((this.runMs = now - runStartedAt), now);
    rt.breaker.onSuccess(this.runMs, now, this.trial);
    if (rt.adaptive !== null) rt.adaptive.sample(this.runMs, false, false); // adaptive isolation: latency
    this.notify('SUCCESS', now, undefined);
    this.deliver(value, now);
  }

  /** @internal run threw or rejected. */
  runError(error: unknown): void {
    const now = this.clock.now();
    this.settleRun(now);
    if (this.phase !== RUNNING) return;
    this.spec.runtime.metrics.recordExecute((this.runMs = now - this.runStartedAt), now);
    this.attemptFailed(error, this.runStartedAt, now);
  }

  /**
   * settle: an attempt (the first, a retry or a hedge) failed. Counted as its own FAILURE (the breaker sees what the
   * dependency sees); the execution goes on while another attempt is in flight or a retry is planned (src/policy/),
   * else ends here: a bad request as itself, a failure through the fallback.
   */
  private attemptFailed(error: unknown, runStartedAt: number, now: number): void {
    const rt = this.spec.runtime;
    if (isBadRequestError(error) || this.ignored(error)) {
      // Not the dependency's fault: no fallback, no health effect; a half-open trial is released, not failed.
      if (this.dlList !== null) deadlinesFor(this.clock).remove(this);
      if (this.x !== null) this.stopAttempts(undefined);
      this.phase = IN_FALLBACK;
      this.cause = error;
      this.mark(EV.BAD_REQUEST, now);
      if (this.trial) rt.breaker.trialReleased();
      this.notify('BAD_REQUEST', now, error);
      this.fail(error, now);
      return;
    }
    this.mark(EV.FAILURE, now);
    rt.breaker.onFailure(now - runStartedAt, now, this.trial);
    if (rt.adaptive !== null) rt.adaptive.sample(now - runStartedAt, true, false); // a failure is a drop
    this.trial = false; // a retry asks the breaker again
    const x = this.x;
    if (x !== null && x.hedge !== null && x.hedge.inFlight(this.runSettled) > 0) return; // another attempt may win
    if (this.spec.config.retry !== false && this.retryLater(error, now)) return;
    if (this.dlList !== null) deadlinesFor(this.clock).remove(this);
    if (x !== null) this.stopAttempts(undefined);
    this.fallback('FAILURE', 'COMMAND_EXCEPTION', error, error, now);
  }

  /**
   * retry: asks the policy whether the failed attempt is retried (attempts left, `retryOn`, the backoff ending before
   * the deadline, the budget). If so, waits out the backoff on the shared deadline timer (RETRY is recorded now).
   */
  private retryLater(error: unknown, now: number): boolean {
    const retry = this.spec.config.retry;
    const budget = this.spec.runtime.budget;
    if (retry === false || budget === null || this.mode !== MODE_ASYNC) return false;
    const x = this.extras;
    const run = (x.retry ??= new RetryRun(this));
    const wait = run.plan(retry, error, now, this.dlList !== null ? this.deadlineAt : Infinity, budget, Math.random);
    if (wait < 0) return false;
    this.phase = BACKOFF;
    this.mark(EV.RETRY, now);
    this.notify('RETRY', now, error);
    x.attempt?.abort(error); // the failed attempt is abandoned: its signal tells what it left running to stop
    x.attempt = null;
    x.scope ??= new AsyncResource('breakwater.retry');
    deadlinesFor(this.clock).addKeepAlive(run, now, wait);
    return true;
  }

  /** retry: the backoff is over. The next attempt passes the circuit and the bulkhead like the first. */
  retryNow(): void {
    if (this.phase !== BACKOFF) return;
    const x = this.x!;
    const now = this.clock.now();
    if (this.dlList !== null && now >= this.deadlineAt) return this.retryFailed(x.retry!.lastError, now);
    x.scope!.runInAsyncScope(this.reattempt, this, now);
  }

  private reattempt(now: number): void {
    const rt = this.spec.runtime;
    const admission = rt.breaker.attempt(now);
    if (admission === REFUSE) {
      // an attempt that finds the circuit open ends the execution, as a first attempt would
      if (this.dlList !== null) deadlinesFor(this.clock).remove(this);
      return this.reject(EV.SHORT_CIRCUITED, 'SHORT_CIRCUIT', now);
    }
    this.trial = admission === ADMIT_TRIAL;
    const x = this.x!;
    x.attempt = new AttemptContext(this.commandKey, x.retry!.attempts);
    this.phase = PENDING;
    this.bulkheadThenBegin(now);
  }

  /** retry: the deadline came during a backoff (a late timer): the execution ends with the last attempt's failure. */
  private retryFailed(error: unknown, now: number): void {
    if (this.dlList !== null) deadlinesFor(this.clock).remove(this);
    this.stopAttempts(undefined);
    this.fallback('FAILURE', 'COMMAND_EXCEPTION', error, error, now);
  }

  /** hedge: the running attempt is slow; start one more in parallel if the circuit, a permit and the budget allow. */
  hedgeNow(): void {
    if (this.phase !== RUNNING) return;
    const now = this.clock.now();
    const { runtime: rt, config: cfg } = this.spec;
    const hedge = this.x!.hedge!;
    if (cfg.hedge === false || rt.budget === null) return;
    const admission = rt.breaker.attempt(now);
    if (admission !== ADMIT) {
      // open or half-open: no hedge (a trial slot it was just given goes back at once)
      if (admission === ADMIT_TRIAL) rt.breaker.trialReleased();
      return;
    }
    const context = hedge.tryStart(this.bulkheadFor(), rt.budget, now);
    if (context === null) return; // no permit or no budget: skipped, not rejected
    this.mark(EV.HEDGE, now);
    this.notify('HEDGE', now, undefined);
    rt.metrics.startRun(now);
    let result: unknown;
    try {
      result = this.spec.invoke(this.args, context);
    } catch (error) {
      this.hedgeSettled(context, false, error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.hedgeSettled(context, true, value),
        (error) => this.hedgeSettled(context, false, error),
      );
    } else {
      this.hedgeSettled(context, true, result);
    }
  }

  /** hedge: an extra attempt settled; its permit goes back now, its outcome counts if the execution still waits. */
  private hedgeSettled(context: AttemptContext, ok: boolean, result: unknown): void {
    const now = this.clock.now();
    const rt = this.spec.runtime;
    rt.metrics.endRun();
    const startedAt = this.x!.hedge!.settle(context, now);
    if (this.phase !== RUNNING) return;
    rt.metrics.recordExecute((this.runMs = now - startedAt), now);
    if (ok) this.succeeded(result, startedAt, now);
    else this.attemptFailed(result, startedAt, now);
  }

  /** Ends every extra attempt (aborting their signals with `reason`) and the retry/hedge timers. */
  private stopAttempts(reason: unknown): void {
    const x = this.x!;
    if (x.retry === null && x.hedge === null && x.attempt === null) return; // a command without retry/hedge
    const deadlines = deadlinesFor(this.clock);
    if (x.retry !== null) deadlines.remove(x.retry);
    if (x.hedge !== null) {
      x.hedge.stop(deadlines, reason);
      if (reason === undefined && !this.runSettled) {
        // an extra attempt won while this execution's own attempt still runs: abandon it (its permit stays held
        // until it really settles)
        const lost = new CancelledError(this.commandKey);
        if (x.attempt !== null) x.attempt.abort(lost);
        else {
          x.abortReason = lost;
          if (x.controller !== null && !x.controller.signal.aborted) x.controller.abort(lost);
        }
      }
    }
    if (reason !== undefined) x.attempt?.abort(reason);
  }

  /** Whether `ignoreExceptions` makes `run`'s error the caller's. A throwing predicate ignores nothing. */
  private ignored(error: unknown): boolean {
    const ignore = this.spec.config.ignoreExceptions;
    if (ignore === null) return false;
    try {
      return ignore(error) === true;
    } catch (predicateError) {
      reportCallbackError('ignoreExceptions', this.commandKey, predicateError);
      return false;
    }
  }

  /** The shared deadline timer fired. */
  onDeadline(): void {
    this.timedOut(this.clock.now());
  }

  private timedOut(now: number): void {
    const phase = this.phase;
    if (phase === TOKEN_WAIT) {
      // still waiting for a token at the deadline: the limiter held the call up, not the dependency.
      const x = this.extras;
      x.tokenWait?.cancel();
      x.tokenWait = null;
      this.reject(EV.RATE_LIMITED, 'RATE_LIMITED', now);
      return;
    }
    if (phase === BACKOFF) return this.retryFailed(this.x!.retry!.lastError, now);
    if (phase !== RUNNING && phase !== QUEUED_PHASE) return;
    const rt = this.spec.runtime;
    const timeout = this.spec.config.timeout as number;
    const reason = new TimeoutError(this.commandKey, timeout);
    if (phase === QUEUED_PHASE) {
      // A queued call whose deadline passes leaves the queue: it never runs late.
      this.bulkhead?.dequeue(this);
      this.bulkhead = null;
    } else {
      rt.metrics.recordExecute((this.runMs = now - this.runStartedAt), now);
    }
    this.phase = IN_FALLBACK;
    const x = this.extras;
    x.abortReason = reason;
    if (x.controller !== null && !x.controller.signal.aborted) x.controller.abort(reason);
    this.stopAttempts(reason);
    if (x.subscription !== null) {
      const s = x.subscription;
      x.subscription = null;
      s.unsubscribe();
      this.settleRun(now);
    }
    this.mark(EV.TIMEOUT, now);
    rt.breaker.onFailure(phase === QUEUED_PHASE ? 0 : now - this.runStartedAt, now, this.trial);
    if (rt.adaptive !== null && phase === RUNNING) rt.adaptive.sample(now - this.runStartedAt, true, !this.runSettled); // a timeout is a drop
    this.trial = false;
    const forFallback = rt.rejection('TIMEOUT', MESSAGES.TIMEOUT);
    const ctx = this.requestContext;
    if (ctx !== undefined && RequestContext.current() !== ctx) {
      // Fired by the shared timer (a neutral async context): run the fallback in the caller's request, as Hystrix
      // restores the HystrixRequestContext on its timer thread.
      RequestContext.within(ctx, () => this.fallback('TIMEOUT', 'TIMEOUT', forFallback, reason, now));
    } else {
      this.fallback('TIMEOUT', 'TIMEOUT', forFallback, reason, now);
    }
  }

  /** Short-circuit, rate limit, semaphore or pool rejection: no run, straight to the fallback. */
  private reject(event: number, failureType: FailureType, now: number): void {
    now = this.stamp(now);
    const rt = this.spec.runtime;
    this.mark(event, now);
    if (event === EV.SEMAPHORE_REJECTED || event === EV.THREAD_POOL_REJECTED) rt.breaker.onHealthEvent(now);
    if (this.trial) rt.breaker.trialReleased();
    this.fallback(EVENT_TYPES[event]!, failureType, rt.rejection(failureType, MESSAGES[failureType]), undefined, now);
  }

  private fallback(eventName: string, failureType: FailureType, forFallback: unknown, cause: unknown, now: number): void {
    this.phase = IN_FALLBACK;
    this.failureType = failureType;
    this.cause = cause;
    const { runtime: rt, config: cfg } = this.spec;
    this.notify(eventName as keyof typeof EV, now, forFallback);
    if (!cfg.fallbackEnabled) {
      // Hystrix records no event for a disabled fallback (FALLBACK_DISABLED never reaches the counters).
      this.fail(this.commandError('and fallback disabled.', undefined), now);
      return;
    }
    if (!this.spec.hasFallback) {
      this.mark(EV.FALLBACK_MISSING, now);
      this.notify('FALLBACK_MISSING', now, forFallback);
      this.fail(this.commandError('and no fallback available.', undefined), now);
      return;
    }
    if (!rt.fallbackSemaphore.tryAcquire()) {
      this.mark(EV.FALLBACK_REJECTION, now);
      this.notify('FALLBACK_REJECTION', now, forFallback);
      // Unlike Hystrix, the original cause is kept.
      const error = new CommandError(this.commandKey, 'REJECTED_SEMAPHORE_FALLBACK', `${this.commandKey} ${MESSAGES[failureType]} and fallback execution rejected.`, this.cause);
      this.fail(error, now);
      return;
    }
    this.fallbackHeld = true;
    let result: unknown;
    try {
      result = this.spec.invokeFallback(forFallback, this.args);
    } catch (error) {
      this.fallbackFailed(error);
      return;
    }
    this.fallbackReturned(result);
  }

  /** @internal what the fallback returned: an Observable (multi-value), a thenable, or the value. */
  fallbackReturned(result: unknown): void {
    if (this.mode === MODE_MULTI) {
      this.subscribeFallback(result as Observable<unknown>);
    } else if (isThenable(result)) {
      if (this.mode === MODE_SYNC) {
        result.then(undefined, () => undefined);
        this.fallbackFailed(new TypeError(`breakwater: command '${this.commandKey}' fallback returned a Promise under executeSync()`));
        return;
      }
      result.then(
        (value) => this.fallbackValue(value),
        (error) => this.fallbackFailed(error),
      );
    } else {
      this.fallbackValue(result);
    }
  }

  private subscribeFallback(source: Observable<unknown>): void {
    if (source === null || typeof source !== 'object' || typeof (source as Observable<unknown>).subscribe !== 'function') {
      this.fallbackFailed(new TypeError(`breakwater: command '${this.commandKey}' resumeWithFallback() must return an Observable`));
      return;
    }
    let sync = true;
    let completedSync = false;
    const subscription = source.subscribe({
      next: (value) => {
        if (this.phase !== IN_FALLBACK) return;
        this.mark(EV.FALLBACK_EMIT, this.clock.now());
        this.extras.fallbackEmitted++;
        this.sink!.emit!(value);
      },
      error: (error) => {
        if (this.x !== null) this.x.subscription = null;
        this.fallbackFailed(error);
      },
      complete: () => {
        if (this.x !== null) this.x.subscription = null;
        if (sync) completedSync = true;
        this.fallbackValue(undefined);
      },
    });
    sync = false;
    if (!completedSync && !subscription.closed && this.phase === IN_FALLBACK) this.extras.subscription = subscription;
  }

  private releaseFallback(): void {
    if (!this.fallbackHeld) return;
    this.fallbackHeld = false;
    this.spec.runtime.fallbackSemaphore.release();
  }

  private fallbackValue(value: unknown): void {
    this.releaseFallback();
    if (this.phase !== IN_FALLBACK) return;
    const now = this.clock.now();
    this.mark(EV.FALLBACK_SUCCESS, now);
    this.notify('FALLBACK_SUCCESS', now, undefined);
    this.deliver(value, now);
  }

  /** @internal the fallback threw or rejected. */
  fallbackFailed(error: unknown): void {
    this.releaseFallback();
    if (this.phase !== IN_FALLBACK) return;
    const now = this.clock.now();
    this.mark(EV.FALLBACK_FAILURE, now);
    this.notify('FALLBACK_FAILURE', now, error);
    this.fail(this.commandError('and fallback failed.', error), now);
  }

  /** What the caller gets when no value came: a `CommandError`, or with `unwrapErrors` `run`'s own error. */
  private commandError(suffix: string, fallbackError: unknown): unknown {
    const error = new CommandError(
      this.commandKey,
      this.failureType,
      `${this.commandKey} ${MESSAGES[this.failureType]} ${suffix}`,
      this.cause,
      fallbackError,
    );
    return this.spec.config.unwrapErrors ? unwrapForCaller(error) : error;
  }

  /** The execution left the key's in-flight count (delivered, failed or cancelled: exactly once). */
  private finished(now: number): void {
    const rt = this.spec.runtime;
    rt.inFlight--;
    rt.lastUsedAt = now;
  }

  private deliver(value: unknown, now: number): void {
    this.phase = DONE;
    this.finished(now);
    this.spec.runtime.metrics.recordTotal(now - this.startedAt, now);
    this.finishLog(now);
    if (this.resolveFn !== null) this.resolveFn(value);
    else if (this.sink === null || this.mode === MODE_SYNC) this.syncValue = value;
    else this.sink.value(value);
  }

  private fail(error: unknown, now: number): void {
    this.phase = DONE;
    this.finished(now);
    this.mark(EV.EXCEPTION_THROWN, now);
    this.spec.runtime.metrics.recordTotal(now - this.startedAt, now);
    this.finishLog(now);
    if (this.rejectFn !== null) this.rejectFn(error);
    else if (this.sink === null || this.mode === MODE_SYNC) {
      this.syncFailed = true;
      this.syncError = error;
    } else this.sink.error(error);
  }

  private mark(event: number, now: number): void {
    this.spec.runtime.metrics.mark(event, now);
    this.eventBits |= 1 << event;
  }

  private notify(eventType: keyof typeof EV, now: number, error: unknown): void {
    const local = this.spec.runtime.emitter;
    if (!hasAnyListener(local)) return;
    const name = LISTENER_NAMES[eventType];
    if (name === undefined) return;
    if (!hasListeners(local, name)) return;
    const latencyMs = this.untimed ? 0 : now - this.startedAt; // an untimed call measures no latency
    // two literal shapes rather than a spread: no throwaway object, and `error` is absent (not undefined) on success
    emitBoth(
      local,
      name,
      error === undefined ? { commandKey: this.commandKey, eventType, latencyMs } : { commandKey: this.commandKey, eventType, latencyMs, error },
    );
  }

  private finishLog(now: number): void {
    const log = this.log;
    if (log === null) return;
    log.events = this.eventList();
    log.emits = this.x?.emitted ?? 0; // EMITxN / FALLBACK_EMITxN in the request log
    log.fallbackEmits = this.x?.fallbackEmitted ?? 0;
    log.latency = Math.max(0, now - this.startedAt);
  }

  /** The events recorded so far, in Hystrix's order (EXCEPTION_THROWN, a metrics-only event, left out). */
  eventList(): EventType[] {
    const events: EventType[] = [];
    for (let i = 0; i < EVENT_TYPES.length; i++) {
      if (i === EV.EXCEPTION_THROWN) continue;
      if ((this.eventBits & (1 << i)) !== 0) events.push(EVENT_TYPES[i]!);
    }
    return events;
  }

  /** @internal the bit set of recorded events (bit = the event's index in `EVENT_TYPES`). */
  get eventMask(): number {
    return this.eventBits;
  }

  /** @internal time in `run` (value, error, timeout or cancel), -1 while running or when `run` never started. */
  get runTimeMs(): number {
    return this.runMs;
  }

  /** @internal values emitted by `run` / by the fallback (multi-value commands). */
  get emissions(): number {
    return this.x?.emitted ?? 0;
  }

  /** @see Execution.emissions */
  get fallbackEmissions(): number {
    return this.x?.fallbackEmitted ?? 0;
  }

  /** @internal whether `run` was started on a pool (Hystrix's `isExecutedInThread()`). */
  get ranOnPool(): boolean {
    return this.runStartedAt >= 0 && this.spec.config.isolation === 'pool';
  }

  /** @internal the key's runtime (breaker state for `isCircuitBreakerOpen`). */
  get runtime(): CommandRuntime {
    return this.spec.runtime;
  }

  /**
   * @internal what made the primary path give no value (Hystrix's `getExecutionException()`): what `run` threw, the
   * {@link TimeoutError}, or the shared `CommandError` a rejection or short-circuit handed to the fallback.
   */
  get executionError(): unknown {
    if (this.cause !== undefined) return this.cause;
    if ((this.eventBits & REJECTION_BITS) === 0) return undefined;
    return this.spec.runtime.rejection(this.failureType, MESSAGES[this.failureType]);
  }

  /** @internal the request log entry, for cache hits that copy the original's events. */
  get logEntry(): LogEntry | null {
    return this.log;
  }
}

/**
 * @internal records a run's success (`runMs` in run, at `now`; `trial`: a half-open trial): SUCCESS, run's latency,
 * the breaker, an adaptive limit's sample: what {@link Execution.succeeded} records inline (see `start`), for a lean
 * call (lean.ts). A lean success's total latency is run's: one record stands for both (see {@link left}).
 */
export function recordSuccess(rt: CommandRuntime, runMs: number, now: number, trial: boolean): void {
  rt.metrics.mark(EV.SUCCESS, now);
  rt.metrics.recordRun(runMs, now);
  rt.breaker.onSuccess(runMs, now, trial);
  if (rt.adaptive !== null) rt.adaptive.sample(runMs, false, false); // adaptive isolation: latency
}

/** @internal a lean call left the key at `now` after `totalMs` with a value: in-flight count, last use, total latency (as `deliver`). */
export function leave(rt: CommandRuntime, totalMs: number, now: number): void {
  left(rt, now);
  rt.metrics.recordTotal(totalMs, now);
}

/** @internal {@link leave} after {@link recordSuccess}, which recorded the total latency with run's. */
export function left(rt: CommandRuntime, now: number): void {
  rt.inFlight--;
  rt.lastUsedAt = now;
}

/**
 * @internal tells the key's and the global listeners of `eventType` (the caller checked that someone listens at all):
 * for a lean call, as an Execution's `notify` does.
 */
export function emitEvent(rt: CommandRuntime, eventType: keyof typeof EV, latencyMs: number, error: unknown): void {
  const local = rt.emitter;
  const name = LISTENER_NAMES[eventType];
  if (name === undefined || !hasListeners(local, name)) return;
  const commandKey = rt.config.key;
  // two literal shapes rather than a spread: no throwaway object, and `error` is absent (not undefined) on success
  emitBoth(local, name, error === undefined ? { commandKey, eventType, latencyMs } : { commandKey, eventType, latencyMs, error });
}

/** A user callback outside the flow (e.g. `ignoreExceptions`) threw: warn, and carry on as if it said no. */
function reportCallbackError(option: string, commandKey: string, error: unknown): void {
  try {
    process.emitWarning(
      `breakwater: command '${commandKey}' ${option} threw: ${error instanceof Error ? error.message : String(error)}`,
      { code: 'BW_CALLBACK_ERROR' },
    );
  } catch {
    // nothing more can be done
  }
}
