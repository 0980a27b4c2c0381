// @internal machinery of @HystrixCommand (not re-exported): one decorated method, its wrapper and its commands.
// rxjs is loaded at the first call (start-up cost): see src/internal/lazyModules.ts.
import type { Observable } from 'rxjs/internal/Observable';
import { rxjsCore, rxjsCreation } from '../internal/lazyModules.js';
import { existingRuntime, type CommandRuntime } from '../command/CommandRuntime.js';
import type { RunContext } from '../command/executor.js';
import { command, type CommandHandle } from '../command/functional.js';
import { observableCommand, type ObservableCommandHandle } from '../command/observable.js';
import { BadRequestError, configError } from '../errors.js';
import { executionStorage } from './currentExecution.js';
import type { HystrixCommandMode } from './HystrixCommand.js';

/** A method, as the decorator handles it. */
export type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** The options, read and validated once when `@HystrixCommand(…)` is evaluated. */
export interface DecoratorSpec {
  readonly key: string | undefined;
  readonly group: string | undefined;
  readonly mode: HystrixCommandMode | undefined;
  readonly fallback: string | AnyFunction | undefined;
  readonly cacheKey: string | AnyFunction | undefined;
  /** The `CommandSettings` part, copied (later changes to the caller's object have no effect). */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** Where a decorated method lives. */
export interface Site {
  /** The method's name for keys and messages (`getUser`, `#secret`, `[Symbol(id)]`). */
  readonly name: string;
  /** The property key, to find the declaring class; `undefined` for a private method. */
  readonly property: string | symbol | undefined;
  /** The declaring class's name, once known. */
  owner: string | undefined;
  /** Whether fallback / cacheKey names were checked against the class. */
  checked: boolean;
}

/** Checks that a fallback / cacheKey given by name is a method of `holder` (a prototype, an instance or a class). */
export function checkNames(spec: DecoratorSpec, holder: unknown, site: Site): void {
  for (const option of ['fallback', 'cacheKey'] as const) {
    const ref = spec[option];
    if (typeof ref !== 'string') continue;
    const fn = holder === null || holder === undefined ? undefined : (holder as Record<string, unknown>)[ref];
    if (typeof fn !== 'function') throw configError(option, `the name of a method of ${site.owner ?? 'the class'} (for ${site.owner}.${site.name})`, ref, 'range');
  }
  site.checked = true;
}

/** The class that declares `wrapper` under `property`, found on `instance`'s prototype chain. */
function declaringClassName(instance: unknown, property: string | symbol | undefined, wrapper: AnyFunction): string {
  if (instance === null || instance === undefined) {
    throw new TypeError('breakwater: a @HystrixCommand method was called without `this`; call it on an instance (or bind it)');
  }
  if (property !== undefined) {
    for (let proto = Object.getPrototypeOf(instance) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
      if (Object.getOwnPropertyDescriptor(proto, property)?.value === wrapper) return classNameOf(proto.constructor);
    }
  }
  // Private methods, or another decorator wrapped this one: the instance's own class.
  return classNameOf((instance as object).constructor);
}

export function classNameOf(ctor: unknown): string {
  const name = typeof ctor === 'function' ? ctor.name : '';
  return name === '' ? 'AnonymousClass' : name;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function describeResult(value: unknown): string {
  if (isThenable(value)) return 'a Promise';
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function toObservable(value: unknown): Observable<unknown> {
  if (rxjsCore().isObservable(value)) return value;
  // `from`/`of` bring most of rxjs's scheduling modules: loaded at the first call that needs them (start-up cost)
  if (isThenable(value)) return rxjsCreation().from(value);
  return rxjsCreation().of(value);
}

const call0 = (method: AnyFunction, self: unknown): unknown => method.call(self);
const call1 = (method: AnyFunction, self: unknown, a: unknown): unknown => method.call(self, a);
const call2 = (method: AnyFunction, self: unknown, a: unknown, b: unknown): unknown => method.call(self, a, b);
const callN = (method: AnyFunction, self: unknown, args: unknown[]): unknown => method.apply(self, args);

/**
 * Runs the method inside its execution: `args` is what the command's run receives, `(instance, ...callerArgs, ctx)`;
 * the method gets `this` = instance and exactly the caller's arguments.
 */
function runMethod(method: AnyFunction, args: unknown[]): unknown {
  const n = args.length;
  const ctx = args[n - 1] as RunContext;
  switch (n) {
    case 2:
      return executionStorage.run(ctx, call0, method, args[0]);
    case 3:
      return executionStorage.run(ctx, call1, method, args[0], args[1]);
    case 4:
      return executionStorage.run(ctx, call2, method, args[0], args[1], args[2]);
    default:
      return executionStorage.run(ctx, callN, method, args[0], args.slice(1, n - 1));
  }
}

/** Subscribes to `source` inside the execution, so `currentExecution()` also works in `defer`/`new Observable` bodies. */
function subscribeInside(ctx: RunContext, source: Observable<unknown>): Observable<unknown> {
  return new (rxjsCore().Observable)<unknown>((subscriber) => executionStorage.run(ctx, () => source.subscribe(subscriber)));
}

/** A hot Observable that is also awaitable: for a call whose mode is not known yet (the method has not run). */
function awaitable(hot: Observable<unknown>): Observable<unknown> & PromiseLike<unknown> {
  let promise: Promise<unknown> | undefined;
  const settle = (): Promise<unknown> => (promise ??= rxjsCore().lastValueFrom(hot, { defaultValue: undefined }));
  const extra: Pick<Promise<unknown>, 'then' | 'catch' | 'finally'> = {
    then: (onValue, onError) => settle().then(onValue, onError),
    catch: (onError) => settle().catch(onError),
    finally: (onFinally) => settle().finally(onFinally),
  };
  return Object.assign(hot, extra);
}

type Handle = CommandHandle<unknown[], unknown>;
type ObservableHandle = ObservableCommandHandle<unknown[], unknown>;

/**
 * One decorated method: its wrapper and its command(s), built on the first call and rebuilt if the key's runtime
 * was reset (e.g. by `resetBreakwater()` between tests). The commands take the instance as their first argument,
 * so one command serves every instance.
 */
export class DecoratedMethod {
  readonly wrapper: AnyFunction;
  private mode: HystrixCommandMode | undefined;
  private key = '';
  private runtime: CommandRuntime | undefined;
  private single: Handle | undefined;
  private multi: ObservableHandle | undefined;
  /** What the current inferring call's method returned (set by `construct`). */
  private probe: 'async' | 'observable' | undefined;

  constructor(
    private readonly spec: DecoratorSpec,
    private readonly method: AnyFunction,
    private readonly site: Site,
    declaredMode: HystrixCommandMode | undefined,
  ) {
    if (spec.fallback !== undefined && spec.fallback === site.property) {
      throw configError('fallback', `another method than '${site.name}' itself`, spec.fallback, 'range');
    }
    const kind = Object.prototype.toString.call(method);
    if (kind === '[object GeneratorFunction]' || kind === '[object AsyncGeneratorFunction]') {
      throw new TypeError(`breakwater: @HystrixCommand cannot decorate the generator method '${site.name}'; return an Observable instead`);
    }
    if (kind === '[object AsyncFunction]') {
      if (spec.mode !== undefined && spec.mode !== 'async') {
        throw configError('mode', `'async' for the async method '${site.name}'`, spec.mode, 'range');
      }
      this.mode = 'async';
    } else {
      this.mode = spec.mode ?? declaredMode;
    }
    this.wrapper = wrapperOf(this);
    Object.defineProperty(this.wrapper, 'name', { value: site.name, configurable: true });
  }

  /** One call of the decorated method on `instance`. */
  call(instance: unknown, args: unknown[]): unknown {
    if (this.runtime === undefined || this.runtime !== existingRuntime(this.key)) this.init(instance);
    switch (this.mode) {
      case 'async':
        return (this.single ??= this.buildSingle()).execute(instance, ...args);
      case 'sync':
        return (this.single ??= this.buildSingle()).executeSync(instance, ...args);
      case 'observable':
        return (this.multi ??= this.buildMulti()).observe(instance, ...args);
      default:
        return this.infer(instance, args);
    }
  }

  /** First call (or first after a reset): the class name, the name checks, the key. */
  private init(instance: unknown): void {
    const site = this.site;
    if (site.owner === undefined) site.owner = declaringClassName(instance, site.property, this.wrapper);
    if (!site.checked) checkNames(this.spec, instance, site);
    this.key = this.spec.key ?? `${site.owner}.${site.name}`;
    this.single = undefined;
    this.multi = undefined;
    // Build the handle this mode uses now, so the key's runtime exists and is the one we compare against.
    if (this.mode === 'async' || this.mode === 'sync') this.single = this.buildSingle();
    else this.multi = this.buildMulti();
    this.runtime = existingRuntime(this.key);
  }

  /** No mode yet: run as an observable command and let the method's result decide the mode for good. */
  private infer(instance: unknown, args: unknown[]): unknown {
    this.probe = undefined;
    const hot = (this.multi ??= this.buildMulti()).observe(instance, ...args);
    const seen = this.probe;
    this.probe = undefined;
    if (seen === 'observable') return hot;
    if (seen === 'async') return rxjsCore().lastValueFrom(hot, { defaultValue: undefined });
    return awaitable(hot); // the method did not run (short-circuited, rejected, queued): serve both shapes
  }

  private settingsFor(): Record<string, unknown> {
    return { ...this.spec.settings, key: this.key, group: this.spec.group ?? (this.site.property === undefined ? this.key : this.site.owner) };
  }

  private fallbackFn(): ((error: unknown, instance: unknown, ...args: unknown[]) => unknown) | undefined {
    const ref = this.spec.fallback;
    if (ref === undefined) return undefined;
    if (typeof ref === 'function') return (error, instance, ...args) => ref.call(instance, error, ...args);
    return (error, instance, ...args) => this.named(instance, ref, 'fallback').call(instance, error, ...args);
  }

  private cacheKeyFn(): ((instance: unknown, ...args: unknown[]) => string | number | undefined) | undefined {
    const ref = this.spec.cacheKey;
    if (ref === undefined) return undefined;
    if (typeof ref === 'function') return (instance, ...args) => ref.apply(instance, args) as string | number | undefined;
    return (instance, ...args) => this.named(instance, ref, 'cacheKey').apply(instance, args) as string | number | undefined;
  }

  private named(instance: unknown, name: string, option: string): AnyFunction {
    const fn = instance === null || instance === undefined ? undefined : (instance as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw new TypeError(`breakwater: ${option} '${name}' of ${this.key} is not a method of this instance`);
    return fn as AnyFunction;
  }

  /** The async / sync command: `run(instance, ...args, ctx)` calls the method with exactly `args`. */
  private buildSingle(): Handle {
    const method = this.method;
    const run = (...rest: unknown[]): unknown => {
      const result = runMethod(method, rest);
      if (rxjsCore().isObservable(result)) {
        throw new BadRequestError(`breakwater: ${this.key} returned an Observable in '${this.mode}' mode; use mode: 'observable'`);
      }
      return result;
    };
    const fallback = this.fallbackFn();
    const cacheKey = this.cacheKeyFn();
    return command({
      ...this.settingsFor(),
      run,
      ...(fallback === undefined ? {} : { fallback }),
      ...(cacheKey === undefined ? {} : { cacheKey }),
    } as Parameters<typeof command>[0]) as Handle;
  }

  /** The observable command: `construct(instance, ...args, ctx)`; also the inferring path while the mode is unknown. */
  private buildMulti(): ObservableHandle {
    const method = this.method;
    const construct = (...rest: unknown[]): Observable<unknown> => {
      const ctx = rest[rest.length - 1] as RunContext;
      const result = runMethod(method, rest);
      if (rxjsCore().isObservable(result)) {
        this.probe = 'observable';
        this.mode ??= 'observable';
        return subscribeInside(ctx, result);
      }
      if (this.mode === undefined && isThenable(result)) {
        this.probe = 'async';
        this.mode = 'async';
        return rxjsCreation().from(result);
      }
      if (isThenable(result)) result.then(undefined, () => undefined);
      throw new BadRequestError(
        this.mode === undefined
          ? `breakwater: ${this.key} returned ${describeResult(result)}, neither a Promise nor an Observable; a synchronous method needs mode: 'sync'`
          : `breakwater: ${this.key} has mode 'observable' but returned ${describeResult(result)}, not an Observable`,
      );
    };
    const fallback = this.fallbackFn();
    const cacheKey = this.cacheKeyFn();
    return observableCommand({
      ...this.settingsFor(),
      construct,
      ...(fallback === undefined ? {} : { resumeWithFallback: (error: unknown, instance: unknown, ...args: unknown[]) => toObservable(fallback(error, instance, ...args)) }),
      ...(cacheKey === undefined ? {} : { cacheKey }),
    } as Parameters<typeof observableCommand>[0]) as ObservableHandle;
  }
}

/** The function that replaces the method: it passes its `this` and arguments to the decorated method's commands. */
function wrapperOf(decorated: DecoratedMethod): AnyFunction {
  return function (this: unknown, ...args: unknown[]): unknown {
    return decorated.call(this, args);
  };
}
