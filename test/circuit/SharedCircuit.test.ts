import { beforeEach, describe, expect, it } from 'vitest';
import { circuitBreakerFor, command, events } from '../../src/index.js';
import type { BreakerStore, SharedCircuitState, TrialAnswer } from '../../src/circuit/BreakerStore.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock(10_000);
});
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A store in memory: one record and one lock per key; `deliver` plays another instance's message. */
class FakeBreakerStore implements BreakerStore {
  readonly timeout = 50;
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  record: SharedCircuitState | null = null;
  lock: string | null = null;
  published: SharedCircuitState[] = [];
  /** Lock requests answered so far. */
  asked = 0;
  private listener: ((s: SharedCircuitState) => void) | null = null;

  watchCircuit(_key: string, listener: (s: SharedCircuitState) => void): () => void {
    this.listener = listener;
    return () => (this.listener = null);
  }
  deliver(state: SharedCircuitState): void {
    this.listener?.(state);
  }
  private answer<T>(value: () => T): Promise<T> {
    if (this.mode === 'fail') return Promise.reject(new Error('ECONNREFUSED'));
    if (this.mode === 'hang') return new Promise(() => undefined);
    return Promise.resolve().then(value);
  }
  readCircuit() {
    return this.answer(() => this.record);
  }
  publishCircuit(_key: string, state: SharedCircuitState, _ttl: number, owner: string) {
    return this.answer(() => {
      this.published.push(state);
      this.record = state.state === 'OPEN' ? state : null;
      if (this.lock === owner || state.state === 'CLOSED') this.lock = null;
    });
  }
  acquireTrial(_key: string, owner: string) {
    return this.answer((): TrialAnswer => {
      this.asked++;
      if (this.record === null) return 'notOpen';
      if (this.lock !== null && this.lock !== owner) return 'busy';
      this.lock = owner;
      return 'taken';
    });
  }
  releaseTrial(_key: string, owner: string) {
    return this.answer(() => {
      if (this.lock === owner) this.lock = null;
    });
  }
}

function shared(key: string, store: FakeBreakerStore) {
  let fail = false;
  const cmd = command({
    key,
    timeout: false,
    circuitBreaker: { store, requestVolumeThreshold: 2, sleepWindow: 1000 },
    metrics: { healthSnapshotInterval: 1 },
    run: async () => {
      if (fail) throw new Error('down');
      return 'ok';
    },
    fallback: () => 'fallback',
  });
  return { cmd, setFail: (f: boolean) => (fail = f), breaker: () => circuitBreakerFor(key) };
}

describe('a circuit shared through a store', () => {
  it('publishes its opening with the wall-clock opened-at, and its trial result', async () => {
    const store = new FakeBreakerStore();
    const { cmd, setFail, breaker } = shared('Pub', store);
    setFail(true);
    await cmd.execute();
    await cmd.execute();
    clock.advance(1); // the health snapshot
    await flush();
    expect(breaker().state).toBe('OPEN');
    expect(store.published).toEqual([{ state: 'OPEN', openedAt: clock.wallTime(), origin: expect.any(String) }]);
    setFail(false);
    clock.advance(1001);
    expect(await cmd.execute()).toBe('fallback'); // the window passed: it asks for the fleet's trial lock first
    await flush();
    expect(store.lock).not.toBeNull();
    expect(await cmd.execute()).toBe('ok'); // it holds the lock: this call is the trial
    await flush();
    expect(breaker().state).toBe('CLOSED');
    expect(store.published.at(-1)).toMatchObject({ state: 'CLOSED', openedAt: null });
    expect(store.lock).toBeNull(); // released with the result
  });

  it('opens when another instance publishes an opening, keeping what remains of its sleep window, and closes on its trial result', async () => {
    const store = new FakeBreakerStore();
    const { cmd, breaker } = shared('Remote', store);
    await cmd.execute();
    store.record = { state: 'OPEN', openedAt: clock.wallTime() - 400, origin: 'other' };
    store.deliver(store.record);
    expect(breaker().state).toBe('OPEN');
    clock.advance(600);
    expect(await cmd.execute()).toBe('fallback');
    await flush();
    expect(store.lock).toBeNull(); // the window has not passed: no lock asked for
    store.lock = 'other'; // another instance runs the trial
    clock.advance(1);
    expect(await cmd.execute()).toBe('fallback');
    await flush();
    expect(await cmd.execute()).toBe('fallback'); // no lock, no trial here
    store.deliver({ state: 'CLOSED', openedAt: null, origin: 'other' });
    expect(breaker().state).toBe('CLOSED');
    expect(await cmd.execute()).toBe('ok');
    expect(store.published).toEqual([]); // what it was told, it does not publish again
  });

  it('reads the fleet’s open record when it starts', async () => {
    const store = new FakeBreakerStore();
    store.record = { state: 'OPEN', openedAt: clock.wallTime() - 200, origin: 'other' };
    const { breaker } = shared('Reads', store);
    await flush();
    expect(breaker().state).toBe('OPEN');
    expect(breaker().toJSON().openedAt).toBe(clock.wallTime() - 200);
  });

  it.each(['fail', 'hang'] as const)('with the store unavailable (%s) acts alone and says so, then shares again', async (mode) => {
    const store = new FakeBreakerStore();
    const seen: string[] = [];
    events.on('circuitStoreUnavailable', (e) => seen.push(`unavailable ${e.commandKey} ${String(e.error)}`));
    events.on('circuitStoreRecovered', (e) => seen.push(`recovered ${e.commandKey}`));
    const { cmd, setFail, breaker } = shared('Alone', store);
    await flush();
    store.mode = mode;
    setFail(true);
    await cmd.execute();
    await cmd.execute();
    clock.advance(1); // the health snapshot trips it
    await flush();
    clock.advance(50); // a hung publish misses its deadline
    await flush();
    expect(breaker().state).toBe('OPEN');
    expect(breaker().storeAvailable).toBe(false);
    expect(seen).toEqual([`unavailable Alone Error: ${mode === 'fail' ? 'ECONNREFUSED' : 'store call timed out after 50 ms'}`]);
    setFail(false);
    store.mode = 'ok';
    clock.advance(1001);
    expect(await cmd.execute()).toBe('ok'); // its own trial, no lock; it also probes the store
    expect(breaker().state).toBe('CLOSED');
    await flush();
    expect(seen.at(-1)).toBe('recovered Alone');
    expect(breaker().storeAvailable).toBe(true);
  });

  it('releases a lock whose answer crossed a close, and trusts no lock at the next opening', async () => {
    const store = new FakeBreakerStore();
    const { cmd, breaker } = shared('Crossed', store);
    await cmd.execute(); // the breaker (and its subscription) exists from the first call
    const open = () => {
      store.record = { state: 'OPEN', openedAt: clock.wallTime(), origin: 'other' };
      store.deliver(store.record);
    };
    open();
    clock.advance(1001);
    const call = cmd.execute(); // asks for the lock; the store takes it for this instance...
    store.deliver({ state: 'CLOSED', openedAt: null, origin: 'other' }); // ...while the fleet's close is on its way
    expect(await call).toBe('fallback');
    await flush();
    expect(breaker().state).toBe('CLOSED');
    expect(store.asked).toBe(1);
    expect(store.lock).toBeNull(); // released: a lock for a closed circuit would hold back the next trial
    open(); // the next opening: the old answer is not a lock for it
    clock.advance(1001);
    expect(await cmd.execute()).toBe('fallback');
    expect(breaker().state).toBe('OPEN');
    await flush();
    expect(store.asked).toBe(2);
    expect(await cmd.execute()).toBe('ok'); // the lock it holds now
    expect(breaker().state).toBe('CLOSED');
  });

  it('runs its own trial only after the fleet twice had no open record for it, and not when a close crossed the first answer', async () => {
    const store = new FakeBreakerStore();
    const { cmd, breaker } = shared('Unshared', store);
    await cmd.execute();
    // an opening the fleet never recorded (e.g. the record expired while the fleet was idle)
    store.deliver({ state: 'OPEN', openedAt: clock.wallTime(), origin: 'other' });
    clock.advance(1001);
    expect(await cmd.execute()).toBe('fallback'); // asks: no open record
    await flush();
    expect(store.asked).toBe(1);
    expect(await cmd.execute()).toBe('fallback'); // once may be a close on its way: no trial yet
    clock.advance(250);
    expect(await cmd.execute()).toBe('fallback'); // asks again: still none
    await flush();
    expect(store.asked).toBe(2);
    expect(await cmd.execute()).toBe('ok'); // nobody else has a trial for it: this is the trial
    expect(breaker().state).toBe('CLOSED');
    await flush();
    expect(store.lock).toBeNull();

    // the common case: the first "no record" crossed the fleet's close; the close arrives and nothing is trialled
    store.deliver({ state: 'OPEN', openedAt: clock.wallTime(), origin: 'other' });
    clock.advance(1001);
    expect(await cmd.execute()).toBe('fallback');
    await flush();
    store.deliver({ state: 'CLOSED', openedAt: null, origin: 'other' });
    expect(breaker().state).toBe('CLOSED');
    store.deliver({ state: 'OPEN', openedAt: clock.wallTime(), origin: 'other' }); // a new opening starts the count again
    clock.advance(1001);
    expect(await cmd.execute()).toBe('fallback');
    await flush();
    expect(await cmd.execute()).toBe('fallback'); // one "no record" in this opening: still no trial
    expect(breaker().state).toBe('OPEN');
  });

  it('refuses a store that is not one', () => {
    expect(() => command({ key: 'Bad', run: async () => 1, circuitBreaker: { store: {} as never } })).toThrow(/`circuitBreaker\.store` must be a store made by redisStore/);
  });
});
