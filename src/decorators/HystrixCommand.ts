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
export interface HystrixCommandOptions extends CommandSettings {
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
   */
  readonly fallback?: string | ((this: any, error: unknown, ...args: any[]) => unknown);
  /**
   * Request-cache key: the name of a method of the class, or a function, called with `this` the instance and the
   * caller's arguments. `undefined` means "do not cache this call". Only used inside a `RequestContext`.
   */
  readonly cacheKey?: string | ((this: any, ...args: any[]) => string | number | undefined);
}

/**
 * The decorator `@HystrixCommand(…)` returns: callable as a TC39 standard method decorator `(method, context)`
 * and as a legacy `experimentalDecorators` one `(target, propertyKey, descriptor)`. The method's type is kept;
 * `Allowed` is what it may return in the chosen mode.
 */
export interface HystrixMethodDecorator<Allowed> {
  /** TC39 standard decorator (TypeScript 5 default). */
  <This, Args extends any[], Return extends Allowed>(
    method: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
  ): (this: This, ...args: Args) => Return;
  /**
   * Legacy decorator (`experimentalDecorators: true`, as NestJS uses).
   * @typeParam M - the decorated method's type, kept as it is.
   */
  <M extends (...args: any[]) => Allowed>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<M>): TypedPropertyDescriptor<M>;
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
export function HystrixCommand(options: HystrixCommandOptions & { readonly mode: 'sync' }): HystrixMethodDecorator<unknown>;
export function HystrixCommand(options: HystrixCommandOptions & { readonly mode: 'observable' }): HystrixMethodDecorator<Observable<unknown>>;
export function HystrixCommand(options: HystrixCommandOptions & { readonly mode: 'async' }): HystrixMethodDecorator<PromiseLike<unknown>>;
export function HystrixCommand(options?: HystrixCommandOptions): HystrixMethodDecorator<PromiseLike<unknown> | Observable<unknown>>;
export function HystrixCommand(options?: HystrixCommandOptions): HystrixMethodDecorator<unknown> {
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
  } as HystrixMethodDecorator<unknown>;
}

const DECORATOR_KEYS = ['key', 'mode', 'fallback', 'cacheKey'] as const;
const MODES = ['async', 'sync', 'observable'] as const;

function readSpec(options: HystrixCommandOptions | undefined): DecoratorSpec {
  if (options === undefined) return { key: undefined, group: undefined, mode: undefined, fallback: undefined, cacheKey: undefined, settings: {} };
  const raw = expectObject(options, 'options');
  const layer = normalizeSettings(raw, '', DECORATOR_KEYS); // unknown or invalid settings fail here, at class definition
  const settings: Record<string, unknown> = {};
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
