// @internal: what @HystrixCommand reads from and keeps in `reflect-metadata`, when a program loaded it.
import type { AnyFunction } from './DecoratedMethod.js';
import type { HystrixCommandMode } from './HystrixCommand.js';

/** The `reflect-metadata` API, when a program loaded it (NestJS does). */
interface ReflectMetadata {
  getMetadata(key: unknown, target: object, property?: string | symbol): unknown;
  getOwnMetadataKeys(target: object): unknown[];
  getOwnMetadata(key: unknown, target: object): unknown;
  defineMetadata(key: unknown, value: unknown, target: object): void;
}

function reflectMetadata(): ReflectMetadata | undefined {
  const api = Reflect as unknown as Partial<ReflectMetadata>;
  return typeof api.getMetadata === 'function' && typeof api.getOwnMetadataKeys === 'function' && typeof api.defineMetadata === 'function'
    ? (api as ReflectMetadata)
    : undefined;
}

/**
 * With `emitDecoratorMetadata` (legacy decorators) the declared return type is known when the method is
 * decorated: `Promise` means async mode, an rxjs `Observable` observable mode.
 */
export function returnTypeMode(target: unknown, property: string | symbol): HystrixCommandMode | undefined {
  const api = reflectMetadata();
  if (api === undefined || (typeof target !== 'object' && typeof target !== 'function') || target === null) return undefined;
  const type = api.getMetadata('design:returntype', target, property);
  if (type === Promise) return 'async';
  const proto = typeof type === 'function' ? (type.prototype as Record<string, unknown> | undefined) : undefined;
  return proto !== undefined && typeof proto.subscribe === 'function' && typeof proto.lift === 'function' ? 'observable' : undefined;
}

/** Keeps metadata that decorators applied before this one put on the method (NestJS route metadata, say). */
export function copyMetadata(from: AnyFunction, to: AnyFunction): void {
  const api = reflectMetadata();
  if (api === undefined) return;
  for (const key of api.getOwnMetadataKeys(from)) api.defineMetadata(key, api.getOwnMetadata(key, from), to);
}
