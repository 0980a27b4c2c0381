/**
 * Every event a command execution can record: Hystrix 1.5's `HystrixEventType` in its ordinal order (without the
 * unused `FALLBACK_DISABLED` and `COMMAND_MAX_ACTIVE`), plus breakwater's `RATE_LIMITED`, `RETRY` (an execution
 * started another attempt after a failed one: see the `retry` option) and `HEDGE` (an execution started a parallel
 * attempt because the first was slow: see the `hedge` option). RETRY and HEDGE are markers: each attempt's own
 * outcome (SUCCESS, FAILURE, TIMEOUT) is counted as usual, and the markers do not count toward health. `LOAD_SHED`:
 * a command refused at once because the process's event loop was overloaded past its priority's bound (not a health event).
 *
 * @see {@link EVENT_TYPES} for the list in order.
 */
export type EventType =
  | 'EMIT'
  | 'SUCCESS'
  | 'FAILURE'
  | 'TIMEOUT'
  | 'BAD_REQUEST'
  | 'SHORT_CIRCUITED'
  | 'THREAD_POOL_REJECTED'
  | 'SEMAPHORE_REJECTED'
  | 'FALLBACK_EMIT'
  | 'FALLBACK_SUCCESS'
  | 'FALLBACK_FAILURE'
  | 'FALLBACK_REJECTION'
  | 'FALLBACK_MISSING'
  | 'EXCEPTION_THROWN'
  | 'RESPONSE_FROM_CACHE'
  | 'CANCELLED'
  | 'COLLAPSED'
  | 'RATE_LIMITED'
  | 'RETRY'
  | 'HEDGE'
  | 'LOAD_SHED';

/** All event types, in Hystrix's ordinal order (the order of the request log). */
export const EVENT_TYPES: readonly EventType[] = Object.freeze([
  'EMIT',
  'SUCCESS',
  'FAILURE',
  'TIMEOUT',
  'BAD_REQUEST',
  'SHORT_CIRCUITED',
  'THREAD_POOL_REJECTED',
  'SEMAPHORE_REJECTED',
  'FALLBACK_EMIT',
  'FALLBACK_SUCCESS',
  'FALLBACK_FAILURE',
  'FALLBACK_REJECTION',
  'FALLBACK_MISSING',
  'EXCEPTION_THROWN',
  'RESPONSE_FROM_CACHE',
  'CANCELLED',
  'COLLAPSED',
  'RATE_LIMITED',
  'RETRY',
  'HEDGE',
  'LOAD_SHED',
]);

/** @internal dense indices, for typed-array counters. */
export const EV = Object.freeze({
  EMIT: 0,
  SUCCESS: 1,
  FAILURE: 2,
  TIMEOUT: 3,
  BAD_REQUEST: 4,
  SHORT_CIRCUITED: 5,
  THREAD_POOL_REJECTED: 6,
  SEMAPHORE_REJECTED: 7,
  FALLBACK_EMIT: 8,
  FALLBACK_SUCCESS: 9,
  FALLBACK_FAILURE: 10,
  FALLBACK_REJECTION: 11,
  FALLBACK_MISSING: 12,
  EXCEPTION_THROWN: 13,
  RESPONSE_FROM_CACHE: 14,
  CANCELLED: 15,
  COLLAPSED: 16,
  RATE_LIMITED: 17,
  RETRY: 18,
  HEDGE: 19,
  LOAD_SHED: 20,
} as const satisfies Record<EventType, number>);

/** @internal */
export const EVENT_COUNT = EVENT_TYPES.length;

/** Event types that count toward the health `requestCount` (Hystrix `HealthCounts`). */
export const HEALTH_TOTAL_TYPES: readonly EventType[] = Object.freeze([
  'SUCCESS',
  'FAILURE',
  'TIMEOUT',
  'THREAD_POOL_REJECTED',
  'SEMAPHORE_REJECTED',
]);

/** Event types that count as health errors. */
export const HEALTH_ERROR_TYPES: readonly EventType[] = Object.freeze([
  'FAILURE',
  'TIMEOUT',
  'THREAD_POOL_REJECTED',
  'SEMAPHORE_REJECTED',
]);

/** Event types after which the caller received an error (Hystrix's EXCEPTION_PRODUCING_EVENT_TYPES). */
export const EXCEPTION_PRODUCING_TYPES: readonly EventType[] = Object.freeze([
  'BAD_REQUEST',
  'FALLBACK_FAILURE',
  'FALLBACK_REJECTION',
  'FALLBACK_MISSING',
]);
