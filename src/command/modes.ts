import { Observable, ReplaySubject } from 'rxjs';
import { getClock } from '../config/store.js';
import { BreakwaterError } from '../errors.js';
import { EV } from '../metrics/eventType.js';
import { LogEntry, RequestContext } from '../request/RequestContext.js';
import { Execution, MODE_ASYNC, MODE_MULTI, MODE_SYNC, type ExecutionSpec, type Sink } from './executor.js';
import { emitBoth, hasListeners } from './globalEvents.js';

/** @internal what the request cache holds for one command key + cache key. */
interface CacheEntry {
  readonly promise?: Promise<unknown>;
  readonly observable?: Observable<unknown>;
  readonly execution: Execution | null;
}

/** @internal computes the request-cache slot, or undefined when caching does not apply. */
export type CacheKeyFn = ((args: readonly unknown[]) => unknown) | undefined;

function cacheSlot(spec: ExecutionSpec, cacheKey: CacheKeyFn, args: readonly unknown[]): [RequestContext, string] | undefined {
  if (cacheKey === undefined || !spec.config.requestCache) return undefined;
  const ctx = RequestContext.current();
  if (ctx === undefined) return undefined; // outside a request context nothing is cached (and nothing fails)
  let key: unknown;
  try {
    key = cacheKey(args); // a throwing cache-key function reaches the caller before anything is acquired
  } catch (error) {
    // every rejection the library produces is an Error: a thrown string or object is wrapped, kept as `cause`
    if (error instanceof Error) throw error;
    throw new BreakwaterError(`breakwater: command '${spec.config.key}' cacheKey threw a non-Error: ${describeThrown(error)}`, 'BW_CACHE_KEY', { cause: error });
  }
  if (key === undefined || key === null) return undefined;
  const type = typeof key;
  if (type !== 'string' && type !== 'number' && type !== 'bigint' && type !== 'boolean') {
    // String() would map every object (and every thenable) to "[object Object]": different calls would share a result.
    throw new TypeError(`breakwater: command '${spec.config.key}' cacheKey must return a string or a number (undefined: no caching), got ${type === 'object' ? 'an object' : `a ${type}`}`);
  }
  return [ctx, `${spec.config.key}\u0000${String(key)}`];
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  return 'an object';
}

/** Records a cache hit: RESPONSE_FROM_CACHE in metrics, an event, and a request-log entry. */
function recordCacheHit(spec: ExecutionSpec, ctx: RequestContext, entry: CacheEntry, settled: Promise<unknown> | undefined): void {
  const rt = spec.runtime;
  const now = getClock().now();
  rt.metrics.mark(EV.RESPONSE_FROM_CACHE, now);
  if (hasListeners(rt.events, 'responseFromCache')) {
    emitBoth(rt.events, 'responseFromCache', { commandKey: spec.config.key, eventType: 'RESPONSE_FROM_CACHE', latencyMs: 0 });
  }
  if (!spec.config.requestLog) return;
  const log = new LogEntry(spec.config.key);
  log.latency = 0;
  ctx.record(log); // capped at 1000 entries, as Hystrix
  // the original's events with RESPONSE_FROM_CACHE in Hystrix's order, and its emission counts
  const copy = (): void => log.copyCached(entry.execution?.eventList() ?? [], entry.execution?.logEntry ?? null);
  copy();
  if (settled !== undefined) settled.then(copy, copy);
}

// The resolving functions of the Promise being created: one module-level executor, no closure per call.
let resolveNext: (value: unknown) => void = () => undefined;
let rejectNext: (error: unknown) => void = () => undefined;
function capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  resolveNext = resolve;
  rejectNext = reject;
}

/**
 * The Promise of a started async-mode execution: already settled when it finished during `start()` (an open
 * circuit, a rejection, a synchronous run, each with its fallback), else pending until the execution delivers.
 */
function promiseOf(exec: Execution): Promise<unknown> {
  if (exec.done) return exec.syncFailed ? Promise.reject(exec.syncError) : Promise.resolve(exec.syncValue);
  const promise = new Promise<unknown>(capture);
  exec.attachPromise(resolveNext, rejectNext);
  return promise;
}

/** @internal async mode without a request cache: one Execution, one Promise. */
export function startAsync(spec: ExecutionSpec, args: readonly unknown[]): Promise<unknown> {
  const exec = new Execution(spec, args, null, MODE_ASYNC);
  exec.start();
  return promiseOf(exec);
}

/** @internal async mode: a Promise of the value. */
export function executeAsync(spec: ExecutionSpec, args: readonly unknown[], cacheKey: CacheKeyFn): Promise<unknown> {
  if (cacheKey !== undefined) {
    let slot: [RequestContext, string] | undefined;
    try {
      slot = cacheSlot(spec, cacheKey, args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (slot !== undefined) {
      const [ctx, key] = slot;
      const hit = ctx.cache.get(key) as CacheEntry | undefined;
      if (hit !== undefined && hit.promise !== undefined) {
        recordCacheHit(spec, ctx, hit, hit.promise);
        return hit.promise;
      }
      const exec = new Execution(spec, args, null, MODE_ASYNC);
      exec.start();
      const promise = promiseOf(exec);
      ctx.cache.set(key, { promise, execution: exec });
      return promise;
    }
  }
  return startAsync(spec, args);
}

/** @internal sync mode: the value, or a throw. */
export function executeSync(spec: ExecutionSpec, args: readonly unknown[], cacheKey: CacheKeyFn): unknown {
  const slot = cacheSlot(spec, cacheKey, args);
  if (slot !== undefined) {
    const hit = slot[0].cache.get(slot[1]) as CacheEntry | undefined;
    if (hit !== undefined && hit.execution !== null && hit.execution.done && hit.promise === undefined && hit.observable === undefined) {
      recordCacheHit(spec, slot[0], hit, undefined);
      return readSync(hit.execution);
    }
  }
  const exec = new Execution(spec, args, NO_SINK, MODE_SYNC);
  exec.start();
  // Never replace an entry that async or observable twins share (a sync call cannot wait for it).
  if (slot !== undefined && !slot[0].cache.has(slot[1])) slot[0].cache.set(slot[1], { execution: exec });
  return readSync(exec);
}

function readSync(exec: Execution): unknown {
  if (exec.syncFailed) throw exec.syncError;
  return exec.syncValue;
}

const NO_SINK: Sink = {
  value() {},
  error() {},
};

/** @internal cold single-value Observable: starts on subscribe; unsubscribing early cancels (CANCELLED). */
export function toObservableSingle(spec: ExecutionSpec, args: readonly unknown[], cacheKey: CacheKeyFn): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    let slot: [RequestContext, string] | undefined;
    try {
      slot = cacheSlot(spec, cacheKey, args);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    if (slot !== undefined) {
      // Cached executions are shared between callers, so one subscriber's unsubscribe does not cancel them.
      executeAsync(spec, args, cacheKey).then(
        (value) => {
          subscriber.next(value);
          subscriber.complete();
        },
        (error) => subscriber.error(error),
      );
      return undefined;
    }
    const exec = new Execution(
      spec,
      args,
      {
        value(value) {
          subscriber.next(value);
          subscriber.complete();
        },
        error(error) {
          subscriber.error(error);
        },
      },
      MODE_ASYNC,
    );
    exec.start();
    return () => exec.cancel();
  });
}

/** @internal cold multi-value Observable (observable commands). */
export function toObservableMulti(spec: ExecutionSpec, args: readonly unknown[], cacheKey: CacheKeyFn): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    let slot: [RequestContext, string] | undefined;
    try {
      slot = cacheSlot(spec, cacheKey, args);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    if (slot !== undefined) {
      const [ctx, key] = slot;
      const hit = ctx.cache.get(key) as CacheEntry | undefined;
      if (hit !== undefined && hit.observable !== undefined) {
        recordCacheHit(spec, ctx, hit, undefined);
        return hit.observable.subscribe(subscriber);
      }
      const replay = new ReplaySubject<unknown>();
      const exec = startMulti(spec, args, replay);
      ctx.cache.set(key, { observable: replay.asObservable(), execution: exec });
      return replay.subscribe(subscriber);
    }
    const exec = new Execution(
      spec,
      args,
      {
        emit: (value) => subscriber.next(value),
        value: () => subscriber.complete(),
        error: (error) => subscriber.error(error),
      },
      MODE_MULTI,
    );
    exec.start();
    return () => exec.cancel();
  });
}

function startMulti(spec: ExecutionSpec, args: readonly unknown[], into: ReplaySubject<unknown>): Execution {
  const exec = new Execution(
    spec,
    args,
    { emit: (v) => into.next(v), value: () => into.complete(), error: (e) => into.error(e) },
    MODE_MULTI,
  );
  exec.start();
  return exec;
}

/**
 * @internal hot: subscribes at once into a ReplaySubject, so the work starts whether or not anyone subscribes
 * and late subscribers get the replay. When every subscriber has unsubscribed before the result, the execution
 * is cancelled.
 */
export function observeHot(cold: Observable<unknown>): Observable<unknown> {
  const replay = new ReplaySubject<unknown>();
  let finished = false;
  const source = cold.subscribe({
    next: (v) => replay.next(v),
    error: (e) => {
      finished = true;
      replay.error(e);
    },
    complete: () => {
      finished = true;
      replay.complete();
    },
  });
  let subscribers = 0;
  return new Observable<unknown>((subscriber) => {
    subscribers++;
    const inner = replay.subscribe(subscriber);
    return () => {
      inner.unsubscribe();
      if (--subscribers === 0 && !finished) source.unsubscribe();
    };
  });
}
