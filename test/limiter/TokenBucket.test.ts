import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

function drain(bucket: TokenBucket): number {
  let n = 0;
  while (bucket.tryTake()) n++;
  return n;
}

describe('TokenBucket: tryTake', () => {
  it('starts full and admits a burst of capacity, then refuses', () => {
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 1 });
    expect(drain(bucket)).toBe(5);
    expect(bucket.tryTake()).toBe(false);
    expect(bucket.available()).toBe(0);
  });

  it('refills continuously at refillPerSecond, lazily from the clock', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 5 });
    drain(bucket);
    clock.advance(199);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
    clock.advance(1000);
    expect(drain(bucket)).toBe(5);
    expect(clock.pendingTimers).toBe(0);
  });

  it('never holds more than capacity however long it idles', () => {
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 100 });
    clock.advance(3_600_000);
    expect(bucket.available()).toBe(3);
    expect(drain(bucket)).toBe(3);
  });

  it('starts with initialTokens when given', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1, initialTokens: 2 });
    expect(drain(bucket)).toBe(2);
  });

  it('takes several tokens at once, all or nothing', () => {
    const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 1 });
    expect(bucket.tryTake(3)).toBe(true);
    expect(bucket.tryTake(2)).toBe(false);
    expect(bucket.available()).toBe(1);
    expect(bucket.tryTake(0.5)).toBe(true);
  });

  it('accepts an explicit now, so pure callers need no clock', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10 });
    expect(bucket.tryTake(1, 0)).toBe(true);
    expect(bucket.tryTake(1, 50)).toBe(false);
    expect(bucket.tryTake(1, 100)).toBe(true);
  });

  it('mints nothing for a backward clock step, and refills from the new reading (no starvation)', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10 });
    clock.advance(1000);
    drain(bucket);
    clock.jump(-5000);
    expect(bucket.available()).toBe(0);
    clock.advance(100); // real time passes after the step: the bucket refills for it
    expect(bucket.available()).toBeCloseTo(1, 9);
  });

  it.each([
    [0, RangeError],
    [-1, RangeError],
    [Number.NaN, RangeError],
    [Number.POSITIVE_INFINITY, RangeError],
    [11, RangeError],
    ['1', TypeError],
  ])('refuses n = %s with a message naming it', (n, type) => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1 });
    expect(() => bucket.tryTake(n as number)).toThrow(type);
    expect(() => bucket.tryTake(n as number)).toThrow(/`TokenBucket\.tryTake n` must be a finite number > 0 and <= capacity \(10\)/);
    expect(bucket.available()).toBe(10);
  });
});

describe('TokenBucket: options', () => {
  it.each([
    [{ capacity: 0, refillPerSecond: 1 }, /`TokenBucket\.capacity` must be .*got 0 \(number\)/],
    [{ capacity: 1, refillPerSecond: -1 }, /`TokenBucket\.refillPerSecond` must be .*got -1/],
    [{ capacity: 1, refillPerSecond: Infinity }, /`TokenBucket\.refillPerSecond`/],
    [{ capacity: 2, refillPerSecond: 1, initialTokens: 3 }, /`TokenBucket\.initialTokens` must be .*between 0 and 2.*got 3/],
    [{ capacity: 2, refillPerSecond: 1, warmupPeriod: -5 }, /`TokenBucket\.warmupPeriod`/],
    [{ capacity: 2, refillPerSecond: 1, coldFactor: 0.5 }, /`TokenBucket\.coldFactor` must be .*between 1 and 1000/],
    [{ capacity: 2, refillPerSecond: 1, burst: 4 }, /`TokenBucket\.burst` must be one of the known options/],
    [{ refillPerSecond: 1 }, /`TokenBucket\.capacity` must be .*got undefined/],
  ])('refuses %o', (options, message) => {
    expect(() => new TokenBucket(options as never)).toThrow(message);
  });

  it('fills in the defaults', () => {
    expect(new TokenBucket({ capacity: 4, refillPerSecond: 2 }).options).toEqual({
      capacity: 4,
      refillPerSecond: 2,
      initialTokens: 4,
      warmupPeriod: 0,
      coldFactor: 3,
    });
  });
});

describe('TokenBucket: take', () => {
  it('resolves true at once when the tokens are there, with no timer', async () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1 });
    await expect(bucket.take(2)).resolves.toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('waits for tokens in FIFO order with one timer, dropped once nobody waits', async () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 10 }); // a token every 100 ms
    drain(bucket);
    const order: string[] = [];
    const a = bucket.take(1).then((ok) => order.push(`a:${ok}@${clock.now()}`));
    const b = bucket.take(2).then((ok) => order.push(`b:${ok}@${clock.now()}`));
    const c = bucket.take(1).then((ok) => order.push(`c:${ok}@${clock.now()}`));
    expect(bucket.waiting).toBe(3);
    expect(clock.pendingTimers).toBe(1);
    expect(bucket.tryTake()).toBe(false); // waiters come first
    for (let t = 0; t < 4; t++) {
      clock.advance(100);
      await Promise.resolve();
    }
    await Promise.all([a, b, c]);
    expect(order).toEqual(['a:true@100', 'b:true@300', 'c:true@400']);
    expect(bucket.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('resolves false at once when the tokens cannot arrive within maxWait', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10 });
    drain(bucket);
    await expect(bucket.take(1, { maxWait: 99 })).resolves.toBe(false);
    await expect(bucket.take(1, { maxWait: 0 })).resolves.toBe(false);
    expect(bucket.waiting).toBe(0);
    const ok = bucket.take(1, { maxWait: 100 });
    expect(bucket.waiting).toBe(1);
    // A second waiter is due after the first: 200 ms.
    await expect(bucket.take(1, { maxWait: 150 })).resolves.toBe(false);
    clock.advance(100);
    await expect(ok).resolves.toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('answers a waiter within its maxWait behind takes of a whole capacity (a full bucket loses the refill while a timer rounds up)', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 3 }); // a token every 333.3 ms
    drain(bucket);
    const granted: number[] = [];
    for (let i = 0; i < 10; i++) void bucket.take(1).then((ok) => ok && granted.push(clock.now()));
    // due at 11 × 333.3 = 3,666.7 ms if every token were taken the moment it is there; the timer fires on whole
    // milliseconds, and a bucket of capacity 1 holds no more meanwhile, so the 11th token comes later than that
    let answeredAt = -1;
    const last = bucket.take(1, { maxWait: 3667 }).then((ok) => {
      answeredAt = clock.now();
      return ok;
    });
    let lateAt = -1;
    const late = bucket.take(1, { maxWait: 4100 }).then((ok) => {
      lateAt = clock.now();
      return ok;
    });
    for (let t = 0; t < 4100 && bucket.waiting > 0; t++) {
      clock.advance(1);
      await Promise.resolve();
    }
    await Promise.all([last, late]);
    expect(answeredAt).toBeLessThanOrEqual(3667);
    expect(granted).toHaveLength(10);
    for (let i = 1; i < granted.length; i++) expect(granted[i]! - granted[i - 1]!).toBeGreaterThanOrEqual(333); // no burst
    expect(lateAt).toBeLessThanOrEqual(4100);
    await expect(late).resolves.toBe(true); // one that can make it is not refused
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with the reason when aborted, and the next waiter moves up', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10 });
    drain(bucket);
    const controller = new AbortController();
    const first = bucket.take(1, { signal: controller.signal });
    let secondAt = -1;
    const second = bucket.take(1, { maxWait: 250 }).then((ok) => {
      secondAt = clock.now();
      return ok;
    });
    clock.advance(50);
    controller.abort(new Error('caller went away'));
    await expect(first).rejects.toThrow('caller went away');
    expect(bucket.waiting).toBe(1);
    clock.advance(50);
    await expect(second).resolves.toBe(true);
    expect(secondAt).toBe(100);
    expect(bucket.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once for an already-aborted signal and takes nothing', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    const signal = AbortSignal.abort(new Error('too late'));
    await expect(bucket.take(1, { signal })).rejects.toThrow('too late');
    expect(bucket.available()).toBe(1);
  });

  it('refuses bad arguments with messages naming them', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    expect(() => bucket.take(2)).toThrow(/`TokenBucket\.take n`/);
    expect(() => bucket.take(1, { maxWait: -1 })).toThrow(/`TokenBucket\.take maxWait` must be a finite number >= 0/);
    expect(() => bucket.take(1, { maxWait: Number.NaN })).toThrow(RangeError);
    expect(() => bucket.take(1, { signal: {} as AbortSignal })).toThrow(/`TokenBucket\.take signal` must be an AbortSignal/);
    expect(() => bucket.take(1, { maxwait: 5 } as never)).toThrow(/`TokenBucket\.take options\.maxwait`/);
  });

  it('serves a waiter after a backward clock step as soon as the refill from the new reading allows', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10 });
    clock.advance(1000);
    drain(bucket);
    clock.jump(-500);
    const pending = bucket.take(1, { maxWait: 1000 });
    clock.advance(99); // at 599: the token is due at 600 (100 ms after the step)
    expect(bucket.waiting).toBe(1);
    clock.advance(1);
    await expect(pending).resolves.toBe(true);
  });
});

describe('TokenBucket: warm-up (Guava SmoothWarmingUp geometry)', () => {
  const rate = 10; // tokens per second: stable interval 100 ms, cold interval 300 ms

  it('starts cold: refills at refillPerSecond / coldFactor', () => {
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: rate, initialTokens: 0, warmupPeriod: 1000 });
    expect(bucket.currentRate()).toBeCloseTo(rate / 3, 9);
    clock.advance(299);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
  });

  it('reaches the full rate after warmupPeriod of saturating demand (plus half a cold interval, whole tokens)', () => {
    // threshold 5, cold max 10, interval 100 + 40 ms per token of coldness above 5; each token taken warms by one.
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: rate, initialTokens: 0, warmupPeriod: 1000 });
    const takenAt: number[] = [];
    for (let t = 1; t <= 1500; t++) {
      clock.advance(1);
      while (bucket.tryTake()) takenAt.push(t);
      if (t < 1100) expect(bucket.currentRate()).toBeLessThan(rate);
    }
    expect(takenAt).toEqual([300, 560, 780, 960, 1100, 1200, 1300, 1400, 1500]);
    expect(bucket.currentRate()).toBeCloseTo(rate, 9);
  });

  it('cools down again when it idles full for warmupPeriod', () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: rate, initialTokens: 0, warmupPeriod: 1000 });
    for (let t = 0; t < 3000; t++) {
      clock.advance(1);
      bucket.tryTake();
    }
    expect(bucket.currentRate()).toBeCloseTo(rate, 6);
    clock.advance(200 + 1000); // fills (2 tokens at 100 ms each), then idles a full warm-up period
    expect(bucket.currentRate()).toBeCloseTo(rate / 3, 6);
    expect(drain(bucket)).toBe(2); // the burst is untouched by warm-up
  });

  it('keeps the burst: a cold, full bucket still admits capacity at once', () => {
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: rate, warmupPeriod: 10_000 });
    expect(drain(bucket)).toBe(5);
  });

  it('uses coldFactor for the cold rate', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 12, initialTokens: 0, warmupPeriod: 500, coldFactor: 4 });
    expect(bucket.currentRate()).toBeCloseTo(3, 9);
  });
});

type Op =
  | { kind: 'advance'; ms: number }
  | { kind: 'jump'; ms: number }
  | { kind: 'try'; n: number }
  | { kind: 'wait'; n: number; maxWait: number }
  | { kind: 'cancel'; index: number };

const opArb = (capacity: number, jumps: boolean): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }) },
    { weight: jumps ? 1 : 0, arbitrary: fc.record({ kind: fc.constant('jump' as const), ms: fc.integer({ min: -2000, max: 0 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('try' as const), n: fc.integer({ min: 1, max: capacity }) }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('wait' as const), n: fc.integer({ min: 1, max: capacity }), maxWait: fc.integer({ min: 0, max: 3000 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), index: fc.nat() }) },
  );

const scenarioArb = (jumps: boolean, warmup: boolean) =>
  fc
    .record({
      capacity: fc.integer({ min: 1, max: 12 }),
      rate: fc.integer({ min: 1, max: 60 }),
      initialFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      warmupPeriod: warmup ? fc.integer({ min: 1, max: 5000 }) : fc.constant(0),
      coldFactor: fc.integer({ min: 1, max: 6 }),
    })
    .chain((s) => fc.tuple(fc.constant(s), fc.array(opArb(s.capacity, jumps), { maxLength: 120 })));

/** Runs ops against a bucket; returns admissions as [latest clock time seen, tokens]. */
function run(s: { capacity: number; rate: number; initialFraction: number; warmupPeriod: number; coldFactor: number }, ops: Op[]) {
  const c = useFakeClock();
  const bucket = new TokenBucket({
    capacity: s.capacity,
    refillPerSecond: s.rate,
    initialTokens: s.capacity * s.initialFraction,
    warmupPeriod: s.warmupPeriod,
    coldFactor: s.coldFactor,
  });
  let highWater = 0;
  let elapsed = 0; // time that passed going forward (advances and forward jumps)
  const admitted: [number, number][] = [];
  const waits: { cancel(): void }[] = [];
  for (const op of ops) {
    if (op.kind === 'advance') c.advance(op.ms);
    else if (op.kind === 'jump') c.jump(op.ms);
    if ((op.kind === 'advance' || op.kind === 'jump') && op.ms > 0) elapsed += op.ms;
    highWater = Math.max(highWater, c.now());
    if (op.kind === 'try') {
      if (bucket.tryTake(op.n)) admitted.push([highWater, op.n]);
    } else if (op.kind === 'wait') {
      const n = op.n;
      const w = bucket.wait(n, op.maxWait, c.now(), (granted) => {
        if (granted) admitted.push([Math.max(highWater, c.now()), n]);
      });
      if (w !== null) waits.push(w);
    } else if (op.kind === 'cancel' && waits.length > 0) {
      waits.splice(op.index % waits.length, 1)[0]!.cancel();
    }
  }
  for (const w of waits) w.cancel();
  return { admitted, highWater, elapsed, bucket, clock: c };
}

function checkWindows(admitted: [number, number][], capacity: number, rate: number): void {
  for (let i = 0; i < admitted.length; i++) {
    let sum = 0;
    for (let j = i; j < admitted.length; j++) {
      sum += admitted[j]![1];
      const span = admitted[j]![0] - admitted[i]![0];
      expect(sum).toBeLessThanOrEqual(capacity + (rate * span) / 1000 + 1e-6);
    }
  }
}

describe('TokenBucket: properties (fast-check, fake clock)', () => {
  it('admits at most capacity + rate × T over any interval T', () => {
    fc.assert(
      fc.property(scenarioArb(false, false), ([s, ops]) => {
        const { admitted, bucket, clock: c } = run(s, ops);
        checkWindows(admitted, s.capacity, s.rate);
        expect(bucket.waiting).toBe(0);
        expect(c.pendingTimers).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('admits at most capacity + rate × T with warm-up too', () => {
    fc.assert(
      fc.property(scenarioArb(false, true), ([s, ops]) => {
        const { admitted, bucket, clock: c } = run(s, ops);
        checkWindows(admitted, s.capacity, s.rate);
        expect(bucket.waiting).toBe(0);
        expect(c.pendingTimers).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never mints tokens when the clock steps back: admits at most initial + rate × time passed forward', () => {
    fc.assert(
      fc.property(scenarioArb(true, false), ([s, ops]) => {
        const { admitted, elapsed } = run(s, ops);
        const total = admitted.reduce((a, [, n]) => a + n, 0);
        expect(total).toBeLessThanOrEqual(s.capacity * s.initialFraction + (s.rate * elapsed) / 1000 + 1e-6);
      }),
      { numRuns: 300 },
    );
  });

  it('serves every accepted waiter by its deadline unless it is cancelled', () => {
    fc.assert(
      fc.property(scenarioArb(false, true), ([s, ops]) => {
        const c = useFakeClock();
        const bucket = new TokenBucket({ capacity: s.capacity, refillPerSecond: s.rate, warmupPeriod: s.warmupPeriod || 1000 });
        const late: number[] = [];
        let pending = 0;
        for (const op of ops) {
          if (op.kind === 'advance') c.advance(op.ms);
          else if (op.kind === 'try') bucket.tryTake(op.n);
          else if (op.kind === 'wait') {
            const deadline = c.now() + op.maxWait;
            const w = bucket.wait(op.n, op.maxWait, c.now(), (granted) => {
              pending--;
              // Timers fire on whole ms, so a fractional due time may be served up to 1 ms late.
              if (!granted || c.now() >= deadline + 1) late.push(c.now() - deadline);
            });
            if (w !== null) pending++;
          }
        }
        c.advance(10_000);
        expect(late).toEqual([]);
        expect(pending).toBe(0);
        expect(c.pendingTimers).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
