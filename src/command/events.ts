import type { CircuitEvents } from '../circuit/events.js';
import type { EventType } from '../metrics/eventType.js';

/** Payload of an execution event. */
export interface ExecutionEvent {
  /** The key of the execution. */
  readonly commandKey: string;
  /** The Hystrix event type recorded. */
  readonly eventType: EventType;
  /** Milliseconds since the execution started (for `emit`, since it started too). */
  readonly latencyMs: number;
  /** What went wrong, for failure-type events: what `run` or the fallback threw. */
  readonly error?: unknown;
}

/**
 * Events of a command key, on `command.events` (per key) and on the global `events` emitter (every key). Emitting
 * costs nothing when nobody listens: the payload is built only when a listener exists. A listener that throws
 * never breaks an execution; its error is reported with `process.emitWarning`.
 *
 * @example
 * ```ts
 * getUser.events.on('circuitOpen', (e) => log.warn(`${e.commandKey} open at ${e.health.errorPercentage}%`));
 * events.on('timeout', (e) => metrics.increment(`timeouts.${e.commandKey}`));
 * ```
 */
export interface CommandEvents extends CircuitEvents {
  /** `run` succeeded. */
  success: (e: ExecutionEvent) => void;
  /** `run` threw or rejected (not a bad request). */
  failure: (e: ExecutionEvent) => void;
  /** The deadline passed before `run` settled. */
  timeout: (e: ExecutionEvent) => void;
  /** `run` threw a `BadRequestError`. */
  badRequest: (e: ExecutionEvent) => void;
  /** The circuit refused the call. */
  shortCircuited: (e: ExecutionEvent) => void;
  /** The semaphore was full. */
  semaphoreRejected: (e: ExecutionEvent) => void;
  /** The pool (and its queue) was full. */
  threadPoolRejected: (e: ExecutionEvent) => void;
  /** The rate limiter had no token. */
  rateLimited: (e: ExecutionEvent) => void;
  /** The fallback produced a value. */
  fallbackSuccess: (e: ExecutionEvent) => void;
  /** The fallback threw. */
  fallbackFailure: (e: ExecutionEvent) => void;
  /** The fallback semaphore was full. */
  fallbackRejection: (e: ExecutionEvent) => void;
  /** There was no fallback. */
  fallbackMissing: (e: ExecutionEvent) => void;
  /** Served from the request cache. */
  responseFromCache: (e: ExecutionEvent) => void;
  /** Unsubscribed before a result. */
  cancelled: (e: ExecutionEvent) => void;
  /** An observable command emitted a value. */
  emit: (e: ExecutionEvent) => void;
  /** An attempt failed and another one starts (the `retry` option); `error` is the failed attempt's. */
  retry: (e: ExecutionEvent) => void;
  /** The running attempt was slow and a parallel one starts (the `hedge` option). */
  hedge: (e: ExecutionEvent) => void;
  /** A `sheddable` command was refused at once: the process's event loop is overloaded (`configure({ loadShedding })`). */
  loadShed: (e: ExecutionEvent) => void;
}

/** @internal event type → listener name. */
export const LISTENER_NAMES: Partial<Record<EventType, keyof CommandEvents>> = {
  SUCCESS: 'success',
  FAILURE: 'failure',
  TIMEOUT: 'timeout',
  BAD_REQUEST: 'badRequest',
  SHORT_CIRCUITED: 'shortCircuited',
  SEMAPHORE_REJECTED: 'semaphoreRejected',
  THREAD_POOL_REJECTED: 'threadPoolRejected',
  RATE_LIMITED: 'rateLimited',
  FALLBACK_SUCCESS: 'fallbackSuccess',
  FALLBACK_FAILURE: 'fallbackFailure',
  FALLBACK_REJECTION: 'fallbackRejection',
  FALLBACK_MISSING: 'fallbackMissing',
  RESPONSE_FROM_CACHE: 'responseFromCache',
  CANCELLED: 'cancelled',
  EMIT: 'emit',
  RETRY: 'retry',
  LOAD_SHED: 'loadShed',
  HEDGE: 'hedge',
};
