import { EVENT_TYPES, type EventType } from '../../src/metrics/eventType.js';

/**
 * A small, independent reference model of one command key: Hystrix's breaker rules as breakwater documents them
 * (DESIGN §2, CircuitBreaker.ts), a semaphore or a pool bulkhead, timeouts, fallbacks and rolling counts. It is
 * written for clarity, not speed: plain arrays of timestamped events instead of ring buffers, a list of pending
 * instants instead of a shared timer.
 *
 * breakwater's deliberate differences from Hystrix that the model encodes:
 * - a health snapshot is taken on the first health-relevant outcome once `healthSnapshotInterval` has passed since
 *   the last snapshot, or by one timer at lastSnapshot + interval (armed only while an outcome waits);
 * - the health window is the rolling window including the bucket filling now;
 * - a trial rejected by the bulkhead/limiter or ending in a bad request is "released": back to OPEN with the sleep
 *   window still elapsed, so the next call is the trial;
 * - a cancelled trial re-opens the circuit (a new sleep window);
 * - configuration changes reach a command key's breaker and semaphore at its next execution;
 * - strategies beyond Hystrix's (docs/circuit-breaker.md): 'consecutive' (failures in a row) and 'countWindow' (the
 *   last windowSize calls) count only calls that reached the dependency while CLOSED, and trip at that outcome;
 *   halfOpen lets permittedCalls trials run at once and closes after successThreshold successes.
 *
 * Time: every instant the model schedules has a fractional part unique to its source (see `slotTime`), so no two
 * timers ever fall due at the same instant and the order of events is fully determined by time.
 */

/** The event vocabulary is shared with the library (names, not logic: the model's rules stay its own). */
export const EVENT_NAMES = EVENT_TYPES;
export type EventName = EventType;

/** The events of which every execution records exactly one (CANCELLED only when cancelled before any of the others). */
export const PRIMARY_OUTCOMES: readonly EventName[] = [
  'SUCCESS',
  'FAILURE',
  'TIMEOUT',
  'BAD_REQUEST',
  'SHORT_CIRCUITED',
  'SEMAPHORE_REJECTED',
  'THREAD_POOL_REJECTED',
  'RATE_LIMITED',
];

/** What one call's run does. */
export interface Plan {
  readonly outcome: 'ok' | 'fail' | 'bad';
  /** 'now': returns/throws synchronously; a number: settles that many ms after it starts; 'never': until `unstick`. */
  readonly timing: 'now' | 'never' | number;
  /** The fallback returns a value, throws, or the call goes through the command without a fallback. */
  readonly fallback: 'value' | 'throw' | 'missing';
}

export interface BreakerSettings {
  enabled: boolean;
  requestVolumeThreshold: number;
  errorThresholdPercentage: number;
  sleepWindow: number;
  forceOpen: boolean;
  forceClosed: boolean;
  strategy?: 'errorPercentage' | 'consecutive' | 'countWindow';
  consecutiveFailures?: number;
  windowSize?: number;
  minimumCalls?: number;
  halfOpen?: { permittedCalls?: number; successThreshold?: number };
}

/** The breaker settings with the strategy defaults filled in. */
interface FullBreaker {
  strategy: 'errorPercentage' | 'consecutive' | 'countWindow';
  consecutiveFailures: number;
  windowSize: number;
  minimumCalls: number;
  permittedCalls: number;
  successThreshold: number;
}

function full(cb: BreakerSettings): FullBreaker {
  return {
    strategy: cb.strategy ?? 'errorPercentage',
    consecutiveFailures: cb.consecutiveFailures ?? 5,
    windowSize: cb.windowSize ?? 100,
    minimumCalls: cb.minimumCalls ?? 100,
    permittedCalls: cb.halfOpen?.permittedCalls ?? 1,
    successThreshold: cb.halfOpen?.successThreshold ?? 1,
  };
}

/** Breaker layers merge field by field, `halfOpen` too. */
function mergeBreakerSettings<T extends Partial<BreakerSettings>>(base: T, next: Partial<BreakerSettings>): T {
  const merged = { ...base, ...next };
  if (base.halfOpen !== undefined && next.halfOpen !== undefined) merged.halfOpen = { ...base.halfOpen, ...next.halfOpen };
  return merged;
}

/** The settings the model varies; built-in defaults < the command's own options < per-key overrides. */
export interface ModelSettings {
  timeout: number | false;
  maxConcurrent: number;
  circuitBreaker: BreakerSettings;
  healthSnapshotInterval: number;
}

export interface SettingsLayer {
  timeout?: number | false;
  maxConcurrent?: number;
  circuitBreaker?: Partial<BreakerSettings>;
  metrics?: { healthSnapshotInterval?: number };
}

export interface PoolSettings {
  coreSize: number;
  maxQueueSize: number;
  queueSizeRejectionThreshold: number;
}

export const BUILT_IN: ModelSettings = {
  timeout: 1000,
  maxConcurrent: 10,
  circuitBreaker: { enabled: true, requestVolumeThreshold: 20, errorThresholdPercentage: 50, sleepWindow: 5000, forceOpen: false, forceClosed: false },
  healthSnapshotInterval: 500,
};

export function resolveSettings(layers: readonly (SettingsLayer | undefined)[]): ModelSettings {
  const out: ModelSettings = { ...BUILT_IN, circuitBreaker: { ...BUILT_IN.circuitBreaker } };
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer.timeout !== undefined) out.timeout = layer.timeout;
    if (layer.maxConcurrent !== undefined) out.maxConcurrent = layer.maxConcurrent;
    if (layer.circuitBreaker !== undefined) out.circuitBreaker = mergeBreakerSettings(out.circuitBreaker, layer.circuitBreaker);
    if (layer.metrics?.healthSnapshotInterval !== undefined) out.healthSnapshotInterval = layer.metrics.healthSnapshotInterval;
  }
  return out;
}

/** `configure({ commands })` layers merge field by field, nested objects too. */
export function mergeLayer(base: SettingsLayer | undefined, next: SettingsLayer): SettingsLayer {
  if (base === undefined) return next;
  const merged: SettingsLayer = { ...base, ...next };
  if (base.circuitBreaker && next.circuitBreaker) merged.circuitBreaker = mergeBreakerSettings(base.circuitBreaker, next.circuitBreaker);
  if (base.metrics && next.metrics) merged.metrics = { ...base.metrics, ...next.metrics };
  return merged;
}

/** Sub-millisecond step that gives every operation its own fractional "slot". */
export const SLOT = 2 ** -12;
/** Runs settle at an odd multiple of SLOT/2: never equal to a call time or a deadline. */
export function settleTime(slot: number, begin: number, delay: number): number {
  const fraction = slot * SLOT + SLOT / 2;
  let at = Math.floor(begin + delay) + fraction;
  if (at < begin + delay) at += 1;
  return at;
}

export type Delivered =
  | { kind: 'value'; id: number }
  | { kind: 'fallback'; id: number }
  | { kind: 'error'; failureType: string; fallbackFailed: boolean }
  | { kind: 'bad' }
  /** executeSync() on a run that returned a thenable: a TypeError, recorded as BAD_REQUEST. */
  | { kind: 'misuse' };

export interface ModelExec {
  readonly id: number;
  readonly slot: number;
  readonly plan: Plan;
  /** Called through executeSync(): no deadline, no pool queue, a thenable run is refused. */
  readonly sync: boolean;
  trial: boolean;
  phase: 'queued' | 'running' | 'done';
  /** The run started and has not settled (its permit is held). */
  workPending: boolean;
  settleAt: number;
  deadlineAt: number | null;
  delivered: Delivered | null;
  /** The fallback was called with an error of this failure type. */
  fallbackSaw: string | null;
  cancelled: boolean;
  /**
   * Started without reading the clock (breakwater's one-clock-read path, docs/differences-from-hystrix.md): no
   * timeout, no rate limiter, semaphore isolation, percentiles off (always, here) and a circuit not OPEN. Its run's
   * concurrency is stamped into the rolling maximum when the run ends, with the concurrency just before that end,
   * instead of when it starts.
   */
  untimed: boolean;
}

export type CircuitStatus = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface Health {
  requestCount: number;
  errorCount: number;
  errorPercentage: number;
}

const EMPTY: Health = { requestCount: 0, errorCount: 0, errorPercentage: 0 };

/** Thrown when the model meets a situation it refuses to guess about (e.g. two timers at one instant). */
export class ModelAmbiguity extends Error {}

export class CommandModel {
  t = 0;
  // configuration
  override: SettingsLayer | undefined = undefined;
  active: ModelSettings;
  pool: PoolSettings | null;
  // breaker
  status: CircuitStatus = 'CLOSED';
  openedAt = -1;
  manualOpen = false;
  manualClosed = false;
  lastSnapshotAt = -Infinity;
  healthTimerAt: number | null = null;
  lastHealth: Health = EMPTY;
  /** 'consecutive': failures in a row; 'countWindow': the outcomes (true = failed) of the last windowSize calls. */
  inARow = 0;
  window: boolean[] = [];
  /** Half-open: trials running, trials that succeeded. */
  trialsRunning = 0;
  trialSuccesses = 0;
  // counting
  readonly events: { t: number; type: EventName }[] = [];
  healthEvents: { t: number; error: boolean }[] = [];
  readonly maxes: { t: number; value: number }[] = [];
  readonly cumulative = new Map<EventName, number>();
  running = 0;
  // bulkheads
  inUse = 0;
  poolActive = 0;
  readonly queue: ModelExec[] = [];
  private draining = false;
  // executions
  readonly execs: ModelExec[] = [];
  cancelledBeforeOutcome = 0;
  /** Coverage flags: did this schedule trip the circuit / run a trial? */
  sawOpen = false;
  sawHalfOpen = false;

  constructor(
    readonly own: SettingsLayer,
    readonly isolation: 'semaphore' | 'pool',
    pool: PoolSettings | null,
    readonly bucketMs: number,
    readonly buckets: number,
    /** The command has a rate limiter (its start is then always timed). */
    readonly rateLimit = false,
  ) {
    this.active = resolveSettings([own]);
    this.pool = pool;
  }

  // ---- the operations --------------------------------------------------------------------------------------

  /** `configure({ commands: { Key: layer } })`: applied at once (the key's runtime re-resolves its config). */
  configure(layer: SettingsLayer): void {
    this.override = mergeLayer(this.override, layer);
    this.applySettings(resolveSettings([this.own, this.override]));
    if (this.isolation === 'pool') this.drain(this.t); // every configure() pushes pool settings (and drains)
  }

  configurePool(settings: Partial<PoolSettings>): void {
    this.pool = { ...this.pool!, ...settings };
    this.drain(this.t);
  }

  forceOpen(): void {
    this.manualOpen = true;
    this.manualClosed = false;
  }

  forceClosed(): void {
    this.manualClosed = true;
    this.manualOpen = false;
  }

  reset(): void {
    this.manualOpen = false;
    this.manualClosed = false;
    this.status = 'CLOSED';
    this.openedAt = -1;
    this.forgetCounts();
    this.trialsRunning = 0;
    this.trialSuccesses = 0;
    this.healthEvents = [];
    this.lastHealth = EMPTY;
    this.lastSnapshotAt = -Infinity;
    this.healthTimerAt = null;
  }

  /**
   * One call at the current time, in slot `slot` (`sync`: through executeSync). `rateLimited` is the limiter's
   * answer, asked only when the breaker admits the call: the model checks the limiter's bound separately.
   */
  call(id: number, slot: number, plan: Plan, sync = false, rateLimited: () => boolean = () => false): ModelExec {
    this.applySettings(resolveSettings([this.own, this.override]));
    const t = this.t;
    const exec: ModelExec = {
      id,
      slot,
      plan,
      sync,
      trial: false,
      phase: 'done',
      workPending: false,
      settleAt: Infinity,
      deadlineAt: null,
      delivered: null,
      fallbackSaw: null,
      cancelled: false,
      untimed: this.active.timeout === false && this.isolation === 'semaphore' && !this.rateLimit && this.status !== 'OPEN',
    };
    this.execs.push(exec);
    const admission = this.attempt(t);
    if (admission === 'refuse') {
      this.mark('SHORT_CIRCUITED', t);
      this.fallback(exec, 'SHORT_CIRCUIT', t);
      return exec;
    }
    exec.trial = admission === 'trial';
    if (rateLimited()) {
      this.mark('RATE_LIMITED', t);
      if (exec.trial) this.trialReleased();
      this.fallback(exec, 'RATE_LIMITED', t);
      return exec;
    }
    const deadlineAt = this.active.timeout === false || sync ? null : t + this.active.timeout;
    if (this.isolation === 'semaphore') {
      if (this.inUse >= this.active.maxConcurrent) return this.rejected(exec, 'SEMAPHORE_REJECTED', 'REJECTED_SEMAPHORE_EXECUTION', t);
      this.inUse++;
      exec.deadlineAt = deadlineAt;
      this.begin(exec, t);
      return exec;
    }
    const pool = this.pool!;
    if (this.poolActive < pool.coreSize && this.queue.length === 0) {
      this.poolActive++;
      exec.deadlineAt = deadlineAt;
      this.begin(exec, t);
      return exec;
    }
    if (sync || pool.maxQueueSize <= 0 || this.queue.length >= Math.min(pool.queueSizeRejectionThreshold, pool.maxQueueSize)) {
      return this.rejected(exec, 'THREAD_POOL_REJECTED', 'REJECTED_THREAD_EXECUTION', t);
    }
    this.queue.push(exec);
    exec.phase = 'queued';
    exec.deadlineAt = deadlineAt;
    return exec;
  }

  /** The caller unsubscribes. */
  cancel(exec: ExecRef): void {
    const e = this.execs[exec]!;
    if (e.phase === 'done') return;
    const t = this.t;
    // Queued: it leaves the queue. Running: the work goes on, holding its permit until it settles.
    if (e.phase === 'queued') this.queue.splice(this.queue.indexOf(e), 1);
    e.phase = 'done';
    e.deadlineAt = null;
    e.cancelled = true;
    this.cancelledBeforeOutcome++;
    this.mark('CANCELLED', t);
    if (e.trial) this.trialFailed(t);
  }

  /** Settles every never-settling run now (in call order). */
  unstick(): void {
    for (const e of this.execs) if (e.workPending && e.settleAt === Infinity) this.settle(e, this.t);
  }

  /** Moves time forward, processing every due instant in order. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const due = this.nextDue(target);
      if (due === null) break;
      this.t = Math.max(this.t, due.at);
      due.fire();
    }
    this.t = target;
  }

  /** New settings: another strategy or window size starts its counts afresh (numbers alone keep them). */
  private applySettings(next: ModelSettings): void {
    const a = full(this.active.circuitBreaker);
    const b = full(next.circuitBreaker);
    if (a.strategy !== b.strategy || a.windowSize !== b.windowSize) this.forgetCounts();
    this.active = next;
  }

  private forgetCounts(): void {
    this.inARow = 0;
    this.window = [];
  }

  // ---- the flow --------------------------------------------------------------------------------------------

  private nextDue(target: number): { at: number; fire: () => void } | null {
    const candidates: { at: number; fire: () => void }[] = [];
    if (this.healthTimerAt !== null && this.healthTimerAt <= target) {
      candidates.push({
        at: this.healthTimerAt,
        fire: () => {
          this.healthTimerAt = null;
          this.evaluate(this.t);
        },
      });
    }
    for (const e of this.execs) {
      if (e.workPending && e.settleAt <= target) candidates.push({ at: e.settleAt, fire: () => this.settle(e, this.t) });
      if (e.deadlineAt !== null && e.deadlineAt <= target) candidates.push({ at: e.deadlineAt, fire: () => this.deadline(e, this.t) });
    }
    if (candidates.length === 0) return null;
    candidates.sort((a, b) => a.at - b.at);
    if (candidates.length > 1 && candidates[0]!.at === candidates[1]!.at) {
      throw new ModelAmbiguity(`two instants due at ${candidates[0]!.at}`);
    }
    return candidates[0]!;
  }

  private attempt(t: number): 'admit' | 'trial' | 'refuse' {
    const cb = this.active.circuitBreaker;
    if (this.manualOpen || cb.forceOpen) return 'refuse';
    if (!cb.enabled) return 'admit';
    if (this.manualClosed || cb.forceClosed) return 'admit';
    if (this.status === 'CLOSED') return 'admit';
    if (this.status === 'HALF_OPEN') {
      if (this.trialsRunning >= full(cb).permittedCalls) return 'refuse';
      this.trialsRunning++;
      return 'trial';
    }
    if (t > this.openedAt + cb.sleepWindow || t < this.openedAt) {
      this.status = 'HALF_OPEN';
      this.trialsRunning = 1;
      this.trialSuccesses = 0;
      this.sawHalfOpen = true;
      return 'trial';
    }
    return 'refuse';
  }

  private rejected(exec: ModelExec, event: EventName, failureType: string, t: number): ModelExec {
    this.mark(event, t);
    this.onHealthEvent(t);
    if (exec.trial) this.trialReleased();
    this.fallback(exec, failureType, t);
    return exec;
  }

  private begin(exec: ModelExec, t: number): void {
    exec.phase = 'running';
    this.running++;
    if (!exec.untimed) this.maxes.push({ t, value: this.running });
    exec.workPending = true;
    const timing = exec.plan.timing;
    if (timing === 'now') {
      this.settle(exec, t);
      return;
    }
    exec.settleAt = timing === 'never' ? Infinity : settleTime(exec.slot, t, timing);
    if (exec.sync) {
      // A thenable under executeSync: refused at once; the work keeps its permit until it settles.
      this.mark('BAD_REQUEST', t);
      if (exec.trial) this.trialReleased();
      this.mark('EXCEPTION_THROWN', t);
      this.deliver(exec, { kind: 'misuse' });
    }
  }

  private release(t: number): void {
    if (this.isolation === 'semaphore') {
      this.inUse--;
      return;
    }
    this.poolActive--;
    this.drain(t);
  }

  private drain(t: number): void {
    if (this.isolation !== 'pool' || this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && this.poolActive < this.pool!.coreSize) {
        const next = this.queue.shift()!;
        this.poolActive++;
        this.begin(next, t);
      }
    } finally {
      this.draining = false;
    }
  }

  private settle(exec: ModelExec, t: number): void {
    exec.workPending = false;
    exec.settleAt = Infinity;
    if (exec.untimed) this.maxes.push({ t, value: this.running });
    this.running--;
    this.release(t);
    if (exec.phase !== 'running') return; // late: timed out or cancelled before
    exec.deadlineAt = null;
    if (exec.plan.outcome === 'ok') {
      this.mark('SUCCESS', t);
      this.outcome(false, t);
      if (exec.trial) this.trialSucceeded(t);
      this.deliver(exec, { kind: 'value', id: exec.id });
    } else if (exec.plan.outcome === 'fail') {
      this.mark('FAILURE', t);
      this.outcome(true, t);
      if (exec.trial) this.trialFailed(t);
      this.fallback(exec, 'COMMAND_EXCEPTION', t);
    } else {
      this.mark('BAD_REQUEST', t);
      if (exec.trial) this.trialReleased();
      this.mark('EXCEPTION_THROWN', t);
      this.deliver(exec, { kind: 'bad' });
    }
  }

  private deadline(exec: ModelExec, t: number): void {
    exec.deadlineAt = null;
    if (exec.phase === 'queued') this.queue.splice(this.queue.indexOf(exec), 1);
    this.mark('TIMEOUT', t);
    this.outcome(true, t);
    if (exec.trial) this.trialFailed(t);
    this.fallback(exec, 'TIMEOUT', t);
  }

  private fallback(exec: ModelExec, failureType: string, t: number): void {
    if (exec.plan.fallback === 'missing') {
      this.mark('FALLBACK_MISSING', t);
      this.mark('EXCEPTION_THROWN', t);
      this.deliver(exec, { kind: 'error', failureType, fallbackFailed: false });
      return;
    }
    exec.fallbackSaw = failureType;
    if (exec.plan.fallback === 'throw') {
      this.mark('FALLBACK_FAILURE', t);
      this.mark('EXCEPTION_THROWN', t);
      this.deliver(exec, { kind: 'error', failureType, fallbackFailed: true });
      return;
    }
    this.mark('FALLBACK_SUCCESS', t);
    this.deliver(exec, { kind: 'fallback', id: exec.id });
  }

  private deliver(exec: ModelExec, delivered: Delivered): void {
    exec.phase = 'done';
    exec.delivered = delivered;
  }

  // ---- the breaker -------------------------------------------------------------------------------------------

  /** A call that reached the dependency ended: the strategy counts it (CLOSED only), then the health snapshot. */
  private outcome(failed: boolean, t: number): void {
    let trip = false;
    if (this.status === 'CLOSED') {
      const f = full(this.active.circuitBreaker);
      if (f.strategy === 'consecutive') {
        this.inARow = failed ? this.inARow + 1 : 0;
        trip = this.inARow >= f.consecutiveFailures;
      } else if (f.strategy === 'countWindow') {
        this.window.push(failed);
        if (this.window.length > f.windowSize) this.window.shift();
        const failures = this.window.filter((x) => x).length;
        trip = this.window.length >= Math.min(f.minimumCalls, f.windowSize) && Math.floor((failures * 100) / this.window.length) >= this.active.circuitBreaker.errorThresholdPercentage;
      }
    }
    this.onHealthEvent(t);
    if (trip) this.trip(t);
  }

  private trip(t: number): void {
    const cb = this.active.circuitBreaker;
    if (this.status !== 'CLOSED' || !cb.enabled) return;
    if (this.manualClosed || cb.forceClosed) return;
    this.status = 'OPEN';
    this.openedAt = t;
    this.sawOpen = true;
  }

  // ---- health snapshots ------------------------------------------------------------------------

  private onHealthEvent(t: number): void {
    const interval = this.active.healthSnapshotInterval;
    if (t - this.lastSnapshotAt >= interval || t < this.lastSnapshotAt) this.evaluate(t);
    else if (this.healthTimerAt === null) this.healthTimerAt = this.lastSnapshotAt + interval;
  }

  private evaluate(t: number): void {
    this.lastSnapshotAt = t;
    this.lastHealth = this.healthAt(t);
    const cb = this.active.circuitBreaker;
    if (this.status !== 'CLOSED' || !cb.enabled) return;
    if (this.manualClosed || cb.forceClosed) return;
    const h = this.lastHealth;
    if (full(cb).strategy !== 'errorPercentage') return;
    if (h.requestCount >= cb.requestVolumeThreshold && h.errorPercentage >= cb.errorThresholdPercentage) {
      this.status = 'OPEN';
      this.openedAt = t;
      this.sawOpen = true;
    }
  }

  private trialSucceeded(t: number): void {
    if (this.status !== 'HALF_OPEN') return;
    this.trialsRunning = Math.max(0, this.trialsRunning - 1);
    if (++this.trialSuccesses < full(this.active.circuitBreaker).successThreshold) return;
    this.trialsRunning = 0;
    this.trialSuccesses = 0;
    this.forgetCounts();
    this.status = 'CLOSED';
    this.openedAt = -1;
    this.healthEvents = [];
    this.lastHealth = EMPTY;
    this.lastSnapshotAt = t;
    this.healthTimerAt = null;
  }

  private trialFailed(t: number): void {
    if (this.status !== 'HALF_OPEN') return;
    this.status = 'OPEN';
    this.openedAt = t;
    this.trialsRunning = 0;
  }

  private trialReleased(): void {
    if (this.status !== 'HALF_OPEN') return;
    this.trialsRunning = Math.max(0, this.trialsRunning - 1);
    if (this.trialsRunning > 0 || this.trialSuccesses > 0) return;
    this.status = 'OPEN';
  }

  // ---- counting --------------------------------------------------------------------------------------------

  private mark(type: EventName, t: number): void {
    this.events.push({ t, type });
    this.cumulative.set(type, (this.cumulative.get(type) ?? 0) + 1);
    if (type === 'SUCCESS' || type === 'FAILURE' || type === 'TIMEOUT' || type === 'SEMAPHORE_REJECTED' || type === 'THREAD_POOL_REJECTED') {
      this.healthEvents.push({ t, error: type !== 'SUCCESS' });
    }
  }

  private inWindow(eventT: number, now: number): boolean {
    return Math.floor(eventT / this.bucketMs) > Math.floor(now / this.bucketMs) - this.buckets;
  }

  private healthAt(t: number): Health {
    let total = 0;
    let errors = 0;
    for (const h of this.healthEvents) {
      if (!this.inWindow(h.t, t)) continue;
      total++;
      if (h.error) errors++;
    }
    if (total === 0) return EMPTY;
    return { requestCount: total, errorCount: errors, errorPercentage: Math.floor((errors * 100) / total) };
  }

  /** The state callers see (force flags and `enabled` applied). */
  get visibleState(): CircuitStatus {
    const cb = this.active.circuitBreaker;
    if (this.manualOpen || cb.forceOpen) return 'OPEN';
    if (this.manualClosed || cb.forceClosed || !cb.enabled) return 'CLOSED';
    return this.status;
  }

  rolling(type: EventName): number {
    let n = 0;
    for (const e of this.events) if (e.type === type && this.inWindow(e.t, this.t)) n++;
    return n;
  }

  rollingMax(): number {
    let m = 0;
    for (const e of this.maxes) if (this.inWindow(e.t, this.t) && e.value > m) m = e.value;
    return m;
  }

  count(type: EventName): number {
    return this.cumulative.get(type) ?? 0;
  }

  /** Deadlines armed now. */
  get armedDeadlines(): number {
    return this.execs.filter((e) => e.deadlineAt !== null).length;
  }
}

/** Index into `CommandModel.execs`. */
export type ExecRef = number;
