import { EV, EVENT_TYPES, type EventType } from '../metrics/eventType.js';
import type { CommandRuntime } from './CommandRuntime.js';
import type { Execution } from './executor.js';

/** Not a cache hit / a cache hit / a cache hit whose subscriber left before the shared execution finished. */
const OWN = 0;
const HIT = 1;
const HIT_CANCELLED = 2;

const bit = (event: number): number => 1 << event;
const REJECTED_BITS = bit(EV.SEMAPHORE_REJECTED) | bit(EV.THREAD_POOL_REJECTED);
const RUN_ERROR_BITS = bit(EV.FAILURE) | bit(EV.BAD_REQUEST);

/**
 * What happened to one execution, as Hystrix's command accessors tell it (`getExecutionEvents()`,
 * `isResponseShortCircuited()`, …): every outcome, including those where `run` never started (short-circuited,
 * rejected, rate-limited) and request-cache hits. Read-only and live: it follows the execution until it ends.
 *
 * A class-style {@link Command} or {@link ObservableCommand} instance *is* its record. For `command()` handles and
 * `@HystrixCommand` methods, {@link captureExecution} gives the record of one call; nothing is recorded for calls
 * that do not ask.
 *
 * @example
 * ```ts
 * const { result, record } = captureExecution(() => getUser.execute('42'));
 * await result;
 * record.executionEvents;          // e.g. ['SHORT_CIRCUITED', 'FALLBACK_SUCCESS']
 * record.isResponseShortCircuited; // true
 * ```
 * @see {@link captureExecution}
 */
export class ExecutionRecord {
  /** @internal the execution (for a cache hit: the original one it shares). */
  private exec: Execution | null = null;
  /** @internal the key's runtime, once known. */
  private rt: CommandRuntime | null = null;
  private hit = OWN;

  /** @internal */
  constructor(runtime?: CommandRuntime) {
    if (runtime !== undefined) this.rt = runtime;
  }

  /** @internal this record is `exec`'s. */
  attach(exec: Execution): void {
    this.exec = exec;
    this.rt = exec.runtime;
    this.hit = OWN;
  }

  /** @internal this record is a request-cache hit on `original`'s shared execution. */
  attachHit(original: Execution | null, runtime: CommandRuntime): void {
    this.exec = original;
    this.rt = runtime;
    this.hit = HIT;
  }

  /** @internal the hit's subscriber left before the shared execution finished: `RESPONSE_FROM_CACHE, CANCELLED`. */
  hitCancelled(): void {
    this.hit = HIT_CANCELLED;
  }

  /** The recorded events as a bit set (for a hit: the original's once it finished, plus RESPONSE_FROM_CACHE). */
  private get bits(): number {
    const hit = this.hit;
    if (hit === OWN) return this.exec?.eventMask ?? 0;
    if (hit === HIT_CANCELLED) return bit(EV.RESPONSE_FROM_CACHE) | bit(EV.CANCELLED);
    const original = this.exec;
    // Hystrix copies the original's events into the hit when the original completes
    const copied = original !== null && original.done ? original.eventMask : 0;
    return copied | bit(EV.RESPONSE_FROM_CACHE);
  }

  private has(mask: number): boolean {
    return (this.bits & mask) !== 0;
  }

  /** The command key (empty before the execution started). */
  get commandKey(): string {
    return this.rt?.config.key ?? '';
  }

  /**
   * The events this execution recorded, in Hystrix's order (`EXCEPTION_THROWN`, a metrics-only event, left out):
   * e.g. `['SUCCESS']`, `['SHORT_CIRCUITED', 'FALLBACK_SUCCESS']`, `['SEMAPHORE_REJECTED', 'FALLBACK_MISSING']`,
   * and for a cache hit the original's events plus `RESPONSE_FROM_CACHE`. A new array at each read.
   * Hystrix: `getExecutionEvents()`.
   */
  get executionEvents(): EventType[] {
    const bits = this.bits;
    const events: EventType[] = [];
    for (let i = 0; i < EVENT_TYPES.length; i++) {
      if (i !== EV.EXCEPTION_THROWN && (bits & bit(i)) !== 0) events.push(EVENT_TYPES[i]!);
    }
    return events;
  }

  /** `run` succeeded (SUCCESS). Hystrix: `isSuccessfulExecution()`. */
  get isSuccessfulExecution(): boolean {
    return this.has(bit(EV.SUCCESS));
  }

  /** `run` failed (FAILURE; a bad request is not a failure). Hystrix: `isFailedExecution()`. */
  get isFailedExecution(): boolean {
    return this.has(bit(EV.FAILURE));
  }

  /**
   * What `run` threw (FAILURE or BAD_REQUEST), `undefined` when it threw nothing. Hystrix:
   * `getFailedExecutionException()`.
   */
  get failedExecutionException(): unknown {
    return this.has(RUN_ERROR_BITS) ? this.exec!.executionError : undefined;
  }

  /**
   * Why the primary path gave no value: what `run` threw, the `TimeoutError` (TIMEOUT), or the `CommandError` the
   * fallback received for a short-circuit, rejection or rate limit; `undefined` after a success. Hystrix:
   * `getExecutionException()`.
   */
  get executionException(): unknown {
    if (this.hit === HIT_CANCELLED || this.exec === null || (this.hit === HIT && !this.exec.done)) return undefined;
    return this.exec.executionError;
  }

  /** The caller got the fallback's value (FALLBACK_SUCCESS). Hystrix: `isResponseFromFallback()`. */
  get isResponseFromFallback(): boolean {
    return this.has(bit(EV.FALLBACK_SUCCESS));
  }

  /** The execution timed out (TIMEOUT). Hystrix: `isResponseTimedOut()`. */
  get isResponseTimedOut(): boolean {
    return this.has(bit(EV.TIMEOUT));
  }

  /** The circuit refused the call (SHORT_CIRCUITED). Hystrix: `isResponseShortCircuited()`. */
  get isResponseShortCircuited(): boolean {
    return this.has(bit(EV.SHORT_CIRCUITED));
  }

  /** Served by the request cache (RESPONSE_FROM_CACHE). Hystrix: `isResponseFromCache()`. */
  get isResponseFromCache(): boolean {
    return this.hit !== OWN;
  }

  /** The bulkhead refused the call (SEMAPHORE_REJECTED or THREAD_POOL_REJECTED). Hystrix: `isResponseRejected()`. */
  get isResponseRejected(): boolean {
    return this.has(REJECTED_BITS);
  }

  /** The semaphore refused the call (SEMAPHORE_REJECTED). Hystrix: `isResponseSemaphoreRejected()`. */
  get isResponseSemaphoreRejected(): boolean {
    return this.has(bit(EV.SEMAPHORE_REJECTED));
  }

  /** The pool refused the call (THREAD_POOL_REJECTED). Hystrix: `isResponseThreadPoolRejected()`. */
  get isResponseThreadPoolRejected(): boolean {
    return this.has(bit(EV.THREAD_POOL_REJECTED));
  }

  /** The rate limiter refused the call (RATE_LIMITED). Breakwater only (Hystrix has no rate limiter). */
  get isResponseRateLimited(): boolean {
    return this.has(bit(EV.RATE_LIMITED));
  }

  /**
   * The execution ended with a value or an error delivered (false while running and after a cancel). Hystrix:
   * `isExecutionComplete()`.
   */
  get isExecutionComplete(): boolean {
    const exec = this.exec;
    if (exec === null || this.hit === HIT_CANCELLED) return false;
    return exec.done && (exec.eventMask & bit(EV.CANCELLED)) === 0;
  }

  /** `run` started on a pool (`isolation: 'pool'`; false for a cache hit). Hystrix: `isExecutedInThread()`. */
  get isExecutedInThread(): boolean {
    return this.hit === OWN && this.exec !== null && this.exec.ranOnPool;
  }

  /**
   * Whether the key's circuit is open now (OPEN or HALF_OPEN, force flags honoured): a live reading, as in
   * Hystrix. Hystrix: `isCircuitBreakerOpen()`.
   */
  get isCircuitBreakerOpen(): boolean {
    return this.rt !== null && this.rt.breaker.isOpen;
  }

  /** Values `run` emitted (multi-value commands; 0 for single-value ones, as in Hystrix). Hystrix: `getNumberEmissions()`. */
  get numberEmissions(): number {
    return this.exec === null || this.hit === HIT_CANCELLED ? 0 : this.exec.emissions;
  }

  /** Values the fallback emitted (multi-value commands). Hystrix: `getNumberFallbackEmissions()`. */
  get numberFallbackEmissions(): number {
    return this.exec === null || this.hit === HIT_CANCELLED ? 0 : this.exec.fallbackEmissions;
  }

  /**
   * Calls this execution served as a collapser's batch command. Always 0 here: a collapser's batch is an execution
   * of its own that no caller holds (the request log shows it as `COLLAPSED`). Hystrix: `getNumberCollapsed()`.
   */
  get numberCollapsed(): number {
    return 0;
  }

  /**
   * Milliseconds spent in `run` (until its value, error, timeout or cancel); -1 while it runs and when it never
   * started (short-circuited, rejected, rate-limited, a cache hit). Hystrix: `getExecutionTimeInMilliseconds()`.
   */
  get executionTimeMs(): number {
    return this.hit === OWN && this.exec !== null ? this.exec.runTimeMs : -1;
  }
}

/**
 * @internal who wants the record of the next execution started (set only around a captured call, so an
 * uncaptured call pays one comparison with null). Taken, and cleared, by the first execution that starts.
 */
export let takeCapture: ((exec: Execution) => void) | null = null;

/** @internal the record waiting for the next execution (or cache hit), if any. */
let waiting: ExecutionRecord | null = null;

function take(exec: Execution): void {
  const record = waiting!;
  waiting = null;
  takeCapture = null; // a command started by this execution's run is not captured
  record.attach(exec);
}

/** @internal runs `fn` with `record` waiting for the first execution (or cache hit) it starts. */
export function withRecord<T>(record: ExecutionRecord, fn: () => T): T {
  const outerWaiting = waiting;
  const outerTake = takeCapture;
  waiting = record;
  takeCapture = take;
  try {
    return fn();
  } finally {
    waiting = outerWaiting;
    takeCapture = outerTake;
  }
}

/** @internal a cache hit is being served: the waiting record (if any) becomes the hit's. */
export function takeHitRecord(original: Execution | null, runtime: CommandRuntime): ExecutionRecord | null {
  const record = waiting;
  if (record === null) return null;
  waiting = null;
  takeCapture = null;
  record.attachHit(original, runtime);
  return record;
}

/**
 * The result of {@link captureExecution}: what the function returned, and the record of the execution it started.
 */
export interface CapturedExecution<T> {
  /** What the function returned (a Promise, an Observable or a value), untouched. */
  readonly result: T;
  /** The record of the first execution (or request-cache hit) the function started; empty if it started none. */
  readonly record: ExecutionRecord;
}

/**
 * Calls `fn` and gives the {@link ExecutionRecord} of the first command execution it starts synchronously: the way
 * to read Hystrix's per-execution accessors (`executionEvents`, `isResponseShortCircuited`, `executionTimeMs`, …)
 * for a `command()` handle's call or a `@HystrixCommand` method's call, without changing what `execute()` returns.
 * Calls made without it record nothing extra. The record is live: read it after the result settles.
 *
 * Start the execution inside `fn`: `execute()`, `executeSync()`, `observe()` and decorated methods start at once; a
 * cold `toObservable()` starts only when subscribed, so subscribe inside `fn`. A throw from `fn` (e.g.
 * `executeSync()` failing) propagates, and its record is lost: catch it inside `fn` to keep the record.
 *
 * @example
 * ```ts
 * const { result, record } = captureExecution(() => users.getUser('42')); // a @HystrixCommand method
 * const user = await result;
 * if (record.isResponseFromFallback) console.log('fallback because of', record.executionEvents);
 * ```
 * @see {@link ExecutionRecord}
 */
export function captureExecution<T>(fn: () => T): CapturedExecution<T> {
  if (typeof fn !== 'function') throw new TypeError('breakwater: captureExecution(fn) needs a function that starts one command call');
  const record = new ExecutionRecord();
  const result = withRecord(record, fn);
  return { result, record };
}
