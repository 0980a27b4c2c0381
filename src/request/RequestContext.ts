import { AsyncLocalStorage } from 'node:async_hooks';
import { EV, type EventType } from '../metrics/eventType.js';

/** Hystrix's `HystrixRequestLog.MAX_STORAGE`: executions beyond this many in one request are not logged. */
export const MAX_REQUEST_LOG = 1000;

/**
 * One command execution as the request log shows it (Hystrix's request log): its key, its events in Hystrix's
 * order, and its time. While it runs, `latency` is -1 and the log prints it as `Key[Executed][0ms]`.
 */
export interface RequestLogEntry {
  /** The command key. */
  readonly key: string;
  /** Events in Hystrix's (ordinal) order; a cache hit has the original's events plus RESPONSE_FROM_CACHE. */
  readonly events: readonly EventType[];
  /** Milliseconds from start to result (0 for a cache hit), or -1 while still running. */
  readonly latency: number;
  /** Values emitted by `run` (multi-value commands; printed `EMITx3`). */
  readonly emits: number;
  /** Values emitted by the fallback (printed `FALLBACK_EMITx3`). */
  readonly fallbackEmits: number;
  /** For a collapser's batch command: how many requests it served (COLLAPSED); otherwise 0. */
  readonly collapsed: number;
}

/** @internal inserts `event` into an event list kept in Hystrix's ordinal order (no duplicate). */
export function withEvent(events: readonly EventType[], event: EventType): EventType[] {
  const out = events.filter((e) => e !== event);
  const at = out.findIndex((e) => EV[e] > EV[event]);
  out.splice(at === -1 ? out.length : at, 0, event);
  return out;
}

/** @internal a mutable log entry the executor fills in. */
export class LogEntry implements RequestLogEntry {
  private recorded: readonly EventType[] = [];
  latency = -1;
  emits = 0;
  fallbackEmits = 0;
  collapsed = 0;
  constructor(readonly key: string) {}

  /** The recorded events, plus COLLAPSED for a batch command (Hystrix marks it when the batch is created). */
  get events(): readonly EventType[] {
    return this.collapsed === 0 ? this.recorded : withEvent(this.recorded, 'COLLAPSED');
  }

  set events(events: readonly EventType[]) {
    this.recorded = events;
  }

  /** Makes this a cache hit of `original`: its events (with RESPONSE_FROM_CACHE) and emission counts. */
  copyCached(events: readonly EventType[], original: RequestLogEntry | null): void {
    this.recorded = withEvent(events, 'RESPONSE_FROM_CACHE');
    this.emits = original?.emits ?? 0;
    this.fallbackEmits = original?.fallbackEmits ?? 0;
  }

  /** `Key[EV, EMITx3, …]`, or `Key[Executed]` while no event is recorded (the part Hystrix folds on). */
  display(): string {
    const events = this.events;
    if (events.length === 0) return `${this.key}[Executed]`;
    let text = `${this.key}[`;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const times = e === 'EMIT' ? this.emits : e === 'FALLBACK_EMIT' ? this.fallbackEmits : 1;
      text += `${i === 0 ? '' : ', '}${e}${times > 1 ? `x${times}` : ''}`;
    }
    return `${text}]`;
  }

  /** `Key[EV, …][Nms]` */
  toString(): string {
    return `${this.display()}[${entryMs(this)}ms]`;
  }
}

/** Whole milliseconds an entry adds to the log line (running entries and cache hits add 0). */
function entryMs(entry: LogEntry): number {
  return entry.latency > 0 ? Math.round(entry.latency) : 0;
}

const storage = new AsyncLocalStorage<RequestContext>();
/**
 * Whether any request context was ever entered in this process. Until one is, every lookup is `undefined` without
 * asking the AsyncLocalStorage: a process that never uses request scope pays nothing for it per call.
 */
let entered = false;

/**
 * The scope of one request (an incoming HTTP request, a job): a request cache, so commands with the same key
 * and cache key share one execution, and a request log of every command executed. Backed by `AsyncLocalStorage`,
 * so it follows `await`s. Outside any context nothing is cached or logged, and nothing fails.
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
  /** @internal command cache by `commandKey` + NUL + cache key. */
  readonly cache = new Map<string, unknown>();
  /** @internal collapser cache by collapser key + NUL + cache key. */
  readonly collapserCache = new Map<string, unknown>();
  /** @internal per-request state of request-scoped collapsers. */
  readonly collapsers = new Map<object, unknown>();
  /** @internal at most {@link MAX_REQUEST_LOG} entries. */
  readonly log: LogEntry[] = [];

  /** Runs `fn` inside a new, empty request context and returns what it returns. */
  static run<T>(fn: () => T): T {
    entered = true;
    return storage.run(new RequestContext(), fn);
  }

  /** The context of the running code, or `undefined` outside any. */
  static current(): RequestContext | undefined {
    return entered ? storage.getStore() : undefined;
  }

  /** True inside a request context. */
  static get active(): boolean {
    return entered && storage.getStore() !== undefined;
  }

  /** @internal runs `fn` inside `ctx` (a fallback fired by the shared deadline timer runs in its caller's request). */
  static within<T>(ctx: RequestContext, fn: () => T): T {
    return storage.run(ctx, fn);
  }

  /** @internal runs `fn` outside any request context (global-scope collapser batches). */
  static outside<T>(fn: () => T): T {
    return storage.exit(fn);
  }

  /** @internal adds an execution to the log, unless it already holds {@link MAX_REQUEST_LOG} (as Hystrix). */
  record(entry: LogEntry): void {
    if (this.log.length < MAX_REQUEST_LOG) this.log.push(entry);
  }
}

/** The request log of the current request: an array of entries whose `String()` is Hystrix's format. */
export interface RequestLog extends ReadonlyArray<RequestLogEntry> {
  /**
   * Like Hystrix's `getExecutedCommandsAsString()`: `GetUser[SUCCESS][3ms], GetOrder[FAILURE, FALLBACK_SUCCESS][12ms]`.
   * Entries that print the same key and events are merged where the first appears, with their times summed and
   * `xN` appended: `GetUser[SUCCESS, RESPONSE_FROM_CACHE][0ms]x4`.
   */
  toString(): string;
}

/**
 * The commands executed so far in the current request context (empty outside any), in the order they started.
 *
 * @example
 * ```ts
 * String(requestLog()); // "GetUser[SUCCESS][3ms], GetOrder[FAILURE, FALLBACK_SUCCESS][12ms]"
 * requestLog()[1];      // { key: 'GetOrder', events: ['FAILURE', 'FALLBACK_SUCCESS'], latency: 12, … }
 * ```
 */
export function requestLog(): RequestLog {
  const ctx = storage.getStore();
  const entries = ctx === undefined ? [] : ctx.log.slice();
  Object.defineProperty(entries, 'toString', { value: () => formatLog(entries), enumerable: false });
  return entries as unknown as RequestLog;
}

/**
 * Hystrix's rendering: identical `Key[events]` parts merge in first-appearance order, times summed, `xN` when N > 1.
 * (Hystrix resets a merged sum to 0 when a later duplicate took 0 ms; breakwater just adds.)
 */
function formatLog(entries: readonly LogEntry[]): string {
  const merged = new Map<string, { ms: number; count: number }>();
  for (const entry of entries) {
    const display = entry.display();
    const seen = merged.get(display);
    if (seen === undefined) merged.set(display, { ms: entryMs(entry), count: 1 });
    else {
      seen.ms += entryMs(entry);
      seen.count++;
    }
  }
  let out = '';
  for (const [display, { ms, count }] of merged) {
    out += `${out === '' ? '' : ', '}${display}[${ms}ms]${count > 1 ? `x${count}` : ''}`;
  }
  return out;
}
