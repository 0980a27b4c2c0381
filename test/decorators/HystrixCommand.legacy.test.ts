// @HystrixCommand called the way TypeScript's legacy emit (`__decorate`) calls decorators, for what a compiled
// fixture cannot show: parameter and constructor-parameter targets, and `reflect-metadata` loaded as in NestJS
// (legacy decorators + emitDecoratorMetadata, whose design:* metadata is defined before this decorator runs).
import { isObservable, Observable, of } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configure, HystrixCommand, metricsFor } from '../../src/index.js';
import { resetBreakwater, useFakeClock } from '../../src/testing.js';

/** A minimal stand-in for the `reflect-metadata` polyfill: the four functions the decorator uses. */
function installReflectMetadata(): () => void {
  const store = new WeakMap<object, Map<string | symbol | undefined, Map<unknown, unknown>>>();
  const slot = (target: object, property?: string | symbol): Map<unknown, unknown> => {
    let byProperty = store.get(target);
    if (byProperty === undefined) store.set(target, (byProperty = new Map()));
    let entries = byProperty.get(property);
    if (entries === undefined) byProperty.set(property, (entries = new Map()));
    return entries;
  };
  const api = {
    defineMetadata: (key: unknown, value: unknown, target: object, property?: string | symbol) => void slot(target, property).set(key, value),
    getOwnMetadata: (key: unknown, target: object, property?: string | symbol) => slot(target, property).get(key),
    getOwnMetadataKeys: (target: object, property?: string | symbol) => [...slot(target, property).keys()],
    getMetadata(key: unknown, target: object, property?: string | symbol): unknown {
      for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
        const value = slot(t, property).get(key);
        if (value !== undefined) return value;
      }
      return undefined;
    },
  };
  Object.assign(Reflect, api);
  return () => {
    for (const name of Object.keys(api)) delete (Reflect as unknown as Record<string, unknown>)[name];
  };
}

let uninstall: () => void;
beforeEach(() => {
  useFakeClock();
  uninstall = installReflectMetadata();
});
afterEach(() => {
  uninstall();
  resetBreakwater();
});

type Meta = {
  defineMetadata(key: unknown, value: unknown, target: object, property?: string | symbol): void;
  getOwnMetadata(key: unknown, target: object, property?: string | symbol): unknown;
};
const meta = (): Meta => Reflect as unknown as Meta;

/** Decorates `Target.prototype[name]` as TypeScript's legacy `__decorate` does, returning the new method. */
function decorateLegacy(target: object, name: string, decorator: (t: object, k: string, d: PropertyDescriptor) => PropertyDescriptor | void): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, name)!;
  Object.defineProperty(target, name, decorator(target, name, descriptor) ?? descriptor);
}

describe('@HystrixCommand with reflect-metadata (legacy decorators)', () => {
  it('takes the mode from design:returntype, so even a first call that never runs the method returns an Observable', async () => {
    class Feed {
      items(): Observable<number> {
        return of(1, 2);
      }
    }
    meta().defineMetadata('design:returntype', Observable, Feed.prototype, 'items');
    decorateLegacy(Feed.prototype, 'items', HystrixCommand({ fallback: () => of(-1) }) as never);
    configure({ commands: { 'Feed.items': { circuitBreaker: { forceOpen: true } } } });
    const result = new Feed().items();
    expect(isObservable(result)).toBe(true);
    expect('then' in result).toBe(false);
    expect(metricsFor('Feed.items').snapshot().rolling).toMatchObject({ SHORT_CIRCUITED: 1, FALLBACK_EMIT: 1, FALLBACK_SUCCESS: 1 });
  });

  it('takes async mode from a Promise return type', async () => {
    class Api {
      get(): Promise<number> {
        return Promise.resolve(1);
      }
    }
    meta().defineMetadata('design:returntype', Promise, Api.prototype, 'get');
    decorateLegacy(Api.prototype, 'get', HystrixCommand({ fallback: () => 0 }) as never);
    configure({ commands: { 'Api.get': { circuitBreaker: { forceOpen: true } } } });
    const result = new Api().get();
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(0);
  });

  it('keeps metadata that earlier decorators attached to the method (NestJS route metadata)', () => {
    class UsersController {
      async list(): Promise<string[]> {
        return [];
      }
    }
    const original = UsersController.prototype.list;
    meta().defineMetadata('path', '/users', original);
    meta().defineMetadata('method', 0, original);
    decorateLegacy(UsersController.prototype, 'list', HystrixCommand() as never);
    const wrapper = UsersController.prototype.list;
    expect(wrapper).not.toBe(original);
    expect(wrapper.name).toBe('list');
    expect(meta().getOwnMetadata('path', wrapper)).toBe('/users');
    expect(meta().getOwnMetadata('method', wrapper)).toBe(0);
  });
});

describe('@HystrixCommand called as a legacy decorator on something other than a method', () => {
  const decorator = HystrixCommand() as unknown as (...args: unknown[]) => unknown;
  class Target {
    method(): Promise<void> {
      return Promise.resolve();
    }
  }

  it('refuses a method parameter and a constructor parameter', () => {
    expect(() => decorator(Target.prototype, 'method', 0)).toThrow(/decorates methods only; it was applied to a parameter/);
    expect(() => decorator(Target, undefined, 0)).toThrow(/decorates methods only; it was applied to a parameter/);
  });

  it('refuses a class, a field and an accessor', () => {
    expect(() => decorator(Target)).toThrow(/decorates methods only; it was applied to a class/);
    expect(() => decorator(Target.prototype, 'field', undefined)).toThrow(/'field' is a field/);
    expect(() => decorator(Target.prototype, 'value', { get: () => 1, configurable: true })).toThrow(/'value' is an accessor/);
    expect(() => decorator(Target.prototype, 'data', { value: 1, writable: true })).toThrow(/'data' is not a function/);
  });
});
