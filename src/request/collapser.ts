import { AsyncResource } from 'node:async_hooks';
import type { CommandSettings } from '../config/options.js';
import { MAX_TIMEOUT_MS } from '../config/defaults.js';
import { normalizeSettings } from '../config/resolve.js';
import { getClock } from '../config/store.js';
import { expectFunction, expectKey, expectNumber, expectObject, expectOneOf } from '../config/validate.js';
import { FunctionalCommand } from '../command/functional.js';
import type { RunContext } from '../command/executor.js';
import { BreakwaterError, configError } from '../errors.js';
import { EV } from '../metrics/eventType.js';
import { registerCollapserSource, type CollapserSnapshot } from '../stream/hystrixJson.js';
import type { TimerHandle } from '../time/Clock.js';
import { CollapserMetrics, type CollapserSettings } from './CollapserMetrics.js';
import { RequestContext } from './RequestContext.js';

/** Where a collapser gathers calls into batches: per request context (Hystrix's default), or process-wide. */
export type CollapserScope = 'request' | 'global';

/**
 * Options of {@link collapser}: its own, plus any command settings for the batch command (`timeout`,
 * `circuitBreaker`, `isolation`, `pool`, `maxConcurrent`, `group`, …).
 */
export interface CollapserOptions<A, R> extends CommandSettings {
  /** The collapser key (the stream's `HystrixCollapser` name). The batch command's key is `${key}Batch`. */
  readonly key: string;
  /**
   * Runs one batch: gets the batched arguments in call order and returns one result per argument, in the same
   * order. A result that is an `Error` rejects only its own caller; a wrong number of results fails every caller
   * of the batch. Runs as a command, so it gets the command's `{ signal, commandKey }`.
   */
  readonly batch: (args: A[], context: RunContext) => PromiseLike<ReadonlyArray<R | Error>> | ReadonlyArray<R | Error>;
  /** How long (ms) a batch stays open after its first call. Hystrix: `timerDelayInMilliseconds`. @defaultValue 10 */
  readonly delay?: number;
  /** A batch this large runs at once and the next call opens a new one. Hystrix: `maxRequestsInBatch`. @defaultValue Infinity */
  readonly maxBatchSize?: number;
  /** `'request'`: batches gather calls of one `RequestContext` (calling outside one is an error); `'global'`: of the whole process. @defaultValue 'request' */
  readonly scope?: CollapserScope;
  /**
   * Collapser-level request cache: inside a `RequestContext`, calls with the same key share one result (the later
   * ones count as responses from cache and never join a batch). `undefined` means "do not cache this call".
   */
  readonly cacheKey?: (arg: A) => string | number | undefined;
}

/** A request collapser made by {@link collapser}. */
export interface CollapserHandle<A, R> {
  /** The collapser key. */
  readonly key: string;
  /** The key of the command that runs each batch (`${key}Batch`): its metrics, breaker and `configure` entry. */
  readonly commandKey: string;
  /** Adds `arg` to the open batch and resolves with its own result (or rejects with its own error). */
  execute(arg: A): Promise<R>;
}

interface Pending<R> {
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

/** One open batch: arguments and their callers, in call order. */
class Batch<A, R> {
  readonly args: A[] = [];
  readonly callers: Pending<R>[] = [];
  timer: TimerHandle | null = null;
}

const OWN_KEYS = ['key', 'batch', 'delay', 'maxBatchSize', 'scope', 'cacheKey'] as const;

/** Metrics and latest settings per collapser key (shared by collapsers with the same key, as in Hystrix). */
const registry = new Map<string, { metrics: CollapserMetrics; settings: CollapserSettings }>();
let registeredWithStream = false;

/** @internal one collapser. */
class Collapser<A, R> implements CollapserHandle<A, R> {
  readonly key: string;
  readonly commandKey: string;
  private readonly command: FunctionalCommand;
  private readonly batchFn: CollapserOptions<A, R>['batch'];
  private readonly delay: number;
  private readonly maxBatchSize: number;
  private readonly scope: CollapserScope;
  private readonly cacheKeyFn: ((arg: A) => unknown) | undefined;
  private readonly metrics: CollapserMetrics;
  /** The open batch of a global collapser. */
  private open: Batch<A, R> | null = null;

  constructor(options: CollapserOptions<A, R>) {
    const raw = expectObject(options, 'collapser');
    this.key = expectKey(raw.key, 'collapser.key');
    this.commandKey = `${this.key}Batch`;
    this.batchFn = expectFunction(raw.batch, 'collapser.batch');
    this.delay = raw.delay === undefined ? 10 : expectNumber(raw.delay, 'collapser.delay', { min: 0, max: MAX_TIMEOUT_MS, unit: 'ms' });
    this.maxBatchSize =
      raw.maxBatchSize === undefined || raw.maxBatchSize === Infinity
        ? Infinity
        : expectNumber(raw.maxBatchSize, 'collapser.maxBatchSize', { min: 1, integer: true, unit: 'or Infinity' });
    this.scope = raw.scope === undefined ? 'request' : expectOneOf(raw.scope, 'collapser.scope', ['request', 'global'] as const);
    this.cacheKeyFn = raw.cacheKey === undefined ? undefined : expectFunction(raw.cacheKey, 'collapser.cacheKey');
    const settings: Record<string, unknown> = {};
    for (const k of Object.keys(raw)) {
      if ((OWN_KEYS as readonly string[]).includes(k)) continue;
      // The batch command's functions are the collapser's own: `run` is `batch`, and errors go to each caller.
      if (k === 'run' || k === 'fallback') throw configError(`collapser.${k}`, 'absent (a collapser runs `batch`; each caller handles its own error)', raw[k], 'type');
      settings[k] = raw[k];
    }
    normalizeSettings(settings, 'collapser'); // so a bad setting is named `collapser.…`
    this.command = new FunctionalCommand({ ...settings, key: this.commandKey, run: (args: A[], ctx: RunContext) => this.checkedBatch(args, ctx) } as never, 'collapser');
    const settingsView: CollapserSettings = { maxBatchSize: this.maxBatchSize, delay: this.delay, requestCacheEnabled: this.cacheKeyFn !== undefined };
    let entry = registry.get(this.key);
    if (entry === undefined) {
      entry = { metrics: new CollapserMetrics(this.key, this.command.config.metrics), settings: settingsView };
      registry.set(this.key, entry);
    } else entry.settings = settingsView;
    this.metrics = entry.metrics;
    if (!registeredWithStream) {
      registeredWithStream = true;
      registerCollapserSource(allCollapsers);
    }
  }

  execute(arg: A): Promise<R> {
    const ctx = RequestContext.current();
    if (this.scope === 'request' && ctx === undefined) {
      return Promise.reject(
        new BreakwaterError(
          `breakwater: collapser '${this.key}' has scope 'request' but was called outside a request context; run the request inside RequestContext.run(), or use scope: 'global'`,
          'BW_NO_REQUEST_CONTEXT',
        ),
      );
    }
    if (this.cacheKeyFn !== undefined && ctx !== undefined) {
      let key: unknown;
      try {
        key = this.cacheKeyFn(arg);
      } catch (error) {
        return Promise.reject(error);
      }
      if (key !== undefined && key !== null) {
        const type = typeof key;
        if (type !== 'string' && type !== 'number' && type !== 'bigint' && type !== 'boolean') {
          // String() would map every object to "[object Object]": different arguments would share one result.
          return Promise.reject(new TypeError(`breakwater: collapser '${this.key}' cacheKey must return a string or a number (undefined: no caching), got ${type === 'object' ? 'an object' : `a ${type}`}`));
        }
        const slot = `${this.key}\u0000${String(key)}`;
        const hit = ctx.collapserCache.get(slot) as Promise<R> | undefined;
        if (hit !== undefined) {
          this.metrics.responseFromCache(getClock().now());
          return hit;
        }
        const promise = this.enqueue(arg, ctx);
        ctx.collapserCache.set(slot, promise);
        return promise;
      }
    }
    return this.enqueue(arg, ctx);
  }

  private enqueue(arg: A, ctx: RequestContext | undefined): Promise<R> {
    let batch = this.scope === 'request' ? (ctx!.collapsers.get(this) as Batch<A, R> | undefined) : (this.open ?? undefined);
    if (batch === undefined) {
      const opened = new Batch<A, R>();
      batch = opened;
      if (this.scope === 'request') ctx!.collapsers.set(this, opened);
      else this.open = opened;
      // A request batch runs in its request's context (a fake clock fires timers from the test's context).
      const fire = this.scope === 'request' ? AsyncResource.bind(() => this.fire(opened, ctx)) : () => this.fire(opened, undefined);
      opened.timer = getClock().setTimer(fire, this.delay, true); // callers wait on it: keep the process alive
    }
    const promise = new Promise<R>((resolve, reject) => {
      batch.args.push(arg);
      batch.callers.push({ resolve, reject });
    });
    if (batch.args.length >= this.maxBatchSize) this.fire(batch, ctx);
    return promise;
  }

  /** Closes `batch` (its timer fired or it is full) and runs it as one execution of the batch command. */
  private fire(batch: Batch<A, R>, ctx: RequestContext | undefined): void {
    if (batch.timer === null) return; // already fired
    batch.timer.cancel();
    batch.timer = null;
    if (this.scope === 'request') {
      if (ctx!.collapsers.get(this) === batch) ctx!.collapsers.delete(this);
    } else if (this.open === batch) this.open = null;
    if (this.scope === 'global') RequestContext.outside(() => this.runBatchCommand(batch));
    else this.runBatchCommand(batch);
  }

  private runBatchCommand(batch: Batch<A, R>): void {
    const size = batch.args.length;
    const now = getClock().now();
    this.metrics.batchExecuted(size, now);
    this.command.runtime.metrics.markMany(EV.COLLAPSED, now, size);
    const ctx = RequestContext.current();
    const logged = ctx?.log.length ?? 0;
    let result: Promise<unknown>;
    try {
      result = this.command.execute(batch.args);
    } catch (error) {
      // e.g. the batch command names an undeclared shared limiter: every caller gets the error (not the timer).
      for (const caller of batch.callers) caller.reject(error);
      return;
    }
    // Hystrix marks the batch command COLLAPSED when it is created: its log entry shows it from the start.
    if (ctx !== undefined && ctx.log.length > logged) ctx.log[ctx.log.length - 1]!.collapsed = size;
    result.then(
      (results) => {
        const values = results as ReadonlyArray<R | Error>;
        for (let i = 0; i < size; i++) {
          const value = values[i];
          if (value instanceof Error) batch.callers[i]!.reject(value);
          else batch.callers[i]!.resolve(value as R);
        }
      },
      (error: unknown) => {
        for (const caller of batch.callers) caller.reject(error);
      },
    );
  }

  /** The batch command's `run`: the user's batch, with its result count checked (a mismatch is a FAILURE). */
  private async checkedBatch(args: A[], ctx: RunContext): Promise<ReadonlyArray<R | Error>> {
    const results = await this.batchFn(args, ctx);
    if (!Array.isArray(results) || results.length !== args.length) {
      const got = Array.isArray(results) ? `${results.length} results` : `${results === null ? 'null' : typeof results}`;
      throw new BreakwaterError(
        `breakwater: collapser '${this.key}' batch returned ${got} for ${args.length} requests; it must return an array with one result per request, in order`,
        'BW_BATCH_RESULTS',
      );
    }
    return results;
  }
}

/**
 * Builds a request collapser (Hystrix's `HystrixCollapser`): calls to `execute(arg)` arriving within `delay` ms
 * of a batch's first call are gathered into one batch (split at `maxBatchSize`), which runs once as the command
 * `${key}Batch`, with its breaker, bulkhead and timeout. Each caller gets its own result or its own error; when
 * the batch command fails, every caller of that batch gets its error.
 *
 * @example
 * ```ts
 * const userById = collapser({
 *   key: 'GetUser',
 *   batch: async (ids: string[], { signal }) => fetchUsers(ids, signal), // one result per id, in order
 *   delay: 10, maxBatchSize: 100, timeout: 500,
 * });
 * await RequestContext.run(() => Promise.all([userById.execute('1'), userById.execute('2')])); // one batch
 * ```
 */
export function collapser<A, R>(options: CollapserOptions<A, R>): CollapserHandle<A, R> {
  return new Collapser(options);
}

/**
 * A snapshot of every collapser key's metrics (what the stream sends as `HystrixCollapser`), read from the
 * configured clock.
 *
 * @example
 * ```ts
 * for (const c of allCollapsers()) console.log(c.collapserKey, c.rollingBatches, c.batchSize.mean);
 * ```
 */
export function allCollapsers(): CollapserSnapshot[] {
  const now = getClock().now();
  return [...registry.values()].map(({ metrics, settings }) => metrics.snapshot(now, settings));
}

/** @internal forgets every collapser's metrics (for `resetBreakwater`). */
export function clearCollapsers(): void {
  registry.clear();
}
