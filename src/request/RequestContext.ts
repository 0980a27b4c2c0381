import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventType } from '../metrics/eventType.js';

/**
 * One command execution as the request log shows it (Hystrix's request log): its key, its events in Hystrix's
 * order, and its execution time. While it runs, `latency` is -1 and the log prints it as `[Executed]`.
 */
export interface RequestLogEntry {
  readonly key: string;
  readonly events: readonly EventType[];
  /** Milliseconds from start to result, or -1 while still running. */
  readonly latency: number;
}

/** @internal a mutable log entry the executor fills in. */
export class LogEntry implements RequestLogEntry {
  events: EventType[] = [];
  latency = -1;
  constructor(readonly key: string) {}

  toString(): string {
    const events = this.events.length === 0 ? 'Executed' : this.events.join(', ');
    return `${this.key}[${events}][${this.latency < 0 ? 'Executed' : `${Math.round(this.latency)}ms`}]`;
  }
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * The scope of one request (an incoming HTTP request, a job): a request cache, so commands with the same key
 * and cache key share one execution, and a request log of every command executed. Backed by `AsyncLocalStorage`,
 * so it follows `await`s.
 *
 * @example
 * ```ts
 * app.use((req, res, next) => RequestContext.run(next));
 * await RequestContext.run(async () => {
 *   await getUser.execute('42');
 *   await getUser.execute('42');          // RESPONSE_FROM_CACHE: run was called once
 *   console.log(String(requestLog()));   // GetUser[SUCCESS][3ms], GetUser[SUCCESS, RESPONSE_FROM_CACHE][0ms]
 * });
 * ```
 */
export class RequestContext {
  /** @internal cache by `commandKey` + NUL + cache key. */
  readonly cache = new Map<string, unknown>();
  /** @internal */
  readonly log: LogEntry[] = [];

  /** Runs `fn` inside a new, empty request context and returns what it returns. */
  static run<T>(fn: () => T): T {
    return storage.run(new RequestContext(), fn);
  }

  /** The context of the running code, or `undefined` outside any. */
  static current(): RequestContext | undefined {
    return storage.getStore();
  }

  /** True inside a request context. */
  static get active(): boolean {
    return storage.getStore() !== undefined;
  }
}

/** The request log of the current request: an array of entries whose `String()` is Hystrix's format. */
export interface RequestLog extends ReadonlyArray<RequestLogEntry> {
  /** Like Hystrix: `GetUser[SUCCESS][3ms], GetOrder[FAILURE, FALLBACK_SUCCESS][12ms]`; identical neighbours fold as `x2`. */
  toString(): string;
}

/**
 * The commands executed so far in the current request context (empty outside any context).
 *
 * @example
 * ```ts
 * String(requestLog()); // "GetUser[SUCCESS][3ms], GetOrder[FAILURE, FALLBACK_SUCCESS][12ms]"
 * ```
 */
export function requestLog(): RequestLog {
  const ctx = storage.getStore();
  const entries = ctx === undefined ? [] : ctx.log.slice();
  Object.defineProperty(entries, 'toString', { value: () => formatLog(entries), enumerable: false });
  return entries as unknown as RequestLog;
}

function formatLog(entries: readonly LogEntry[]): string {
  const parts: string[] = [];
  let last = '';
  let repeat = 0;
  for (const entry of entries) {
    const text = entry.toString();
    if (text === last) {
      repeat++;
      continue;
    }
    if (last !== '') parts.push(repeat > 1 ? `${last}x${repeat}` : last);
    last = text;
    repeat = 1;
  }
  if (last !== '') parts.push(repeat > 1 ? `${last}x${repeat}` : last);
  return parts.join(', ');
}
