/**
 * The shared state behind one circuit for a fleet (see `redisStore`): the circuit's record, a channel that tells
 * every instance when it changes, and the trial lock. The breaker depends only on this interface.
 */
export interface BreakerStore {
  /** Each store call's own deadline in ms: past it the breaker decides alone (and says so). */
  readonly timeout: number;
  /** @internal listens for circuit changes published by any instance; `onConnect` runs on each (re)connection. */
  watchCircuit(key: string, listener: (state: SharedCircuitState) => void, onConnect: () => void): () => void;
  /** @internal the circuit's shared record, `null` when CLOSED (no record). */
  readCircuit(key: string): Promise<SharedCircuitState | null>;
  /**
   * @internal records and announces a state: OPEN (with its opened-at, kept for `ttlMs`) or CLOSED (the record is
   * removed); releases the trial lock when `owner` holds it.
   */
  publishCircuit(key: string, state: SharedCircuitState, ttlMs: number, owner: string): Promise<void>;
  /**
   * @internal takes the fleet's trial lock if nobody holds it and the fleet's record is OPEN: `'taken'` (also when
   * `owner` already holds it), `'busy'` (another instance holds it) or `'notOpen'` (no open record: no lock taken).
   */
  acquireTrial(key: string, owner: string): Promise<TrialAnswer>;
  /** @internal releases the trial lock if `owner` holds it. */
  releaseTrial(key: string, owner: string): Promise<void>;
}

/** @internal how a store answers a request for the fleet's trial lock (see {@link BreakerStore.acquireTrial}). */
export type TrialAnswer = 'taken' | 'busy' | 'notOpen';

/** @internal a circuit's state as the fleet shares it. */
export interface SharedCircuitState {
  readonly state: 'OPEN' | 'CLOSED';
  /** Wall-clock epoch ms of the opening (OPEN only). */
  readonly openedAt: number | null;
  /** The instance that published it. */
  readonly origin: string;
}
