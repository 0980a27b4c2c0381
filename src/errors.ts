/**
 * Why a command could not give its caller a value, as Hystrix's `HystrixRuntimeException.FailureType`, plus
 * breakwater's `RATE_LIMITED` and `LOAD_SHED` (a `sheddable` command refused while the event loop is overloaded).
 */
export type FailureType =
  | 'COMMAND_EXCEPTION'
  | 'TIMEOUT'
  | 'SHORT_CIRCUIT'
  | 'REJECTED_THREAD_EXECUTION'
  | 'REJECTED_SEMAPHORE_EXECUTION'
  | 'REJECTED_SEMAPHORE_FALLBACK'
  | 'BAD_REQUEST_EXCEPTION'
  | 'RATE_LIMITED'
  | 'LOAD_SHED';

const BRAND = Symbol.for('breakwater.error');
const COMMAND_BRAND = Symbol.for('breakwater.CommandError');
const BAD_REQUEST_BRAND = Symbol.for('breakwater.BadRequestError');
const CONFIG_BRAND = Symbol.for('breakwater.ConfigError');

function branded(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/**
 * The base of every error breakwater throws. Recognised across copies of the library by a `Symbol.for` brand,
 * so `instanceof` works even when two versions are installed.
 */
export class BreakwaterError extends Error {
  /** A stable machine-readable code, `BW_…`. */
  readonly code: string;

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BreakwaterError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** `instanceof BreakwaterError` checks the `Symbol.for` brand, so errors from another installed copy match too. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === BreakwaterError) return branded(value, BRAND);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/**
 * What a caller gets when a command could not produce a value and no usable fallback did either.
 *
 * - `failureType` says why the primary path did not succeed;
 * - `cause` is what `run` threw (COMMAND_EXCEPTION), the {@link TimeoutError} (TIMEOUT), or `undefined` for a
 *   short-circuit, a rejection or a rate limit (the `failureType` says which);
 * - `fallbackError` is what the fallback threw, when it failed.
 *
 * @example
 * ```ts
 * try { await getUser.execute('42'); }
 * catch (e) { if (isCommandError(e) && e.failureType === 'SHORT_CIRCUIT') { … } }
 * ```
 */
export class CommandError extends BreakwaterError {
  /** Why the primary path gave no value (Hystrix's `getFailureType()`). */
  readonly failureType: FailureType;
  /** The key of the command that failed. */
  readonly commandKey: string;
  /** What the fallback threw when it failed (`FALLBACK_FAILURE`); `undefined` otherwise. */
  readonly fallbackError: unknown;

  constructor(
    commandKey: string,
    failureType: FailureType,
    message: string,
    cause: unknown,
    fallbackError?: unknown,
  ) {
    super(message, `BW_${failureType}`, { cause });
    this.name = 'CommandError';
    this.commandKey = commandKey;
    this.failureType = failureType;
    this.fallbackError = fallbackError;
    Object.defineProperty(this, COMMAND_BRAND, { value: true });
  }

  /** `instanceof CommandError` checks the brand (as {@link isCommandError}), across installed copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, COMMAND_BRAND);
  }

  /**
   * The `CommandError` behind an error a caller received: the error itself when it is one, or, for a command with
   * `unwrapErrors: true` that handed the caller `run`'s own error, the `CommandError` it would have thrown (with
   * `commandKey`, `failureType` and `fallbackError`). `undefined` for any other error.
   *
   * @example
   * ```ts
   * try { await getUser.execute('42'); }
   * catch (e) { const info = CommandError.from(e); log(info?.commandKey, info?.failureType); throw e; }
   * ```
   */
  static from(error: unknown): CommandError | undefined {
    if (branded(error, COMMAND_BRAND)) return error as CommandError;
    return typeof error === 'object' && error !== null ? unwrapped.get(error) : undefined;
  }
}

/**
 * Original errors handed to callers by `unwrapErrors`, each with the `CommandError` it stands for. A WeakMap, so
 * the user's error object is never modified and nothing is kept once the caller drops it.
 */
const unwrapped = new WeakMap<object, CommandError>();

/**
 * @internal what the caller of a command with `unwrapErrors` receives in place of `error`: `run`'s own error when
 * the command failed because `run` threw an object (COMMAND_EXCEPTION), else `error` itself.
 */
export function unwrapForCaller(error: CommandError): unknown {
  const cause = error.cause;
  if (error.failureType !== 'COMMAND_EXCEPTION' || typeof cause !== 'object' || cause === null) return error;
  unwrapped.set(cause, error);
  return cause;
}

/**
 * Thrown by `run` to say "the caller's input is bad", as Hystrix's `HystrixBadRequestException`: it reaches the
 * caller as itself, triggers no fallback, and does not count against the circuit's health (it is recorded as
 * `BAD_REQUEST`).
 *
 * @example
 * ```ts
 * run: async (id: string) => { if (!id) throw new BadRequestError('id is required'); … }
 * ```
 */
export class BadRequestError extends BreakwaterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'BW_BAD_REQUEST', options);
    this.name = 'BadRequestError';
    Object.defineProperty(this, BAD_REQUEST_BRAND, { value: true });
  }

  /** `instanceof BadRequestError` checks the brand (as {@link isBadRequestError}), across installed copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, BAD_REQUEST_BRAND);
  }
}

/**
 * An invalid option, thrown when a command is built or `configure` is called: a real `TypeError` (wrong type) or
 * `RangeError` (right type, out of range) whose message names the option path, what was expected and the value
 * received, e.g. ``breakwater: `circuitBreaker.sleepWindow` must be a finite number >= 0 (ms), got -1 (number)``.
 */
export type ConfigError = (TypeError | RangeError) & {
  /** The option path, e.g. `circuitBreaker.sleepWindow`. */
  readonly option: string;
  /** The value that was refused. */
  readonly value: unknown;
  /** Always `BW_CONFIG`. */
  readonly code: 'BW_CONFIG';
};

/** @internal builds a {@link ConfigError}. */
export function configError(option: string, expectation: string, value: unknown, kind: 'type' | 'range', hint?: string): ConfigError {
  const message = `breakwater: \`${option}\` must be ${expectation}, got ${describe(value)}${hint === undefined ? '' : `; ${hint}`}`;
  const error = kind === 'range' ? new RangeError(message) : new TypeError(message);
  Object.defineProperties(error, {
    option: { value: option, enumerable: true },
    value: { value, enumerable: true },
    code: { value: 'BW_CONFIG', enumerable: true },
    [CONFIG_BRAND]: { value: true },
  });
  return error as ConfigError;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value)} (string)`;
  if (typeof value === 'number') return `${String(value)} (number)`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${String(value)} (${typeof value})`;
}

/** True for a {@link CommandError}, from this or another installed copy of breakwater. */
export function isCommandError(value: unknown): value is CommandError {
  return branded(value, COMMAND_BRAND);
}

/** True for a {@link BadRequestError}, from this or another installed copy of breakwater. */
export function isBadRequestError(value: unknown): value is BadRequestError {
  return branded(value, BAD_REQUEST_BRAND);
}

/** True for a {@link ConfigError}. */
export function isConfigError(value: unknown): value is ConfigError {
  return branded(value, CONFIG_BRAND);
}

/**
 * The reason a timed-out execution's `AbortSignal` carries, and the `cause` of the caller's `CommandError` with
 * `failureType: 'TIMEOUT'`. Its `name` is `'TimeoutError'`, like the DOM's, so `fetch` and friends report it as a
 * timeout.
 */
export class TimeoutError extends BreakwaterError {
  /** The timeout that passed, in ms. */
  readonly timeout: number;

  constructor(commandKey: string, timeoutMs: number) {
    super(`${commandKey} timed out after ${timeoutMs} ms`, 'BW_TIMEOUT');
    this.name = 'TimeoutError';
    this.timeout = timeoutMs;
  }
}

/** The reason an execution's `AbortSignal` carries when its caller unsubscribed (CANCELLED). */
export class CancelledError extends BreakwaterError {
  constructor(commandKey: string) {
    super(`${commandKey} was cancelled`, 'BW_CANCELLED');
    this.name = 'AbortError';
  }
}
