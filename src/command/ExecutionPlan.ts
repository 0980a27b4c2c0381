import type { CommandConfig } from '../config/options.js';

/**
 * @internal which stages an execution of one resolved config runs: decided once per config (when a `configure()`
 * or a command's own options give the key a new resolved config), never per call, so a command pays only for what
 * it has configured. The executor keeps one flow and asks the plan at its fixed points; a stage that is off does
 * none of its work.
 */
export class ExecutionPlan {
  /**
   * No deadline can settle the caller's Promise before `run` does (no timeout, no hedge): an `execute()` returns
   * `run(…).then(…)` itself, with no separately settleable Promise and no deadline entry.
   */
  readonly direct: boolean;
  /** A timeout is armed (async and multi-value modes; sync mode checks a late value against it). */
  readonly timed: boolean;
  /**
   * The caller's request context is looked up: for the request log, and for a timeout, whose fallback runs in the
   * caller's request. Without both, no `AsyncLocalStorage` lookup is made.
   */
  readonly requestScope: boolean;
  /**
   * No stage of this config needs the time a call starts: no timeout, rate limiter, retry or hedge, no latency
   * histograms (the key's metrics were made with percentiles off), no slow-call rule, on a semaphore (a pool and an adaptive limit keep time-stamped state). A call then
   * reads the clock once, when its outcome is recorded, and measures no latency, unless something else asks for its
   * start when it starts: a listener, an execution record, a request log, or an OPEN circuit (its sleep window).
   */
  readonly untimedStart: boolean;

  /**
   * An untimed start whose success needs no time either: the key keeps no rolling window (`metrics.rollingWindow:
   * false`), so its counts take no time, and its breaker counts calls (`'consecutive'`, `'countWindow'`, or none).
   * Such a call reads no clock at all when it succeeds: its outcome is recorded with its stand-in start time, and
   * the breaker reads the clock itself only when it trips. Its failure path reads the clock as an untimed one does.
   */
  readonly clockless: boolean;

  /**
   * A call may run lean (see lean.ts: no Execution object, its times in locals) when nobody watches it: no rate
   * limiter, retry or hedge, on the key's semaphore, and a start that reads the clock (an untimed start keeps its
   * own flow). Checked per call: listeners, execution records, a request log, load shedding.
   */
  readonly lean: boolean;

  /**
   * @param latencyRecorded - the key's metrics keep latency histograms (made when the key was created).
   * @param windowless - the key's metrics keep no rolling window.
   */
  constructor(
    readonly config: CommandConfig,
    latencyRecorded: boolean,
    windowless = false,
  ) {
    this.timed = config.timeout !== false;
    this.direct = !this.timed && config.hedge === false;
    this.requestScope = config.requestLog || this.timed;
    this.untimedStart =
      this.direct &&
      config.rateLimit === false &&
      config.retry === false &&
      !latencyRecorded &&
      config.circuitBreaker.slowCallDuration === false &&
      config.isolation === 'semaphore';
    const breaker = config.circuitBreaker;
    this.clockless = this.untimedStart && windowless && (!breaker.enabled || breaker.strategy !== 'errorPercentage');
    this.lean = config.rateLimit === false && config.retry === false && config.hedge === false && config.isolation === 'semaphore' && !this.untimedStart;
  }
}
