import { EventEmitter } from 'eventemitter3';
import { setLimiterStoreSink, type LimiterStoreEvents } from '../limiter/storeEvents.js';
import type { CommandEvents } from './events.js';

/**
 * What the global {@link events} emitter carries: every command's events (with their `commandKey`), and the events
 * of things shared by commands (store-backed limiters).
 */
export interface GlobalEvents extends CommandEvents, LimiterStoreEvents {}

interface Ee3Listener {
  fn: (...args: unknown[]) => void;
  context: unknown;
  once: boolean;
}

/**
 * An eventemitter3 emitter whose `emit` calls every listener even when one throws: a throwing listener is
 * reported with `process.emitWarning` (code `BW_LISTENER_ERROR`) and never reaches the code that emitted, so it
 * cannot break an execution or leak a permit. `once` listeners and listener contexts work as usual.
 */
export class SafeEmitter<T extends object> extends EventEmitter<T> {
  override emit(event: any, ...args: any[]): boolean {
    const slot = (this as unknown as { _events: Record<string | symbol, Ee3Listener | Ee3Listener[] | undefined> })._events[
      event as string
    ];
    if (slot === undefined) return false;
    const listeners = Array.isArray(slot) ? slot.slice() : [slot];
    for (const l of listeners) {
      if (l.once) this.removeListener(event, l.fn as any, l.context, true);
      try {
        l.fn.apply(l.context, args);
      } catch (error) {
        reportListenerError(String(event), error);
      }
    }
    return true;
  }
}

/**
 * The global emitter: the same events as every command's `events`, for every command key (each payload carries
 * its `commandKey`).
 *
 * @example
 * ```ts
 * events.on('circuitOpen', (e) => alert(`${e.commandKey} tripped`));
 * ```
 */
export const events: EventEmitter<GlobalEvents> = new SafeEmitter<GlobalEvents>();

setLimiterStoreSink((name, event) => {
  if (events.listenerCount(name) !== 0) (events as EventEmitter<any>).emit(name, event);
});

/**
 * @internal false when neither a key's emitter nor the global one has any listener at all: eventemitter3 counts
 * the event names with listeners, so this is one property read each, where `listenerCount(name)` is a keyed
 * lookup that turns megamorphic once several event names are asked for.
 */
export function hasAnyListener(local: EventEmitter<CommandEvents> | null): boolean {
  return (
    (local !== null && (local as unknown as { _eventsCount: number })._eventsCount !== 0) ||
    (events as unknown as { _eventsCount: number })._eventsCount !== 0
  );
}

/**
 * @internal true when a key's emitter (`null`: none created yet) or the global one listens for `name` (check
 * before building a payload).
 */
export function hasListeners(local: EventEmitter<CommandEvents> | null, name: keyof CommandEvents): boolean {
  return (local !== null && local.listenerCount(name) !== 0) || events.listenerCount(name) !== 0;
}

/** @internal emits on a key's emitter (if it has one) and on the global one. */
export function emitBoth(local: EventEmitter<CommandEvents> | null, name: keyof CommandEvents, payload: unknown): void {
  if (local !== null) (local as EventEmitter<any>).emit(name, payload);
  (events as EventEmitter<any>).emit(name, payload);
}

function reportListenerError(name: string, error: unknown): void {
  try {
    process.emitWarning(`breakwater: a '${name}' listener threw: ${error instanceof Error ? error.message : String(error)}`, {
      code: 'BW_LISTENER_ERROR',
    });
  } catch {
    // nothing more can be done
  }
}
