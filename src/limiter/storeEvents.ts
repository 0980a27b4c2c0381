/** Payload of `limiterStoreUnavailable` and `limiterStoreRecovered` (on the global `events`). */
export interface LimiterStoreEvent {
  /** The shared limiter's key (`configure({ limiters: { key } })`). */
  readonly limiter: string;
  /** What decides while the store is away: `'local'` (this instance's share), `'allow'` or `'deny'`. */
  readonly onStoreUnavailable: 'local' | 'allow' | 'deny';
  /** Why the store was given up (a timeout or the client's error); absent on recovery. */
  readonly error?: unknown;
}

/** Limiter store events, on the global `events` emitter. */
export interface LimiterStoreEvents {
  /** A store-backed limiter's store failed or missed its deadline: the limiter now decides without it. */
  limiterStoreUnavailable: (e: LimiterStoreEvent) => void;
  /** The store answered again: the limiter is back on the shared bucket. */
  limiterStoreRecovered: (e: LimiterStoreEvent) => void;
}

type Sink = (name: keyof LimiterStoreEvents, event: LimiterStoreEvent) => void;
let sink: Sink | null = null;

/** @internal the global emitter plugs itself in here (the limiter room sits below the command room). */
export function setLimiterStoreSink(fn: Sink): void {
  sink = fn;
}

/** @internal */
export function emitLimiterStoreEvent(name: keyof LimiterStoreEvents, event: LimiterStoreEvent): void {
  sink?.(name, event);
}
