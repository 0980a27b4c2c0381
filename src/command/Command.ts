import type { EventEmitter } from 'eventemitter3';
import type { Observable } from 'rxjs';
import type { CommandConfig, CommandSettings } from '../config/options.js';
import { normalizeSettings, resolveCommandConfig, type SettingsLayer } from '../config/resolve.js';
import { store } from '../config/store.js';
import { expectKey, expectObject } from '../config/validate.js';
import { CommandError } from '../errors.js';
import { runtimeFor, type CommandRuntime } from './CommandRuntime.js';
import type { CommandEvents } from './events.js';
import { ExecutionRecord, withRecord } from './ExecutionRecord.js';
import type { ExecutionSpec, RunContext } from './executor.js';
import { executeAsync, executeSync, observeHot, toObservableMulti, toObservableSingle, type CacheKeyFn } from './modes.js';
import { rxjsCore } from '../internal/lazyModules.js';

/** Options of a class-style command: the settings plus a required key. */
export interface CommandClassOptions extends CommandSettings {
  /** The command key. Required, non-empty. */
  readonly key: string;
}

/**
 * @internal shared by {@link Command} and {@link ObservableCommand}: config, runtime, execute-once guard. An instance
 * is its own {@link ExecutionRecord} (`executionEvents`, `isResponseShortCircuited`, …), filled by its execution.
 */
abstract class SingleUseCommand extends ExecutionRecord implements ExecutionSpec {
  /** @internal the key's runtime; a fresh one if the key expired between construction and execution. */ runtime: CommandRuntime;
  /** The resolved settings of this instance. */
  readonly config: CommandConfig;
  private readonly own: SettingsLayer;
  private used = false;
  /** @internal */ abstract readonly hasFallback: boolean;
  /** @internal its `invoke` calls a method (`run`, `construct`) of the subclass (a getter: no field per instance). */
  get plainRun(): boolean {
    return false;
  }

  constructor(options: CommandClassOptions) {
    const raw = expectObject(options, 'options');
    const key = expectKey(raw.key, 'key');
    const own = normalizeSettings(raw, '', ['key']);
    const config = resolveCommandConfig(key, [store.defaults, own, store.commands.get(key)]);
    const runtime = runtimeFor(config);
    super(runtime);
    this.own = own;
    this.config = config;
    this.runtime = runtime;
    this.runtime.apply(this.config, own); // always: configure() re-resolves the key with these own options
  }

  /** Events of this command key. */
  get events(): EventEmitter<CommandEvents> {
    this.revive();
    return this.runtime.events;
  }

  /** The key expired since this instance was built: take its fresh runtime, never the detached one. */
  private revive(): void {
    if (!this.runtime.released) return;
    this.runtime = runtimeFor(this.config);
    this.runtime.apply(this.config, this.own);
  }

  /** @internal */ abstract invoke(args: readonly unknown[], context: RunContext): unknown;
  /** @internal */ abstract invokeFallback(error: unknown, args: readonly unknown[]): unknown;

  /** The request-cache key; override it to enable request caching. `undefined` means no caching. */
  protected cacheKey(): string | number | undefined {
    return undefined;
  }

  /** @internal the cache-key function, or undefined when `cacheKey` is not overridden. */
  protected get cacheFn(): CacheKeyFn {
    return this.cacheKey === SingleUseCommand.prototype.cacheKey ? undefined : () => this.cacheKey();
  }

  /** @internal a cold Observable that claims the single execution when subscribed. */
  protected claimed<R>(open: (cache: CacheKeyFn) => Observable<unknown>): Observable<R> {
    return new (rxjsCore().Observable)<R>((subscriber) => {
      try {
        this.claim();
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      return withRecord(this, () => (open(this.cacheFn) as Observable<R>).subscribe(subscriber));
    });
  }

  /** @internal claims the single execution; throws the Hystrix "executed multiple times" error the second time. */
  protected claim(): void {
    if (this.used) {
      const cause = new Error('This instance can only be executed once. Please instantiate a new instance.');
      throw new CommandError(
        this.config.key,
        'BAD_REQUEST_EXCEPTION',
        `${this.config.key} command executed multiple times - this is not permitted.`,
        cause,
      );
    }
    this.used = true;
    this.revive();
  }
}

/**
 * A Hystrix-style command class: subclass it, implement `run`, optionally `fallback` and `cacheKey`, and execute
 * each instance once.
 *
 * @example
 * ```ts
 * class GetUser extends Command<User> {
 *   constructor(private readonly id: string) { super({ key: 'GetUser', group: 'Users' }); }
 *   protected run({ signal }: RunContext) { return fetchUser(this.id, signal); }
 *   protected override fallback() { return anonymousUser(this.id); }
 *   protected override cacheKey() { return this.id; }
 * }
 * const user = await new GetUser('42').execute();
 * ```
 */
export abstract class Command<R> extends SingleUseCommand {
  /** The work. Receives the execution's `{ signal, commandKey }`. */
  protected abstract run(context: RunContext): R | PromiseLike<R>;

  /**
   * The fallback; override it to have one. Receives what `run` threw, or a `CommandError` whose `failureType`
   * says why (timeout, short-circuit, rejection).
   */
  protected fallback(error: unknown): R | PromiseLike<R> {
    void error;
    throw new Error('No fallback available.');
  }

  /** @internal */
  get hasFallback(): boolean {
    return this.fallback !== Command.prototype.fallback;
  }

  /** @internal */
  invoke(_args: readonly unknown[], context: RunContext): unknown {
    return this.run(context);
  }

  /** @internal */
  invokeFallback(error: unknown): unknown {
    return this.fallback(error);
  }

  /** Runs once; resolves with the value or the fallback's, rejects with a `CommandError` or `BadRequestError`. */
  execute(): Promise<R> {
    try {
      this.claim();
    } catch (error) {
      return Promise.reject(error);
    }
    return withRecord(this, () => executeAsync(this, [], this.cacheFn)) as Promise<R>;
  }

  /** Runs a synchronous `run` once and returns its value, or throws. */
  executeSync(): R {
    this.claim();
    return withRecord(this, () => executeSync(this, [], this.cacheFn)) as R;
  }

  /** Hot: starts now. */
  observe(): Observable<R> {
    return observeHot(this.toObservable()) as Observable<R>;
  }

  /** Cold: starts on subscribe; a second subscription errors (single use). */
  toObservable(): Observable<R> {
    return this.claimed((cache) => toObservableSingle(this, [], cache));
  }
}

/**
 * A Hystrix-style observable command: `construct()` returns an Observable of many values (EMIT per value,
 * SUCCESS at completion); `resumeWithFallback()` continues the stream on failure.
 *
 * @example
 * ```ts
 * class Prices extends ObservableCommand<number> {
 *   constructor() { super({ key: 'Prices' }); }
 *   protected construct({ signal }: RunContext) { return interval(100).pipe(take(3)); }
 *   protected override resumeWithFallback() { return of(0); }
 * }
 * new Prices().toObservable().subscribe(console.log);
 * ```
 */
export abstract class ObservableCommand<R> extends SingleUseCommand {
  /** The work: an Observable of values. */
  protected abstract construct(context: RunContext): Observable<R>;

  /** The fallback stream; override it to have one. */
  protected resumeWithFallback(error: unknown): Observable<R> {
    void error;
    throw new Error('No fallback available.');
  }

  /** @internal */
  get hasFallback(): boolean {
    return this.resumeWithFallback !== ObservableCommand.prototype.resumeWithFallback;
  }

  /** @internal */
  invoke(_args: readonly unknown[], context: RunContext): unknown {
    return this.construct(context);
  }

  /** @internal */
  invokeFallback(error: unknown): unknown {
    return this.resumeWithFallback(error);
  }

  /** Hot: subscribes now, replays to late subscribers. */
  observe(): Observable<R> {
    return observeHot(this.toObservable()) as Observable<R>;
  }

  /** Cold: starts on subscribe; a second subscription errors (single use). */
  toObservable(): Observable<R> {
    return this.claimed((cache) => toObservableMulti(this, [], cache));
  }
}
