import type { EventEmitter } from 'eventemitter3';
import type { Observable } from 'rxjs';
import type { CommandConfig, CommandSettings } from '../config/options.js';
import type { CommandEvents } from './events.js';
import { FunctionalCommand, type ArgsOf } from './functional.js';
import { toObservableMulti } from './modes.js';

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

/** @internal the functional handle with `construct`/`resumeWithFallback`, run as a multi-value observable. */
class FunctionalObservableCommand extends FunctionalCommand {
  constructor(options: object) {
    super(options, 'observableCommand', { run: 'construct', fallback: 'resumeWithFallback' });
  }

  override toObservable(...args: unknown[]): Observable<unknown> {
    this.refresh();
    return toObservableMulti(this, args, this.cacheKeyFn);
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
  return new FunctionalObservableCommand(options) as unknown as ObservableCommandHandle<
    ArgsOf<F>,
    EmittedBy<F>
  >;
}
