import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  allPools,
  BadRequestError,
  circuitBreakerFor,
  command,
  configure,
  isBadRequestError,
  isCommandError,
  metricsFor,
  TimeoutError,
} from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';
import {
  CommandModel,
  EVENT_NAMES,
  PRIMARY_OUTCOMES,
  settleTime,
  SLOT,
  type BreakerSettings,
  type Delivered,
  type Plan,
  type PoolSettings,
  type SettingsLayer,
} from './referenceModel.js';
import { propertyParameters, propertyTimeout } from './runs.js';

// ---- what a run does -------------------------------------------------------------------------------------------

interface CallArg {
  readonly id: number;
  readonly slot: number;
  readonly plan: Plan;
}

/** A thenable the test settles synchronously from a FakeClock timer, so the executor sees the outcome at that instant. */
class ControlledWork {
  private onValue: ((v: unknown) => void) | null = null;
  private onError: ((e: unknown) => void) | null = null;
  settled = false;
  constructor(readonly arg: CallArg, private readonly outcome: () => { value: unknown } | { error: unknown }) {}
  then(onValue: (v: unknown) => void, onError: (e: unknown) => void): void {
    this.onValue = onValue;
    this.onError = onError;
  }
  settle(): void {
    if (this.settled) throw new Error(`work ${this.arg.id} settled twice`);
    this.settled = true;
    const o = this.outcome();
    if ('value' in o) this.onValue!(o.value);
    else this.onError!(o.error);
  }
}

// ---- generated schedules ---------------------------------------------------------------------------------------

type Op =
  | { readonly op: 'call'; readonly plan: Plan; readonly sync: boolean }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'cancel'; readonly pick: number }
  | { readonly op: 'configure'; readonly layer: SettingsLayer }
  | { readonly op: 'pool'; readonly settings: Partial<PoolSettings> }
  | { readonly op: 'force'; readonly what: 'forceOpen' | 'forceClosed' | 'reset' }
  | { readonly op: 'unstick' };

interface Setup {
  readonly timeout: number | false;
  readonly maxConcurrent: number;
  readonly circuitBreaker: BreakerSettings;
  readonly bucketMs: number;
  readonly buckets: number;
  readonly healthSnapshotInterval: number;
  readonly pool: PoolSettings;
  /** The command's own token bucket, if any. */
  readonly rateLimit: { readonly capacity: number; readonly refillPerSecond: number } | null;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  outcome: fc.oneof({ arbitrary: fc.constant('ok' as const), weight: 5 }, { arbitrary: fc.constant('fail' as const), weight: 4 }, { arbitrary: fc.constant('bad' as const), weight: 1 }),
  timing: fc.oneof(
    { arbitrary: fc.constant('now' as const), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 1500 }), weight: 6 },
    { arbitrary: fc.constant('never' as const), weight: 1 },
  ),
  fallback: fc.oneof({ arbitrary: fc.constant('value' as const), weight: 3 }, fc.constant('throw' as const), fc.constant('missing' as const)),
});

const timeoutArb = fc.oneof({ arbitrary: fc.constant(false as const), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: 1500 }), weight: 4 });

/** The strategies beyond Hystrix's rule (docs/circuit-breaker.md), with small numbers so they trip often. */
function strategyArbs() {
  return {
    strategy: fc.oneof(
      { arbitrary: fc.constant('errorPercentage' as const), weight: 2 },
      fc.constant('consecutive' as const),
      fc.constant('countWindow' as const),
    ),
    consecutiveFailures: fc.integer({ min: 1, max: 4 }),
    windowSize: fc.integer({ min: 1, max: 6 }),
    minimumCalls: fc.integer({ min: 1, max: 8 }),
  };
}

const breakerLayerArb: fc.Arbitrary<Partial<BreakerSettings>> = fc.record(
  {
    enabled: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)),
    requestVolumeThreshold: fc.integer({ min: 0, max: 6 }),
    errorThresholdPercentage: fc.integer({ min: 0, max: 100 }),
    sleepWindow: fc.integer({ min: 0, max: 2000 }),
    forceOpen: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, fc.constant(true)),
    forceClosed: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, fc.constant(true)),
    ...strategyArbs(),
    halfOpen: fc.record({ permittedCalls: fc.integer({ min: 1, max: 3 }), successThreshold: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const layerArb: fc.Arbitrary<SettingsLayer> = fc.record(
  {
    timeout: timeoutArb,
    maxConcurrent: fc.integer({ min: 1, max: 5 }),
    circuitBreaker: breakerLayerArb,
    metrics: fc.record({ healthSnapshotInterval: fc.integer({ min: 1, max: 600 }) }),
  },
  { requiredKeys: [] },
);

const poolArb: fc.Arbitrary<PoolSettings> = fc.record({
  coreSize: fc.integer({ min: 1, max: 4 }),
  maxQueueSize: fc.integer({ min: -1, max: 5 }),
  queueSizeRejectionThreshold: fc.integer({ min: 0, max: 5 }),
});

const setupArb: fc.Arbitrary<Setup> = fc.record({
  timeout: timeoutArb,
  maxConcurrent: fc.integer({ min: 1, max: 5 }),
  circuitBreaker: fc.record({
    enabled: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, fc.constant(false)),
    requestVolumeThreshold: fc.integer({ min: 0, max: 6 }),
    errorThresholdPercentage: fc.integer({ min: 0, max: 100 }),
    sleepWindow: fc.integer({ min: 0, max: 2000 }),
    forceOpen: fc.constant(false),
    forceClosed: fc.constant(false),
    ...strategyArbs(),
    halfOpen: fc.record({ permittedCalls: fc.integer({ min: 1, max: 3 }), successThreshold: fc.integer({ min: 1, max: 3 }) }),
  }),
  bucketMs: fc.constantFrom(10, 50, 100, 250, 500),
  buckets: fc.constantFrom(1, 2, 4, 5, 10),
  healthSnapshotInterval: fc.integer({ min: 1, max: 600 }),
  pool: poolArb,
  rateLimit: fc.oneof(
    { arbitrary: fc.constant(null), weight: 3 },
    { arbitrary: fc.record({ capacity: fc.integer({ min: 1, max: 5 }), refillPerSecond: fc.integer({ min: 1, max: 50 }) }), weight: 1 },
  ),
});

function opsArb(isolation: 'semaphore' | 'pool'): fc.Arbitrary<Op[]> {
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: planArb.map((plan) => ({ op: 'call' as const, plan, sync: false })), weight: 10 },
    {
      // executeSync: mostly a synchronous run; sometimes (misuse) a run returning a thenable
      arbitrary: fc.tuple(planArb, fc.integer({ min: 0, max: 5 })).map(([plan, misuse]) => ({ op: 'call' as const, plan: misuse === 0 ? plan : { ...plan, timing: 'now' as const }, sync: true })),
      weight: 3,
    },
    { arbitrary: fc.integer({ min: 0, max: 60 }).map((ms) => ({ op: 'advance' as const, ms })), weight: 5 },
    { arbitrary: fc.integer({ min: 0, max: 3000 }).map((ms) => ({ op: 'advance' as const, ms })), weight: 3 },
    { arbitrary: fc.nat().map((pick) => ({ op: 'cancel' as const, pick })), weight: 1 },
    { arbitrary: layerArb.map((layer) => ({ op: 'configure' as const, layer })), weight: 1 },
    {
      arbitrary: fc.oneof({ arbitrary: fc.constant('reset' as const), weight: 2 }, fc.constant('forceOpen' as const), fc.constant('forceClosed' as const)).map((what) => ({ op: 'force' as const, what })),
      weight: 1,
    },
    { arbitrary: fc.constant({ op: 'unstick' as const }), weight: 1 },
    ...(isolation === 'pool'
      ? [{ arbitrary: poolArb.map((s) => ({ op: 'pool' as const, settings: s as Partial<PoolSettings> })), weight: 1 }]
      : []),
  );
  return fc.array(op, { minLength: 1, maxLength: 150, size: 'max' });
}

// ---- one run: the implementation and the model side by side ---------------------------------------------------

const KEY = 'M';

class Mismatch extends Error {}

/** What the schedules reached (printed with BW_PROPERTY_VERBOSE=1), to show the model is not tested on trivia. */
const coverage = new Map<string, number>();
function covered(what: string): void {
  coverage.set(what, (coverage.get(what) ?? 0) + 1);
}
function reportCoverage(title: string): void {
  if (process.env.BW_PROPERTY_VERBOSE) console.log(title, Object.fromEntries([...coverage].sort()));
  coverage.clear();
}

function same(what: string, actual: unknown, expected: unknown, step: number): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Mismatch(`step ${step}: ${what}: actual ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`);
  }
}

function holds(what: string, ok: boolean, step: number): void {
  if (!ok) throw new Mismatch(`step ${step}: invariant broken: ${what}`);
}

function runSchedule(isolation: 'semaphore' | 'pool', setup: Setup, ops: readonly Op[]): void {
  const clock = useFakeClock();
  // the model has no key expiry (test/command/keyExpiry.test.ts covers it): its final drain idles for 1,000 s
  configure({ keyExpiry: false });
  if (isolation === 'pool') configure({ pools: { [KEY]: setup.pool } });
  const own = {
    timeout: setup.timeout,
    maxConcurrent: setup.maxConcurrent,
    isolation,
    ...(setup.rateLimit === null ? {} : { rateLimit: setup.rateLimit }),
    circuitBreaker: setup.circuitBreaker,
    metrics: {
      rollingWindow: setup.bucketMs * setup.buckets,
      rollingBuckets: setup.buckets,
      healthSnapshotInterval: setup.healthSnapshotInterval,
      percentileEnabled: false,
    },
  };
  const model = new CommandModel(
    { timeout: setup.timeout, maxConcurrent: setup.maxConcurrent, circuitBreaker: setup.circuitBreaker, metrics: { healthSnapshotInterval: setup.healthSnapshotInterval } },
    isolation,
    isolation === 'pool' ? setup.pool : null,
    setup.bucketMs,
    setup.buckets,
    setup.rateLimit !== null,
  );

  const failErrors = new Map<number, Error>();
  const badErrors = new Map<number, BadRequestError>();
  const works = new Map<number, ControlledWork>();
  const fallbackSaw = new Map<number, string>();
  const delivered = new Map<number, Delivered>();
  const deliveries = new Map<number, number>();
  const subscriptions: { unsubscribe(): void }[] = [];
  const cancelledIds = new Set<number>();
  let cancelledUndelivered = 0;
  let errorsDelivered = 0;

  const outcomeOf = (arg: CallArg): { value: unknown } | { error: unknown } => {
    if (arg.plan.outcome === 'ok') return { value: `ok:${arg.id}` };
    if (arg.plan.outcome === 'fail') {
      const e = new Error(`fail ${arg.id}`);
      failErrors.set(arg.id, e);
      return { error: e };
    }
    const b = new BadRequestError(`bad ${arg.id}`);
    badErrors.set(arg.id, b);
    return { error: b };
  };
  const run = (arg: CallArg): unknown => {
    if (arg.plan.timing === 'now') {
      const o = outcomeOf(arg);
      if ('value' in o) return o.value;
      throw o.error;
    }
    const work = new ControlledWork(arg, () => outcomeOf(arg));
    works.set(arg.id, work);
    if (typeof arg.plan.timing === 'number') {
      const at = settleTime(arg.slot, clock.now(), arg.plan.timing);
      clock.setTimer(() => work.settle(), at - clock.now());
    }
    return work;
  };
  const withFallback = command({
    key: KEY,
    ...own,
    run: (arg: CallArg) => run(arg),
    fallback: (error: unknown, arg: CallArg) => {
      fallbackSaw.set(arg.id, error === failErrors.get(arg.id) ? 'COMMAND_EXCEPTION' : isCommandError(error) ? error.failureType : `unexpected ${String(error)}`);
      if (arg.plan.fallback === 'throw') throw new Error(`fallback ${arg.id} failed`);
      return `fb:${arg.id}`;
    },
  });
  const withoutFallback = command({ key: KEY, ...own, run: (arg: CallArg) => run(arg) });

  const record = (id: number, d: Delivered): void => {
    deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
    delivered.set(id, d);
  };
  const toDelivered = (id: number, error: unknown, step: number): Delivered => {
    errorsDelivered++;
    if (error instanceof TypeError && error.message.includes('executeSync')) return { kind: 'misuse' };
    if (isBadRequestError(error)) {
      holds(`the BadRequestError of call ${id} reaches its caller as itself`, error === badErrors.get(id), step);
      return { kind: 'bad' };
    }
    if (!isCommandError(error)) throw new Mismatch(`step ${step}: call ${id} got a non-CommandError: ${String(error)}`);
    if (error.failureType === 'COMMAND_EXCEPTION') holds(`call ${id}: cause is what run threw`, error.cause === failErrors.get(id), step);
    if (error.failureType === 'TIMEOUT') holds(`call ${id}: cause is a TimeoutError`, error.cause instanceof TimeoutError, step);
    return { kind: 'error', failureType: error.failureType, fallbackFailed: error.fallbackError !== undefined };
  };

  const runtime = () => existingRuntime(KEY)!;
  const pool = () => allPools().find((p) => p.key === KEY);
  let calls = 0;
  let slot = 0;
  /** Times at which a call got past the rate limiter. */
  const grants: number[] = [];

  const check = (step: number): void => {
    const m = metricsFor(KEY);
    const snap = m.snapshot(clock.now());
    same('time', clock.now(), model.t, step);
    same('circuit state', circuitBreakerFor(KEY).state, model.visibleState, step);
    same('health snapshot', m.healthCounts, model.lastHealth, step);
    for (const type of EVENT_NAMES) {
      same(`rolling ${type}`, snap.rolling[type], model.rolling(type), step);
      same(`cumulative ${type}`, snap.cumulative[type], model.count(type), step);
    }
    same('concurrency.current', snap.concurrency.current, model.running, step);
    same('concurrency.rollingMax', snap.concurrency.rollingMax, model.rollingMax(), step);
    same('armed deadlines', deadlinesFor(clock).size, model.armedDeadlines, step);
    if (isolation === 'semaphore') same('semaphore permits in use', runtime().semaphore.inUse, model.inUse, step);
    else {
      same('pool active', pool()?.activeCount ?? 0, model.poolActive, step);
      same('pool queue', pool()?.queueSize ?? 0, model.queue.length, step);
    }
    for (const e of model.execs) {
      same(`result of call ${e.id}`, delivered.get(e.id) ?? null, e.delivered, step);
      same(`fallback input of call ${e.id}`, fallbackSaw.get(e.id) ?? null, e.fallbackSaw, step);
      holds(`call ${e.id} delivered at most once`, (deliveries.get(e.id) ?? 0) <= 1, step);
    }
    // Every execution records exactly one terminal outcome: one of PRIMARY_OUTCOMES when its caller gets a result
    // (fallbacks here are synchronous), or CANCELLED when its caller unsubscribed before that; the rest are in flight.
    const primaries = PRIMARY_OUTCOMES.reduce((sum, type) => sum + snap.cumulative[type], 0);
    const inFlight = model.execs.filter((e) => e.phase !== 'done').length;
    holds(`outcomes (${primaries}) = results delivered (${delivered.size})`, primaries === delivered.size, step);
    holds(
      `outcomes (${primaries}) + cancelled-before-outcome (${cancelledUndelivered}) + in flight (${inFlight}) = executions (${calls})`,
      primaries + cancelledUndelivered + inFlight === calls,
      step,
    );
    same('cumulative CANCELLED', snap.cumulative.CANCELLED, cancelledUndelivered, step);
    same('EXCEPTION_THROWN = errors delivered', snap.cumulative.EXCEPTION_THROWN, errorsDelivered, step);
    for (const type of EVENT_NAMES) holds(`no negative ${type}`, snap.rolling[type] >= 0, step);
  };

  const freshSlot = (): void => {
    clock.advance(SLOT);
    model.advance(SLOT);
    slot++;
  };

  const bounds = () => ({
    inUse: isolation === 'semaphore' ? runtime().semaphore.inUse : (pool()?.activeCount ?? 0),
    queue: pool()?.queueSize ?? 0,
  });
  const checkBounds = (before: { inUse: number; queue: number }, step: number): void => {
    const after = bounds();
    if (isolation === 'semaphore') {
      if (after.inUse > before.inUse) holds(`permits ${after.inUse} <= maxConcurrent ${runtime().semaphore.limit}`, after.inUse <= runtime().semaphore.limit, step);
    } else {
      const p = pool();
      if (p === undefined) return;
      const cfg = p.config;
      if (after.inUse > before.inUse) holds(`pool active ${after.inUse} <= coreSize ${cfg.coreSize}`, after.inUse <= cfg.coreSize, step);
      if (after.queue > before.queue) {
        holds(`queue ${after.queue} <= min(threshold, maxQueueSize)`, after.queue <= Math.min(cfg.queueSizeRejectionThreshold, cfg.maxQueueSize), step);
      }
    }
  };

  const unstickAll = (): void => {
    for (;;) {
      let next: ControlledWork | undefined;
      for (const w of works.values()) if (!w.settled && w.arg.plan.timing === 'never' && (next === undefined || w.arg.id < next.arg.id)) next = w;
      if (next === undefined) break;
      next.settle();
    }
  };

  check(-1);
  ops.forEach((op, step) => {
    const before = bounds();
    if (op.op === 'advance') {
      clock.advance(op.ms);
      model.advance(op.ms);
    } else {
      freshSlot();
      switch (op.op) {
        case 'call': {
          const id = calls++;
          const arg: CallArg = { id, slot, plan: op.plan };
          const handle = op.plan.fallback === 'missing' ? withoutFallback : withFallback;
          const valueOf = (v: unknown): Delivered =>
            v === `ok:${id}` ? { kind: 'value', id } : v === `fb:${id}` ? { kind: 'fallback', id } : { kind: 'error', failureType: `value ${String(v)}`, fallbackFailed: false };
          const limitedBefore = metricsFor(KEY).cumulativeCount('RATE_LIMITED');
          if (op.sync) {
            try {
              record(id, valueOf(handle.executeSync(arg)));
            } catch (e) {
              record(id, toDelivered(id, e, step));
            }
            subscriptions.push({ unsubscribe() {} });
          } else {
            subscriptions.push(handle.toObservable(arg).subscribe({ next: (v) => record(id, valueOf(v)), error: (e) => record(id, toDelivered(id, e, step)) }));
          }
          // The limiter is an oracle here (its bound is checked below): did this call get RATE_LIMITED?
          const limited = metricsFor(KEY).cumulativeCount('RATE_LIMITED') - limitedBefore === 1;
          let asked = false;
          model.call(id, slot, op.plan, op.sync, () => {
            asked = true;
            return limited;
          });
          holds(`call ${id}: RATE_LIMITED only when the breaker admitted it`, asked || !limited, step);
          if (asked && !limited) grants.push(clock.now());
          break;
        }
        case 'cancel': {
          if (calls === 0) break;
          const id = op.pick % calls;
          if (!delivered.has(id) && !cancelledIds.has(id)) {
            cancelledIds.add(id);
            cancelledUndelivered++;
          }
          subscriptions[id]!.unsubscribe();
          model.cancel(id);
          break;
        }
        case 'configure':
          configure({ commands: { [KEY]: op.layer } });
          model.configure(op.layer);
          break;
        case 'pool':
          configure({ pools: { [KEY]: op.settings } });
          model.configurePool(op.settings);
          break;
        case 'force':
          if (calls === 0 && op.what !== 'reset') break;
          circuitBreakerFor(KEY)[op.what]();
          model[op.what]();
          break;
        case 'unstick':
          unstickAll();
          model.unstick();
          break;
      }
    }
    checkBounds(before, step);
    check(step);
  });

  // Drain: settle what never settles, let every timer fire; then nothing may be held.
  // (A queued never-settling run may only start during the final advance, hence the loop.)
  do {
    freshSlot();
    unstickAll();
    model.unstick();
    clock.advance(1_000_000);
    model.advance(1_000_000);
    check(ops.length);
  } while ([...works.values()].some((w) => !w.settled));
  const end = ops.length;
  covered('runs');
  covered(`ops≥${Math.floor(ops.length / 50) * 50}`);
  for (const type of EVENT_NAMES) if (model.count(type) > 0) covered(type);
  if (model.sawHalfOpen) covered('a trial (HALF_OPEN)');
  if (model.sawOpen) covered('circuit tripped');
  if (model.execs.some((e) => e.sync)) covered('sync calls');
  if (model.execs.some((e) => e.delivered?.kind === 'misuse')) covered('sync misuse (thenable)');
  same('permits in use at the end', isolation === 'semaphore' ? runtime().semaphore.inUse : pool()?.activeCount ?? 0, 0, end);
  same('pool queue at the end', pool()?.queueSize ?? 0, 0, end);
  same('running at the end', metricsFor(KEY).snapshot().concurrency.current, 0, end);
  same('armed deadlines at the end', deadlinesFor(clock).size, 0, end);
  same('pending timers at the end', clock.pendingTimers, 0, end);
  same('fallback permits at the end', runtime().fallbackSemaphore.inUse, 0, end);
  holds('nothing in flight at the end', model.execs.every((e) => e.phase === 'done'), end);
  if (setup.rateLimit !== null) {
    const { capacity, refillPerSecond } = setup.rateLimit;
    for (let i = 0; i < grants.length; i++) {
      for (let j = i; j < grants.length; j++) {
        const allowed = capacity + (refillPerSecond * (grants[j]! - grants[i]!)) / 1000 + 1e-6;
        holds(`limiter admitted ${j - i + 1} calls in ${grants[j]! - grants[i]!} ms (bound ${allowed})`, j - i + 1 <= allowed, end);
      }
    }
  }
  for (let id = 0; id < calls; id++) {
    const cancelled = model.execs[id]!.cancelled;
    holds(`call ${id}: ${cancelled ? 'cancelled, never delivered' : 'delivered exactly once'}`, (deliveries.get(id) ?? 0) === (cancelled ? 0 : 1), end);
  }
}

describe('model: a command against a reference model of the Hystrix rules', () => {
  it('keeps breaker state, rolling counts, health, permits and results equal to the model under semaphore isolation', () => {
    fc.assert(
      fc.property(setupArb, opsArb('semaphore'), (setup, ops) => runSchedule('semaphore', setup, ops)),
      propertyParameters(120),
    );
    reportCoverage('semaphore');
  }, propertyTimeout(120));

  it('keeps breaker state, rolling counts, health, pool slots and the queue equal to the model under pool isolation', () => {
    fc.assert(
      fc.property(setupArb, opsArb('pool'), (setup, ops) => runSchedule('pool', setup, ops)),
      propertyParameters(120),
    );
    reportCoverage('pool');
  }, propertyTimeout(120));
});
