import type { EventEmitter } from 'eventemitter3';
import type { Observable } from 'rxjs';
import type { CommandConfig, CommandSettings } from '../config/options.js';
import { COMMAND_FUNCTION_KEYS, normalizeSettings, resolveCommandConfig, type SettingsLayer } from '../config/resolve.js';
import { store } from '../config/store.js';
import { expectFunction, expectKey, expectObject } from '../config/validate.js';
import { runtimeFor, type CommandRuntime } from './CommandRuntime.js';
import type { CommandEvents } from './events.js';
import type { Execution, ExecutionSpec } from './executor.js';
import type { ArgsOf } from './functional.js';
import { observeHot, toObservableMulti, type CacheKeyFn } from './modes.js';

/** The values of a `construct` function's Observable. */
export type EmittedBy<F> = F extends (...args: any[]) => Observable<infer R> ? R : never;

/**
 * Options of {@link observableCommand}.
 *
 * @typeParam F - the type of `construct`: the caller's arguments ({@link ArgsOf}) and the values
 *   ({@link EmittedBy}) come from it.
 */
export interface ObservableCommandOptions<F extends (...args: any[]) => Observable<unknown>> extends CommandSettings {
  /** The command key. */
  readonly key: string;
  /** The work: the caller's arguments, then a {@link RunContext}; returns an Observable of many values. */
  readonly construct: F;
  /** The fallback stream, appended after values already emitted. */
  readonly resumeWithFallback?: (error: unknown, ...args: ArgsOf<F>) => Observable<EmittedBy<F>>;
  /** Request-cache key. */
  readonly cacheKey?: (...args: ArgsOf<F>) => string | number | undefined;
}

/** A reusable multi-value command made by {@link observableCommand}. */
export interface ObservableCommandHandle<A extends unknown[], R> {
  /** The command key. */
  readonly key: string;
  /** Events of this command key (shared by every command with the same key). */
  readonly events: EventEmitter<CommandEvents>;
  /** The resolved settings the next execution will use. */
  readonly config: CommandConfig;
  /** Hot: subscribes now and replays. */
  observe(...args: A): Observable<R>;
  /** Cold: starts on subscribe; unsubscribing cancels (CANCELLED, signal aborted). */
  toObservable(...args: A): Observable<R>;
}

class FunctionalObservableCommand implements ExecutionSpec {
  readonly key: string;
  readonly runtime: CommandRuntime;
  config: CommandConfig;
  readonly hasFallback: boolean;
  private readonly own: SettingsLayer;
  private version: number;
  private readonly constructFn: (...args: unknown[]) => unknown;
  private readonly fallbackFn: ((error: unknown, ...args: unknown[]) => unknown) | undefined;
  private readonly cacheKeyFn: CacheKeyFn;

  constructor(options: ObservableCommandOptions<(...args: any[]) => Observable<unknown>>) {
    const raw = expectObject(options, 'observableCommand');
    this.key = expectKey(raw.key, 'key');
    this.constructFn = expectFunction(raw.construct, 'construct');
    this.fallbackFn = raw.resumeWithFallback === undefined ? undefined : expectFunction(raw.resumeWithFallback, 'resumeWithFallback');
    const cacheKey = raw.cacheKey === undefined ? undefined : expectFunction(raw.cacheKey, 'cacheKey');
    this.cacheKeyFn = cacheKey === undefined ? undefined : (args) => cacheKey(...args);
    this.hasFallback = this.fallbackFn !== undefined;
    this.own = normalizeSettings(raw, '', [...COMMAND_FUNCTION_KEYS, 'construct', 'resumeWithFallback']);
    this.version = store.version;
    this.config = resolveCommandConfig(this.key, [store.defaults, this.own, store.commands.get(this.key)]);
    this.runtime = runtimeFor(this.config);
    this.runtime.apply(this.config, this.own);
  }

  get events(): EventEmitter<CommandEvents> {
    return this.runtime.events;
  }

  invoke(exec: Execution): unknown {
    return this.constructFn(...exec.args, exec);
  }

  invokeFallback(error: unknown, exec: Execution): unknown {
    return this.fallbackFn!(error, ...exec.args);
  }

  toObservable(...args: unknown[]): Observable<unknown> {
    if (this.version !== store.version) {
      this.version = store.version;
      this.config = resolveCommandConfig(this.key, [store.defaults, this.own, store.commands.get(this.key)]);
    }
    if (this.runtime.config !== this.config) this.runtime.apply(this.config, this.own);
    return toObservableMulti(this, args, this.cacheKeyFn);
  }

  observe(...args: unknown[]): Observable<unknown> {
    return observeHot(this.toObservable(...args));
  }
}

/**
 * Builds a reusable multi-value command (Hystrix's `HystrixObservableCommand`): EMIT per value, SUCCESS on
 * completion; on failure the fallback's values follow those already emitted; unsubscribing cancels.
 *
 * @typeParam F - the type of `construct`, whose Observable gives the values.
 * @example
 * ```ts
 * const ticks = observableCommand({
 *   key: 'Ticks',
 *   construct: (n: number, { signal }) => interval(10).pipe(take(n)),
 *   resumeWithFallback: () => of(-1),
 * });
 * ticks.toObservable(3).subscribe(console.log); // 0 1 2
 * ```
 */
export function observableCommand<F extends (...args: any[]) => Observable<unknown>>(
  options: ObservableCommandOptions<F>,
): ObservableCommandHandle<ArgsOf<F>, EmittedBy<F>> {
  return new FunctionalObservableCommand(options as ObservableCommandOptions<(...args: any[]) => Observable<unknown>>) as unknown as ObservableCommandHandle<
    ArgsOf<F>,
    EmittedBy<F>
  >;
}
