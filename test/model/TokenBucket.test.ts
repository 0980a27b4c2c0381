import fc from 'fast-check';
import { describe, it } from 'vitest';
import { command, metricsFor, TokenBucket } from '../../src/index.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { propertyParameters, propertyTimeout } from './runs.js';

/** Tolerance for the bucket's fractional token arithmetic. */
const EPS = 1e-6;

interface Grant {
  /** Forward progress of the clock when the tokens were granted (backward jumps add nothing). */
  readonly progress: number;
  readonly n: number;
}

/**
 * The bound every token bucket must keep: over any stretch of forward clock progress P, at most
 * `capacity + refillPerSecond × P / 1000` tokens (plus `slackMs` of refill for imprecise grant times).
 */
function checkBound(grants: readonly Grant[], capacity: number, rate: number, slackMs: number): void {
  for (let i = 0; i < grants.length; i++) {
    let sum = 0;
    for (let j = i; j < grants.length; j++) {
      sum += grants[j]!.n;
      const allowed = capacity + (rate * (grants[j]!.progress - grants[i]!.progress + slackMs)) / 1000 + EPS * (j - i + 1);
      if (sum > allowed) {
        throw new Error(`admitted ${sum} tokens over ${grants[j]!.progress - grants[i]!.progress} ms of progress; allowed ${allowed}`);
      }
    }
  }
}

interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly warmupPeriod?: number;
  readonly coldFactor?: number;
  readonly initialFraction: number;
}

const bucketArb: fc.Arbitrary<BucketSpec> = fc.record(
  {
    capacity: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0.5, max: 20, noNaN: true })),
    refillPerSecond: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0.01, max: 500, noNaN: true })),
    warmupPeriod: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })),
    coldFactor: fc.integer({ min: 1, max: 5 }),
    initialFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  },
  { requiredKeys: ['capacity', 'refillPerSecond', 'initialFraction'] },
);

type BucketOp = { op: 'advance'; ms: number } | { op: 'jump'; ms: number } | { op: 'take'; fraction: number };

/** An op of the waiting property: an advance, or a take of a fraction of the capacity waiting up to maxWait. */
type WaitOp = { op: 'advance'; ms: number } | { op: 'take'; fraction: number; maxWait: number };

const bucketOpArb: fc.Arbitrary<BucketOp> = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 500 }).map((ms) => ({ op: 'advance' as const, ms })), weight: 4 },
  { arbitrary: fc.double({ min: 0, max: 50, noNaN: true }).map((ms) => ({ op: 'advance' as const, ms })), weight: 2 },
  { arbitrary: fc.integer({ min: -3_600_000, max: 3_600_000 }).map((ms) => ({ op: 'jump' as const, ms })), weight: 1 },
  { arbitrary: fc.double({ min: 0.01, max: 1, noNaN: true }).map((fraction) => ({ op: 'take' as const, fraction })), weight: 8 },
);

function makeBucket(b: BucketSpec): TokenBucket {
  return new TokenBucket({
    capacity: b.capacity,
    refillPerSecond: b.refillPerSecond,
    initialTokens: b.capacity * b.initialFraction,
    ...(b.warmupPeriod !== undefined ? { warmupPeriod: b.warmupPeriod } : {}),
    ...(b.coldFactor !== undefined ? { coldFactor: b.coldFactor } : {}),
  });
}

/**
 * A case this property found (seed 677910447): behind two takes of the whole capacity, each served up to 1 ms after
 * its tokens were due (whole-ms timers) while the full bucket lost that refill, a waiter accepted for 148 ms was
 * answered after 150 ms. Kept as an example so every run checks it.
 */
const FOUND_LATE: [BucketSpec, WaitOp[]] = [
  { capacity: 10, refillPerSecond: 194, initialFraction: 0 },
  [
    { op: 'take', fraction: 0.07114571570751843, maxWait: 4 },
    { op: 'take', fraction: 0.30625428429248236, maxWait: 20 },
    { op: 'take', fraction: 0.9999999999999994, maxWait: 72 },
    { op: 'advance', ms: 33 },
    { op: 'take', fraction: 0.05393360652121299, maxWait: 41 },
    { op: 'take', fraction: 0.1074985122823584, maxWait: 47 },
    { op: 'advance', ms: 36 },
    { op: 'take', fraction: 0.2310806309568004, maxWait: 23 },
    { op: 'advance', ms: 7 },
    { op: 'take', fraction: 0.7332006983820845, maxWait: 54 },
    { op: 'take', fraction: 0.3160231604727296, maxWait: 70 },
    { op: 'take', fraction: 0.29366339148481524, maxWait: 85 },
    { op: 'advance', ms: 6 },
    { op: 'take', fraction: 0.9999999999999994, maxWait: 131 },
    { op: 'advance', ms: 8 },
    { op: 'take', fraction: 0.4850000001000006, maxWait: 148 },
    { op: 'advance', ms: 125 },
    { op: 'take', fraction: 0.05, maxWait: 0 },
  ],
];

describe('model: TokenBucket never admits more than capacity + rate × elapsed', () => {
  it('holds for tryTake under random takes, advances and clock jumps of up to an hour either way', () => {
    fc.assert(
      fc.property(bucketArb, fc.array(bucketOpArb, { maxLength: 200, size: 'max' }), (b, ops) => {
        const clock = useFakeClock(10_000_000);
        const bucket = makeBucket(b);
        const grants: Grant[] = [];
        let progress = 0;
        for (const op of ops) {
          if (op.op === 'advance') {
            clock.advance(op.ms);
            progress += op.ms;
          } else if (op.op === 'jump') {
            clock.jump(op.ms);
            if (op.ms > 0) progress += op.ms;
          } else {
            const n = Math.max(Number.MIN_VALUE, b.capacity * op.fraction);
            if (bucket.tryTake(n)) grants.push({ progress, n });
            const available = bucket.available();
            if (!(available >= -EPS && available <= b.capacity + EPS)) throw new Error(`available ${available} outside [0, ${b.capacity}]`);
          }
        }
        checkBound(grants, b.capacity, b.refillPerSecond, 0);
      }),
      propertyParameters(150),
    );
  }, propertyTimeout(150));

  it('holds for take(n, { maxWait }) with FIFO waiters, and every waiter is answered by its maxWait', async () => {
    await fc.assert(
      fc.asyncProperty(
        bucketArb,
        fc.array(
          fc.oneof(
            { arbitrary: fc.integer({ min: 1, max: 40 }).map((ms) => ({ op: 'advance' as const, ms })), weight: 3 },
            {
              arbitrary: fc.record({ fraction: fc.double({ min: 0.05, max: 1, noNaN: true }), maxWait: fc.integer({ min: 0, max: 300 }) }).map((t) => ({ op: 'take' as const, ...t })),
              weight: 4,
            },
          ),
          { maxLength: 60, size: 'max' },
        ),
        async (b, ops) => {
          const clock: FakeClock = useFakeClock(1000);
          const bucket = makeBucket(b);
          const grants: Grant[] = [];
          const answers: { askedAt: number; maxWait: number; answeredAt: number | null }[] = [];
          const flush = async () => {
            for (let i = 0; i < 5; i++) await Promise.resolve();
          };
          // Advance 1 ms at a time so a grant's recorded time is within 1 ms of the real one.
          const step = async (ms: number) => {
            for (let i = 0; i < ms; i++) {
              clock.advance(1);
              await flush();
            }
          };
          for (const op of ops) {
            if (op.op === 'advance') await step(op.ms);
            else {
              const n = b.capacity * op.fraction;
              const answer: (typeof answers)[number] = { askedAt: clock.now(), maxWait: op.maxWait, answeredAt: null };
              answers.push(answer);
              void bucket.take(n, { maxWait: op.maxWait }).then((granted) => {
                answer.answeredAt = clock.now();
                if (granted) grants.push({ progress: clock.now(), n });
              });
              await flush();
            }
          }
          await step(400); // every maxWait (≤ 300 ms) has passed
          for (const a of answers) {
            if (a.answeredAt === null) throw new Error(`a take asked at ${a.askedAt} with maxWait ${a.maxWait} was never answered`);
            if (a.answeredAt > a.askedAt + a.maxWait + 1) throw new Error(`a take asked at ${a.askedAt} with maxWait ${a.maxWait} was answered at ${a.answeredAt}`);
          }
          if (bucket.waiting !== 0) throw new Error(`${bucket.waiting} waiters left`);
          if (clock.pendingTimers !== 0) throw new Error(`${clock.pendingTimers} timers left`);
          checkBound(grants, b.capacity, b.refillPerSecond, 1);
        },
      ),
      { ...propertyParameters(40), examples: [FOUND_LATE] },
    );
  }, propertyTimeout(40));

  it('a rate-limited command admits no more runs than its bucket allows, and records one outcome per call', () => {
    fc.assert(
      fc.property(
        fc.record({ capacity: fc.integer({ min: 1, max: 10 }), refillPerSecond: fc.integer({ min: 1, max: 100 }) }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }).map((ms) => ({ advance: ms })), fc.constant({ call: true as const })), { maxLength: 150, size: 'max' }),
        (limit, ops) => {
          const clock = useFakeClock();
          const grants: Grant[] = [];
          const c = command({ key: 'Limited', timeout: false, metrics: { percentileEnabled: false }, rateLimit: limit, run: () => grants.push({ progress: clock.now(), n: 1 }), fallback: () => 0 });
          let calls = 0;
          for (const op of ops) {
            if ('advance' in op) clock.advance(op.advance);
            else {
              calls++;
              c.executeSync();
            }
          }
          checkBound(grants, limit.capacity, limit.refillPerSecond, 0);
          const s = metricsFor('Limited').snapshot();
          if (calls > 0 && s.cumulative.SUCCESS + s.cumulative.RATE_LIMITED !== calls) {
            throw new Error(`SUCCESS ${s.cumulative.SUCCESS} + RATE_LIMITED ${s.cumulative.RATE_LIMITED} != ${calls} calls`);
          }
          if (s.cumulative.SUCCESS !== grants.length) throw new Error('a run that was not admitted ran');
        },
      ),
      propertyParameters(150),
    );
  }, propertyTimeout(150));
});
