import type { Observable } from 'rxjs';
import type { CommandSettings } from '../config/options.js';
import { normalizeSettings } from '../config/resolve.js';
import { expectKey, expectObject, expectOneOf } from '../config/validate.js';
import { configError } from '../errors.js';
import { checkNames, classNameOf, DecoratedMethod, type AnyFunction, type DecoratorSpec, type Site } from './DecoratedMethod.js';
import { copyMetadata, returnTypeMode } from './reflectMetadata.js';

/**
 * How a decorated method runs: `'async'` (returns a Promise), `'sync'` (returns its value; uses `executeSync`)
 * or `'observable'` (returns an rxjs Observable; runs as an observable command).
 */
export type HystrixCommandMode = 'async' | 'sync' | 'observable';

/**
 * Options of {@link HystrixCommand}: every setting `command()` takes (timeout, isolation, circuitBreaker, …),
 * plus the method-level ones below. All optional.
 */
export interface HystrixCommandOptions<FB extends FallbackRef = FallbackRef> extends CommandSettings {
  /** The command key. @defaultValue `'ClassName.methodName'` (the class that declares the decorated method) */
  readonly key?: string;
  /** The command's group (dashboard grouping, default pool key). @defaultValue the declaring class's name */
  readonly group?: string;
  /**
   * How the method runs. When omitted: an `async` method runs in `'async'` mode; with legacy decorators and
   * `emitDecoratorMetadata`, a declared `Promise` / `Observable` return type decides; any other method runs in the
   * mode its first call reveals (a returned Observable → `'observable'`, a Promise → `'async'`). Synchronous
   * methods must say `'sync'`. @defaultValue inferred
   */
  readonly mode?: HystrixCommandMode;
  /**
   * The fallback: the name of a method of the class, or a function. Called with `this` the instance and
   * `(error, ...args)`: what the method threw, or a `CommandError` whose `failureType` says why (TIMEOUT,
   * SHORT_CIRCUIT, REJECTED_*, RATE_LIMITED), then the caller's arguments.
   *
   * Checked at compile time: a name must be a public method of the class (of the class itself for a static method)
   * that takes `(error, ...the method's arguments)` and returns the method's value (for an async method, the value
   * or a Promise of it); a function's declared parameter types are checked the same way. TypeScript evaluates the
   * options before it sees the method, so an inline function's *untyped* parameters cannot be inferred from the
   * method (they are `any`), and a private or protected method cannot be named (TypeScript cannot see it from
   * outside the class: make it public, or pass a function).
   */
  readonly fallback?: FB;
  /**
   * Request-cache key: the name of a method of the class, or a function, called with `this` the instance and the
   * caller's arguments. `undefined` means "do not cache this call". Only used inside a `RequestContext`.
   */
  readonly cacheKey?: string | ((this: any, ...args: any[]) => string | number | undefined);
}

/**
 * What a {@link HystrixMethodDecorator} returns for a method whose return type does not fit the mode: a type whose
 * only property names the fix, so the compiler's error (TS1270 / TS1241: "… is not assignable to …") says it, e.g.
 * ``a synchronous method needs @HystrixCommand({ mode: 'sync' })``.
 */
export type HystrixModeMismatch<Fix extends string> = { readonly [K in Fix]: never };

/** The fix named when a method without `mode` returns neither a Promise nor an Observable. */
export type SyncMethodNeedsMode = "breakwater: a synchronous method needs @HystrixCommand({ mode: 'sync' }) (or return a Promise / an Observable)";

/** A fallback as the options give it: a method name, or a function called with `this` the instance. */
export type FallbackRef = string | ((this: any, error: unknown, ...args: any[]) => unknown);

/** What a fallback may return for a method returning `Return`: the same, or for a Promise/Observable its values. */
type FallbackValue<Return> =
  Return extends PromiseLike<infer T> ? T | PromiseLike<T> : Return extends Observable<infer T> ? Observable<T> | T | PromiseLike<T> : Return;

/** Whether fallback `FB` fits a method of `This` with these arguments and return type. */
type FallbackFits<This, FB, Args extends any[], Return> = [FB] extends [never]
  ? true
  : [FB] extends [string]
    ? FB extends keyof This
      ? This[FB] extends (error: any, ...args: Args) => FallbackValue<Return>
        ? true
        : false
      : false
    : FB extends (error: any, ...args: Args) => FallbackValue<Return>
      ? true
      : false;

/** The fix named when a fallback does not fit the decorated method. */
export type FallbackMismatch<FB> = FB extends string
  ? `breakwater: fallback '${FB}' must be a public method of this class taking (error, ...the decorated method's arguments) and returning its value`
  : "breakwater: the fallback function must take (error, ...the decorated method's arguments) and return its value";

/**
 * The decorator `@HystrixCommand(…)` returns: callable as a TC39 standard method decorator `(method, context)`
 * and as a legacy `experimentalDecorators` one `(target, propertyKey, descriptor)`. The method's type is kept;
 * `Allowed` is what it may return in the chosen mode, and `Fix` the message of the compile error for a method that
 * returns something else (see {@link HystrixModeMismatch}).
 */
export interface HystrixMethodDecorator<Allowed, Fix extends string = SyncMethodNeedsMode, FB = never> {
  /** TC39 standard decorator (TypeScript 5 default). */
  <This, Args extends any[], Return>(
    method: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
  ): [Return] extends [Allowed]
    ? FallbackFits<This, FB, Args, Return> extends true
      ? (this: This, ...args: Args) => Return
      : HystrixModeMismatch<FallbackMismatch<FB>>
    : HystrixModeMismatch<Fix>;
  /**
   * Legacy decorator (`experimentalDecorators: true`, as NestJS uses).
   * @typeParam M - the decorated method's type, kept as it is.
   */
  <T extends object, M extends (...args: any[]) => any>(
    target: T,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): [ReturnType<M>] extends [Allowed]
    ? FallbackFits<T, FB, Parameters<M>, ReturnType<M>> extends true
      ? TypedPropertyDescriptor<M>
      : HystrixModeMismatch<FallbackMismatch<FB>>
    : HystrixModeMismatch<Fix>;
}

/**
 * Runs a class method as a command, as Javanica's `@HystrixCommand` does in Java: circuit breaker, bulkhead,
 * timeout, fallback, request cache and metrics. Works as a TC39 standard decorator (TypeScript 5 default) and
 * as a legacy `experimentalDecorators` decorator; which one is detected from the arguments it receives.
 *
 * - One command per class + method, shared by every instance (metrics are per key, as in Hystrix), created on
 *   the first call. Default key `'ClassName.methodName'`, group the class name (the class that declares the
 *   decorated method: an inherited method keeps its base class's command).
 * - The method receives exactly its caller's arguments and `this`; {@link currentExecution} gives it the
 *   execution's `signal` and `commandKey`. Argument and return types are unchanged.
 * - Mode: `async` methods run in async mode; say `mode: 'sync'` for synchronous methods; a method returning an
 *   Observable runs as an observable command (eagerly, like Javanica's default: work starts at the call and
 *   late subscribers get a replay).
 * - Misuse throws a `TypeError`/`RangeError` when the class is defined where it can be seen then (a field,
 *   accessor or class; bad options; a legacy fallback name that is not a method), otherwise at the first call
 *   (a TC39 instance method's fallback/cacheKey name).
 *
 * @example
 * ```ts
 * class UserClient {
 *   @HystrixCommand({ group: 'Users', timeout: 500, fallback: 'getUserFallback' })
 *   async getUser(id: string): Promise<User> {
 *     return fetchUser(id, currentExecution()!.signal);
 *   }
 *   getUserFallback(error: unknown, id: string): User {
 *     return { id, name: 'anonymous' };
 *   }
 * }
 * await new UserClient().getUser('42'); // command key 'UserClient.getUser'
 * ```
 */
export function HystrixCommand<FB extends FallbackRef = never>(
  options: HystrixCommandOptions<FB> & { readonly mode: 'sync' },
): HystrixMethodDecorator<unknown, SyncMethodNeedsMode, FB>;
export function HystrixCommand<FB extends FallbackRef = never>(
  options: HystrixCommandOptions<FB> & { readonly mode: 'observable' },
): HystrixMethodDecorator<Observable<unknown>, "breakwater: mode 'observable' needs a method that returns an Observable", FB>;
export function HystrixCommand<FB extends FallbackRef = never>(
  options: HystrixCommandOptions<FB> & { readonly mode: 'async' },
): HystrixMethodDecorator<PromiseLike<unknown>, "breakwater: mode 'async' needs a method that returns a Promise (a synchronous method: mode 'sync')", FB>;
export function HystrixCommand<FB extends FallbackRef = never>(
  options?: HystrixCommandOptions<FB>,
): HystrixMethodDecorator<PromiseLike<unknown> | Observable<unknown>, SyncMethodNeedsMode, FB>;
export function HystrixCommand(options?: HystrixCommandOptions): HystrixMethodDecorator<any, any, any> {
  if (arguments.length > 1 || typeof options === 'function') {
    throw new TypeError('breakwater: @HystrixCommand must be called: write @HystrixCommand() or @HystrixCommand({ … })');
  }
  const spec = readSpec(options);
  return function hystrixCommandDecorator(...args: unknown[]): unknown {
    const context = args[1];
    if (args.length === 2 && typeof context === 'object' && context !== null && 'kind' in context) {
      return decorateStandard(spec, args[0], context as DecoratorContext);
    }
    return decorateLegacy(spec, args[0], args[1], args[2]);
  } as HystrixMethodDecorator<any, any, any>;
}

const DECORATOR_KEYS = ['key', 'mode', 'fallback', 'cacheKey'] as const;
/**
 * Settings a decorated method has unless its options say otherwise: as Javanica's `@HystrixCommand`, the caller
 * gets the error the method threw, not the library's wrapper (`unwrapErrors: false` restores the wrapper).
 */
const DECORATOR_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({ unwrapErrors: true });
const MODES = ['async', 'sync', 'observable'] as const;

function readSpec(options: HystrixCommandOptions | undefined): DecoratorSpec {
  if (options === undefined) return { key: undefined, group: undefined, mode: undefined, fallback: undefined, cacheKey: undefined, settings: DECORATOR_DEFAULTS };
  const raw = expectObject(options, 'options');
  const layer = normalizeSettings(raw, '', DECORATOR_KEYS); // unknown or invalid settings fail here, at class definition
  const settings: Record<string, unknown> = { ...DECORATOR_DEFAULTS };
  for (const name of Object.keys(layer)) if (name !== 'group') settings[name] = raw[name];
  return {
    key: raw.key === undefined ? undefined : expectKey(raw.key, 'key'),
    group: (layer as { group?: string }).group,
    mode: raw.mode === undefined ? undefined : expectOneOf(raw.mode, 'mode', MODES),
    fallback: nameOrFunction(raw.fallback, 'fallback'),
    cacheKey: nameOrFunction(raw.cacheKey, 'cacheKey'),
    settings: Object.freeze(settings),
  };
}

function nameOrFunction(value: unknown, option: string): string | AnyFunction | undefined {
  if (value === undefined || typeof value === 'function') return value as AnyFunction | undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  throw configError(option, 'a method name (non-empty string) or a function', value, typeof value === 'string' ? 'range' : 'type');
}

/** The parts of a TC39 decorator context this decorator reads. */
interface DecoratorContext {
  readonly kind: string;
  readonly name: string | symbol | undefined;
  readonly static?: boolean;
  readonly private?: boolean;
  addInitializer?(initializer: (this: unknown) => void): void;
}

function decorateStandard(spec: DecoratorSpec, value: unknown, context: DecoratorContext): AnyFunction {
  const name = displayName(context.name);
  if (context.kind !== 'method') {
    throw new TypeError(`breakwater: @HystrixCommand decorates methods only; '${name}' is ${kindText(context.kind)}`);
  }
  if (context.private === true && spec.key === undefined) {
    throw configError('key', `set for the private method '${name}' (a decorator cannot see its class)`, undefined, 'type');
  }
  const method = value as AnyFunction;
  const site: Site = { name, property: context.private === true ? undefined : (context.name as string | symbol), owner: undefined, checked: false };
  const decorated = new DecoratedMethod(spec, method, site, undefined);
  copyMetadata(method, decorated.wrapper);
  if (context.static === true) {
    // Runs once, when the class is defined, with `this` the class: the class name and names are known then.
    context.addInitializer!(function (this: unknown) {
      site.owner = classNameOf(this);
      checkNames(spec, this, site);
    });
  }
  return decorated.wrapper;
}

function decorateLegacy(spec: DecoratorSpec, target: unknown, propertyKey: unknown, descriptor: unknown): PropertyDescriptor {
  if (typeof descriptor === 'number' || (typeof propertyKey !== 'string' && typeof propertyKey !== 'symbol')) {
    const what = typeof descriptor === 'number' ? 'a parameter' : 'a class';
    throw new TypeError(`breakwater: @HystrixCommand decorates methods only; it was applied to ${what}`);
  }
  const name = displayName(propertyKey);
  const d = descriptor as PropertyDescriptor | undefined;
  if (d === undefined || typeof d !== 'object') {
    throw new TypeError(`breakwater: @HystrixCommand decorates methods only; '${name}' is a field`);
  }
  if (d.get !== undefined || d.set !== undefined) {
    throw new TypeError(`breakwater: @HystrixCommand decorates methods only; '${name}' is an accessor`);
  }
  if (typeof d.value !== 'function') {
    throw new TypeError(`breakwater: @HystrixCommand decorates methods only; '${name}' is not a function`);
  }
  // Legacy decorators run after the class body: the class and its prototype are complete, so check now.
  const site: Site = { name, property: propertyKey, owner: classNameOf(typeof target === 'function' ? target : (target as object).constructor), checked: false };
  checkNames(spec, target, site);
  const decorated = new DecoratedMethod(spec, d.value as AnyFunction, site, returnTypeMode(target, propertyKey));
  copyMetadata(d.value as AnyFunction, decorated.wrapper);
  return { configurable: d.configurable, enumerable: d.enumerable, writable: d.writable, value: decorated.wrapper };
}

function displayName(name: unknown): string {
  if (typeof name === 'symbol') return `[${name.description ?? ''}]`;
  return String(name);
}

function kindText(kind: string): string {
  return kind === 'accessor' ? 'an auto-accessor' : `a ${kind}`;
}
