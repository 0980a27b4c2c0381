import type { EventEmitter } from 'eventemitter3';
import type { Observable } from 'rxjs';
import type { CommandConfig, CommandSettings } from '../config/options.js';
import { COMMAND_FUNCTION_KEYS, normalizeSettings, resolveCommandConfig, type SettingsLayer } from '../config/resolve.js';
import { store } from '../config/store.js';
import { expectFunction, expectKey, expectObject } from '../config/validate.js';
import { runtimeFor, type CommandRuntime } from './CommandRuntime.js';
import type { CommandEvents } from './events.js';
import type { ExecutionSpec, RunContext } from './executor.js';
import { executeLeanAsync, LeanRun } from './lean.js';
import { asyncLean, executeAsync, executeSync, observeHot, startExecution, toObservableSingle, type CacheKeyFn } from './modes.js';

/**
 * The caller's arguments of a `run` function: its parameters without the trailing {@link RunContext} (when the
 * last parameter accepts a RunContext, or is untyped, it is taken to be the context).
 */
export type ArgsOf<F> = F extends (...args: infer P) => unknown
  ? P extends [unknown, unknown, ...unknown[]]
    ? AllAny<P> extends true
      ? [UntypedRunParameters] // `(a, b) => …`: is b an argument or the context? Refuse to guess.
      : LeadingArgs<P>
    : LeadingArgs<P>
  : never;

/**
 * What `execute()` asks for when every parameter of `run` is untyped (`run: async (a, b) => …`): which one is the
 * context cannot be told, so the call does not compile and the message says to type them.
 */
export type UntypedRunParameters = "breakwater: type run's parameters (with all of them untyped, the last one would be taken for the RunContext)";

type AllAny<P extends unknown[]> = P extends [infer H, ...infer T] ? (0 extends 1 & H ? AllAny<T> : false) : true;

/** The parameters without a trailing context (a last parameter that accepts a RunContext, or is untyped). */
type LeadingArgs<P extends unknown[]> = P extends [...infer A, infer Last]
    ? unknown extends Last
      ? 0 extends 1 & Last
        ? A // an untyped (any) last parameter is the context
        : P // a last parameter declared `unknown` is an argument
      : RunContext extends Last
        ? A
        : P
    : P;

/** The value a `run` function produces (a Promise's value, unwrapped). */
export type ResultOf<F> = F extends (...args: any[]) => infer R ? Awaited<R> : never;

/**
 * Options of {@link command}: the settings plus the functions.
 *
 * @typeParam F - the type of `run`: the caller's arguments ({@link ArgsOf}) and the value ({@link ResultOf}) come
 *   from it.
 * @typeParam FR - what the fallback returns.
 */
export interface CommandOptions<F extends (...args: any[]) => unknown, FR = ResultOf<F>> extends CommandSettings {
  /** The command key: metrics, circuit breaker and semaphores are per key. Required, non-empty. */
  readonly key: string;
  /** The work: called with the caller's arguments and then a {@link RunContext} (`{ signal, commandKey }`). */
  readonly run: F;
  /**
   * Called when the primary path does not give a value: with what `run` threw (FAILURE), or with a
   * `CommandError` whose `failureType` says why (TIMEOUT, SHORT_CIRCUIT, REJECTED_*, RATE_LIMITED), then the
   * caller's arguments. Not called for a `BadRequestError`.
   */
  readonly fallback?: (error: unknown, ...args: ArgsOf<F>) => FR | PromiseLike<FR>;
  /** Request-cache key for a call; `undefined` means "do not cache this call". */
  readonly cacheKey?: (...args: ArgsOf<F>) => string | number | undefined;
}

/**
 * The fix named by the compile error of `executeSync()` on a command whose `run` returns a Promise (the `this` type
 * of `executeSync` then has this one property, which the handle lacks).
 */
export type SyncRunNeeded = 'breakwater: executeSync() needs a synchronous run, and this run returns a Promise: use execute()';

/**
 * A reusable command made by {@link command}: every call is one execution.
 *
 * @typeParam A - the caller's arguments.
 * @typeParam R - the value.
 * @typeParam Sync - `false` when `run` returns a Promise: `executeSync()` is then a compile error naming the fix.
 */
export interface CommandHandle<A extends unknown[], R, Sync extends boolean = boolean> {
  /** The command key. */
  readonly key: string;
  /** Events of this command key (shared by every handle with the same key). */
  readonly events: EventEmitter<CommandEvents>;
  /** The resolved settings the next execution will use. */
  readonly config: CommandConfig;
  /** Async mode: resolves with the value (or the fallback's), rejects with a `CommandError` or a `BadRequestError`. */
  execute(...args: A): Promise<R>;
  /**
   * Sync mode: for a synchronous `run`; returns the value or throws. On a `run` typed to return a Promise it does not
   * compile ({@link SyncRunNeeded}); an untyped one returning a Promise is refused at run time with a TypeError.
   */
  executeSync(this: Sync extends false ? { readonly [K in SyncRunNeeded]: never } : unknown, ...args: A): R;
  /** Hot Observable: starts now; late subscribers get the replay. */
  observe(...args: A): Observable<R>;
  /** Cold Observable: starts on subscribe; unsubscribing before the value cancels (CANCELLED, signal aborted). */
  toObservable(...args: A): Observable<R>;
}

const RUN_NAMES = { run: 'run', fallback: 'fallback' } as const;

/** @internal a handle is its own execution spec: nothing is allocated per call for it. */
export class FunctionalCommand implements ExecutionSpec, CommandHandle<unknown[], unknown> {
  readonly key: string;
  /** The key's runtime; replaced by a fresh one when the key expired (see {@link FunctionalCommand.refresh}). */
  runtime: CommandRuntime;
  config: CommandConfig;
  readonly hasFallback: boolean;
  private readonly own: SettingsLayer;
  private version: number;
  /** The user's function (`construct` for an observable command), called as `this.run(...args, context)`. */
  readonly run: (...args: unknown[]) => unknown;
  readonly plainRun = true;
  private readonly fallbackFn: ((error: unknown, ...args: unknown[]) => unknown) | undefined;
  protected readonly cacheKeyFn: CacheKeyFn;

  /**
   * @param where - the name of the options object in error messages.
   * @param names - the option names of the work and its fallback (`construct`/`resumeWithFallback` for
   *   observable commands).
   */
  constructor(options: object, where = 'command', names: { readonly run: string; readonly fallback: string } = RUN_NAMES) {
    const raw = expectObject(options, where);
    this.key = expectKey(raw.key, 'key');
    this.run = expectFunction(raw[names.run], names.run);
    this.fallbackFn = raw[names.fallback] === undefined ? undefined : expectFunction(raw[names.fallback], names.fallback);
    const cacheKey = raw.cacheKey === undefined ? undefined : expectFunction(raw.cacheKey, 'cacheKey');
    this.cacheKeyFn = cacheKey === undefined ? undefined : (args) => cacheKey(...args);
    this.hasFallback = this.fallbackFn !== undefined;
    this.own = normalizeSettings(raw, '', [...COMMAND_FUNCTION_KEYS, names.run, names.fallback]);
    this.version = store.version;
    this.config = resolveCommandConfig(this.key, [store.defaults, this.own, store.commands.get(this.key)]);
    this.runtime = runtimeFor(this.config);
    this.runtime.apply(this.config, this.own);
  }

  get events(): EventEmitter<CommandEvents> {
    return (this.runtime.released ? this.revive() : this.runtime).events;
  }

  /**
   * Re-resolves the config when `configure()` changed something, and makes the key's runtime follow it. A runtime
   * released by key expiry (or `resetBreakwater()`) is replaced first, so a held handle never writes into one that
   * the registries, the stream and Prometheus no longer see.
   */
  protected refresh(): void {
    // the common answer (nothing changed) in a few reads; the rest out of line, so that every call path that starts
    // here stays small enough for V8 to inline into its caller
    if (this.version !== store.version || this.runtime.released || this.runtime.config !== this.config) this.reload();
  }

  /** {@link FunctionalCommand.refresh} when the store changed, the key expired or its runtime holds another config. */
  private reload(): void {
    if (this.version !== store.version) {
      this.version = store.version;
      this.config = resolveCommandConfig(this.key, [store.defaults, this.own, store.commands.get(this.key)]);
    }
    const rt = this.runtime.released ? this.revive() : this.runtime;
    if (rt.config !== this.config) rt.apply(this.config, this.own);
  }

  /** The key expired while this handle was held: start it afresh (or join the runtime another handle revived). */
  private revive(): CommandRuntime {
    const rt = (this.runtime = runtimeFor(this.config));
    rt.apply(this.config, this.own);
    return rt;
  }

  invoke(args: readonly unknown[], context: RunContext): unknown {
    // a call without arguments takes no switch: small enough for the lean flow to inline with everything else
    return args.length === 0 ? this.run(context) : this.invokeWith(args, context);
  }

  private invokeWith(args: readonly unknown[], context: RunContext): unknown {
    switch (args.length) {
      case 1:
        return this.run(args[0], context);
      case 2:
        return this.run(args[0], args[1], context);
      default:
        return this.run(...args, context);
    }
  }

  invokeFallback(error: unknown, args: readonly unknown[]): unknown {
    // as invoke: a call without arguments takes no switch
    return args.length === 0 ? this.fallbackFn!(error) : this.invokeFallbackWith(error, args);
  }

  private invokeFallbackWith(error: unknown, args: readonly unknown[]): unknown {
    switch (args.length) {
      case 1:
        return this.fallbackFn!(error, args[0]);
      case 2:
        return this.fallbackFn!(error, args[0], args[1]);
      default:
        return this.fallbackFn!(error, ...args);
    }
  }

  execute(...args: unknown[]): Promise<unknown> {
    this.refresh();
    if (this.cacheKeyFn !== undefined) return executeAsync(this, args, this.cacheKeyFn);
    // startAsync's choice written out, and run called here, not in executeLeanAsync: between the caller and run,
    // `execute` is then the only breakwater frame, which a fresh Error made in run decodes with its stack (see there)
    if (!asyncLean(this)) return startExecution(this, args);
    const run = executeLeanAsync(this, args, false);
    if (!(run instanceof LeanRun)) return run;
    let result: unknown;
    try {
      result = args.length === 0 ? this.run(run) : this.invoke(args, run);
    } catch (error) {
      run.error(error);
      return run.promise;
    }
    run.follow(result);
    return run.promise;
  }

  executeSync(...args: unknown[]): unknown {
    this.refresh();
    return executeSync(this, args, this.cacheKeyFn);
  }

  toObservable(...args: unknown[]): Observable<unknown> {
    this.refresh();
    return toObservableSingle(this, args, this.cacheKeyFn);
  }

  observe(...args: unknown[]): Observable<unknown> {
    return observeHot(this.toObservable(...args));
  }
}

/**
 * Builds a reusable command: `run` wrapped in a circuit breaker, a bulkhead, a timeout and an optional fallback,
 * with every outcome recorded in the key's rolling metrics. Options are validated now: a bad one throws a
 * `TypeError`/`RangeError` naming it.
 *
 * @typeParam F - the type of `run`. Type its parameters: an untyped or `unknown` last parameter is taken to be
 *   the {@link RunContext}.
 * @typeParam FR - what the fallback returns, inferred from it.
 * @example
 * ```ts
 * const getUser = command({
 *   key: 'GetUser', group: 'Users', timeout: 500,
 *   run: async (id: string, { signal }) => fetchUser(id, signal),
 *   fallback: (error, id) => ({ id, name: 'anonymous' }),
 * });
 * const user = await getUser.execute('42');
 * ```
 */
export function command<F extends (...args: any[]) => unknown, FR = never>(
  options: CommandOptions<F, FR>,
): CommandHandle<ArgsOf<F>, ResultOf<F> | FR, IsSyncRun<F>> {
  return new FunctionalCommand(options) as unknown as CommandHandle<ArgsOf<F>, ResultOf<F> | FR, IsSyncRun<F>>;
}

/** `false` when `run` is declared to return a Promise (or any thenable), else `true`. */
export type IsSyncRun<F> = F extends (...args: any[]) => infer R
  ? [R] extends [never]
    ? true // a run that only throws
    : [R] extends [PromiseLike<unknown>]
      ? 0 extends 1 & R
        ? true // any
        : false
      : true
  : true;
