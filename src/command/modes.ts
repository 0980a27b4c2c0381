// rxjs is loaded at the first observable call (start-up cost): see src/internal/lazyModules.ts.
import type { Observable } from 'rxjs/internal/Observable';
import type { ReplaySubject } from 'rxjs/internal/ReplaySubject';
import { rxjsCore } from '../internal/lazyModules.js';
import { getClock } from '../config/store.js';
import { BreakwaterError } from '../errors.js';
import { EV } from '../metrics/eventType.js';
import { LogEntry, RequestContext } from '../request/RequestContext.js';
import { takeHitRecord, type ExecutionRecord } from './ExecutionRecord.js';
import { Execution, MODE_ASYNC, MODE_MULTI, MODE_SYNC, type ExecutionSpec } from './executor.js';
import { emitBoth, hasListeners } from './globalEvents.js';
import { executeLeanAsync, executeLeanSync, leanCall, NO_SINK, readSync } from './lean.js';

/** @internal what the request cache holds for one command key + cache key. */
interface CacheEntry {
  readonly promise?: Promise<unknown>;
  readonly observable?: Observable<unknown>;
  readonly execution: Execution | null;
  /** Observable subscribers still attached (the original's and the hits'): at 0 the shared execution is cancelled. */
  subscribers?: number;
  /** An `execute()` caller shares it: a Promise cannot be cancelled, so the execution runs to its end. */
  pinned?: boolean;
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

/**
 * One request-cache hit: its request-log entry and (when asked for) its {@link ExecutionRecord}. The hit shows the
 * original's events plus RESPONSE_FROM_CACHE, copied when the original completes; a hit whose subscriber leaves
 * first shows RESPONSE_FROM_CACHE, CANCELLED (as Hystrix's `HystrixCommandResponseFromCache`).
 */
class CacheHit {
  private cancelled = false;

  constructor(
    private readonly spec: ExecutionSpec,
    private readonly entry: CacheEntry,
    private readonly log: LogEntry | null,
    private readonly record: ExecutionRecord | null,
  ) {}

  /** Copies the original's events (and emission counts) into the hit's log entry. */
  readonly copy = (): void => {
    if (this.cancelled || this.log === null) return;
    const original = this.entry.execution;
    this.log.copyCached(original?.eventList() ?? [], original?.logEntry ?? null);
  };

  /** The hit's subscriber left before the shared execution finished. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.spec.runtime.metrics.mark(EV.CANCELLED, getClock().now());
    this.record?.hitCancelled();
    if (this.log !== null) this.log.events = HIT_CANCELLED_EVENTS;
  }
}

const HIT_CANCELLED_EVENTS = Object.freeze(['RESPONSE_FROM_CACHE', 'CANCELLED'] as const);

/** Records a cache hit: RESPONSE_FROM_CACHE in metrics, an event, a request-log entry and a waiting record. */
function recordCacheHit(spec: ExecutionSpec, ctx: RequestContext, entry: CacheEntry, settled: Promise<unknown> | undefined): CacheHit {
  const rt = spec.runtime;
  const now = getClock().now();
  rt.lastUsedAt = now;
  rt.metrics.mark(EV.RESPONSE_FROM_CACHE, now);
  if (hasListeners(rt.emitter, 'responseFromCache')) {
    emitBoth(rt.emitter, 'responseFromCache', { commandKey: spec.config.key, eventType: 'RESPONSE_FROM_CACHE', latencyMs: 0 });
  }
  let log: LogEntry | null = null;
  if (spec.config.requestLog) {
    log = new LogEntry(spec.config.key);
    log.latency = 0;
    ctx.record(log); // capped at 1000 entries, as Hystrix
  }
  const hit = new CacheHit(spec, entry, log, takeHitRecord(entry.execution, rt));
  // the original's events with RESPONSE_FROM_CACHE in Hystrix's order, and its emission counts
  hit.copy();
  if (settled !== undefined) settled.then(hit.copy, hit.copy);
  return hit;
}

/**
 * A subscriber of a cached, shared execution left: when it was the last one and no `execute()` caller shares the
 * execution, the execution is cancelled (CANCELLED, signal aborted) and leaves the cache, as Hystrix's
 * `HystrixCachedObservable` does when its subscriber count drops to zero.
 */
function leaveShared(ctx: RequestContext, key: string, entry: CacheEntry): void {
  entry.subscribers = (entry.subscribers ?? 1) - 1;
  if (entry.subscribers > 0 || entry.pinned === true) return;
  const exec = entry.execution;
  if (exec === null || exec.done) return;
  exec.cancel();
  if (ctx.cache.get(key) === entry) ctx.cache.delete(key);
}

/** @internal async mode without a request cache: the lean flow, else one Execution and one Promise. */
export function startAsync(spec: ExecutionSpec, args: readonly unknown[]): Promise<unknown> {
  return asyncLean(spec) ? executeLeanAsync(spec, args, true) : startExecution(spec, args);
}

/** @internal whether an `execute()` takes the lean flow (see lean.ts): it has a timeout or its circuit may refuse it. */
export function asyncLean(spec: ExecutionSpec): boolean {
  // a timed plan first: a plain field, where `mayRefuse` is a getter V8 keeps out of line here
  return (spec.runtime.planFor(spec.config).timed || spec.runtime.breaker.mayRefuse) && leanCall(spec);
}

/** @internal async mode, the full flow: one Execution, one Promise. */
export function startExecution(spec: ExecutionSpec, args: readonly unknown[]): Promise<unknown> {
  const exec = new Execution(spec, args, null, MODE_ASYNC);
  exec.start();
  return exec.promise();
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
        hit.pinned = true;
        recordCacheHit(spec, ctx, hit, hit.promise);
        return hit.promise;
      }
      const exec = new Execution(spec, args, null, MODE_ASYNC);
      exec.start();
      const promise = exec.promise();
      ctx.cache.set(key, { promise, execution: exec, pinned: true });
      return promise;
    }
  }
  return startAsync(spec, args);
}

/** @internal sync mode: the value, or a throw. */
export function executeSync(spec: ExecutionSpec, args: readonly unknown[], cacheKey: CacheKeyFn): unknown {
  // The common call (no cache key, nobody watching) first, the rest out of line: this is inlined into the caller with
  // the start of the lean call, and code here that the call does not run would count against the bound on what V8
  // inlines into one optimised function all the same (see executeLeanSync).
  return cacheKey === undefined && leanCall(spec) ? executeLeanSync(spec, args) : executeSyncFlow(spec, args, cacheKey);
}

/** {@link executeSync} with a request cache, or in the full flow. */
function executeSyncFlow(spec: ExecutionSpec, args: readonly unknown[], cacheKey: CacheKeyFn): unknown {
  const slot = cacheSlot(spec, cacheKey, args);
  if (slot !== undefined) {
    const hit = slot[0].cache.get(slot[1]) as CacheEntry | undefined;
    if (hit !== undefined && hit.execution !== null && hit.execution.done && hit.promise === undefined && hit.observable === undefined) {
      recordCacheHit(spec, slot[0], hit, undefined);
      return readSync(hit.execution);
    }
  }
  if (slot === undefined && leanCall(spec)) return executeLeanSync(spec, args);
  const exec = new Execution(spec, args, NO_SINK, MODE_SYNC);
  exec.start();
  // Never replace an entry that async or observable twins share (a sync call cannot wait for it).
  if (slot !== undefined && !slot[0].cache.has(slot[1])) slot[0].cache.set(slot[1], { execution: exec });
  return readSync(exec);
}

/** @internal cold single-value Observable: starts on subscribe; unsubscribing early cancels (CANCELLED). */
export function toObservableSingle(spec: ExecutionSpec, args: readonly unknown[], cacheKey: CacheKeyFn): Observable<unknown> {
  return new (rxjsCore().Observable)<unknown>((subscriber) => {
    let slot: [RequestContext, string] | undefined;
    try {
      slot = cacheSlot(spec, cacheKey, args);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    if (slot !== undefined) {
      // Shared between callers: cancelled only when every subscriber has left (and no execute() caller shares it).
      const [ctx, key] = slot;
      let entry = ctx.cache.get(key) as CacheEntry | undefined;
      let hit: CacheHit | null = null;
      if (entry !== undefined && entry.promise !== undefined) {
        hit = recordCacheHit(spec, ctx, entry, entry.promise);
      } else {
        const exec = new Execution(spec, args, null, MODE_ASYNC);
        exec.start();
        entry = { promise: exec.promise(), execution: exec, subscribers: 0 };
        ctx.cache.set(key, entry);
      }
      const shared = entry;
      shared.subscribers = (shared.subscribers ?? 0) + 1;
      let finished = false;
      shared.promise!.then(
        (value) => {
          if (finished) return;
          finished = true;
          subscriber.next(value);
          subscriber.complete();
        },
        (error) => {
          if (finished) return;
          finished = true;
          subscriber.error(error);
        },
      );
      return () => {
        if (finished) return;
        finished = true;
        hit?.cancel();
        leaveShared(ctx, key, shared);
      };
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
  return new (rxjsCore().Observable)<unknown>((subscriber) => {
    let slot: [RequestContext, string] | undefined;
    try {
      slot = cacheSlot(spec, cacheKey, args);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    if (slot !== undefined) {
      const [ctx, key] = slot;
      let entry = ctx.cache.get(key) as CacheEntry | undefined;
      let hit: CacheHit | null = null;
      if (entry !== undefined && entry.observable !== undefined) {
        hit = recordCacheHit(spec, ctx, entry, undefined);
      } else {
        const replay = new (rxjsCore().ReplaySubject)<unknown>();
        const exec = startMulti(spec, args, replay);
        entry = { observable: replay.asObservable(), execution: exec, subscribers: 0 };
        ctx.cache.set(key, entry);
      }
      const shared = entry;
      shared.subscribers = (shared.subscribers ?? 0) + 1;
      let finished = false;
      const inner = shared.observable!.subscribe({
        next: (value) => subscriber.next(value),
        error: (error) => {
          finished = true;
          hit?.copy(); // the original's final events, taken when it completes
          subscriber.error(error);
        },
        complete: () => {
          finished = true;
          hit?.copy();
          subscriber.complete();
        },
      });
      return () => {
        inner.unsubscribe();
        if (finished) return;
        finished = true;
        hit?.cancel();
        leaveShared(ctx, key, shared);
      };
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
  const replay = new (rxjsCore().ReplaySubject)<unknown>();
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
  return new (rxjsCore().Observable)<unknown>((subscriber) => {
    subscribers++;
    const inner = replay.subscribe(subscriber);
    return () => {
      inner.unsubscribe();
      if (--subscribers === 0 && !finished) source.unsubscribe();
    };
  });
}
