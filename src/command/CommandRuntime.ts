import type { EventEmitter } from 'eventemitter3';
import { CircuitBreaker, type CircuitListener } from '../circuit/CircuitBreaker.js';
import type { CircuitEvents } from '../circuit/events.js';
import { AdaptiveBulkhead } from '../bulkhead/AdaptiveBulkhead.js';
import { addPoolUser, removePoolUser } from '../bulkhead/registry.js';
import { Semaphore } from '../bulkhead/Semaphore.js';
import type { CommandConfig } from '../config/options.js';
import { RETRY_BUDGET_DEFAULTS } from '../config/defaults.js';
import { getClock, onConfigChange, store, type ConfigChange } from '../config/store.js';
import { resolveCommandConfig, type SettingsLayer } from '../config/resolve.js';
import { CommandError, type FailureType } from '../errors.js';
import { KeyedRegistry } from '../internal/KeyedRegistry.js';
import { ownLimiterIdle, releaseOwnLimiter } from '../limiter/registry.js';
import { CommandMetrics } from '../metrics/CommandMetrics.js';
import { rollingBucketsOf, rollingWindowOf } from '../metrics/ReadWindow.js';
import { HedgeDelay } from '../policy/hedgeDelay.js';
import { RetryBudget } from '../policy/RetryBudget.js';
import type { CommandEvents } from './events.js';
import { ExecutionPlan } from './ExecutionPlan.js';
import { emitBoth, hasListeners, SafeEmitter } from './globalEvents.js';
import { KeySweep } from './KeySweep.js';

/**
 * @internal everything shared by the executions of one command key, as Hystrix keeps per key: metrics, circuit
 * breaker, execution and fallback semaphores, the key's event emitter, and the latest resolved config (which the
 * stream and Prometheus report).
 */
export class CommandRuntime implements CircuitListener {
  readonly metrics: CommandMetrics;
  readonly breaker: CircuitBreaker;
  readonly semaphore: Semaphore;
  /** The adaptive limit of `isolation: 'adaptive'`; null for the other strategies (nothing sampled then). */
  adaptive: AdaptiveBulkhead | null = null;
  /**
   * The fallback permits. A plain field made with the key: made on first use behind a getter, it saved 48 B per key
   * but cost the open + fallback path about 85 instructions per call (cachegrind, two getter reads per call).
   */
  readonly fallbackSemaphore: Semaphore;
  /** The key's own emitter, created when something first asks for {@link CommandRuntime.events}: most keys never have a listener. */
  emitter: EventEmitter<CommandEvents> | null = null;
  /** The config of the latest execution (or of the command that created this runtime). */
  config: CommandConfig;
  /** The stages an execution of {@link CommandRuntime.config} runs (see {@link CommandRuntime.planFor}). */
  private plan: ExecutionPlan;
  /** Created on the first rejection: most keys never see one. */
  private rejections: Map<FailureType, CommandError> | null = null;
  /** The key's retry budget, shared by retries and hedges; null while the key uses neither. */
  budget: RetryBudget | null = null;
  /** The key's hedge delay (fixed, or its cached latency percentile); null until the key uses `hedge`. */
  hedgeDelay: HedgeDelay | null = null;
  private lastRejectionType: FailureType | null = null;
  private lastRejection: CommandError | null = null;
  /** Executions started and not yet finished (running, queued, waiting for a token, in their fallback). */
  inFlight = 0;
  /**
   * When an execution of this key last started or finished (or a cache hit was served): for key expiry. A number
   * from the start (the constructor sets it): a field declared without one holds `undefined` first, and V8 then
   * stores every time written to it as a new heap number — two allocations per call.
   */
  lastUsedAt = 0;
  /**
   * True once the key expired (or `resetBreakwater()` ran): no registry holds this runtime any more, and a handle
   * that still holds it takes a fresh one from {@link runtimeFor} before its next call.
   */
  released = false;

  constructor(config: CommandConfig) {
    this.config = config;
    this.lastUsedAt = getClock().now();
    if (config.isolation === 'pool') addPoolUser(config.poolKey);
    this.metrics = new CommandMetrics(config.key, config.group, config.metrics);
    this.plan = this.planOf(config);
    this.breaker = new CircuitBreaker(config.key, this.metrics, config.circuitBreaker, config.metrics.healthSnapshotInterval, getClock, this);
    this.metrics.circuit = this.breaker;
    this.semaphore = new Semaphore(config.maxConcurrent);
    this.fallbackSemaphore = new Semaphore(config.fallbackMaxConcurrent);
    if (config.isolation === 'adaptive') this.adaptive = new AdaptiveBulkhead(config.adaptive);
    this.applyBudget(config);
  }

  /** The budget follows `retry.budget` (on by default as soon as `retry` or `hedge` is set); its window is the key's. */
  private applyBudget(config: CommandConfig): void {
    if (config.retry === false && config.hedge === false) {
      this.budget = null;
      return;
    }
    const budget = config.retry === false ? RETRY_BUDGET_DEFAULTS : config.retry.budget;
    if (this.budget === null) this.budget = new RetryBudget(budget, rollingWindowOf(this.metrics.config), rollingBucketsOf(this.metrics.config));
    else this.budget.config = budget;
    if (config.hedge !== false) this.hedgeDelay ??= new HedgeDelay();
  }

  /** @internal the breaker's transitions (and its store's status), to the key's and the global listeners. */
  emitCircuit<K extends keyof CircuitEvents>(name: K, payload: Parameters<CircuitEvents[K]>[0]): void {
    if (hasListeners(this.emitter, name)) emitBoth(this.emitter, name, payload);
  }

  /** The key's events (what `handle.events` returns), created on first use. */
  get events(): EventEmitter<CommandEvents> {
    return (this.emitter ??= new SafeEmitter<CommandEvents>());
  }

  /** The own options of the command that applied the config last: `configure()` re-resolves with them at once. */
  private own: SettingsLayer | undefined = undefined;

  /**
   * Re-resolves this key's config after `configure()`, so a change (e.g. `forceOpen`) shows in the breaker's state,
   * the stream and Prometheus at once, not only at the key's next call. A combination that no longer resolves is
   * left for that next call to report.
   */
  reconfigure(): void {
    if (this.own === undefined) return;
    try {
      this.apply(resolveCommandConfig(this.config.key, [store.defaults, this.own, store.commands.get(this.config.key)]));
    } catch {
      // the next execution resolves again and throws the ConfigError to its caller
    }
  }

  /** Applies a newly resolved config (called only when the configuration version changed). */
  apply(config: CommandConfig, own?: SettingsLayer): void {
    if (own !== undefined) this.own = own;
    const before = this.config;
    if (before.isolation !== config.isolation || before.poolKey !== config.poolKey) {
      if (before.isolation === 'pool') removePoolUser(before.poolKey, false);
      if (config.isolation === 'pool') addPoolUser(config.poolKey);
    }
    this.config = config;
    // the rolling window follows the config (unlike the histograms): a strategy may need it (see metrics.setWindow)
    if (this.metrics.windowless !== (config.metrics.rollingWindow === false)) this.metrics.setWindow(config.metrics, getClock().now());
    if (this.plan.config !== config) this.plan = this.planOf(config);
    this.metrics.group = config.group;
    this.breaker.config = config.circuitBreaker;
    this.breaker.healthInterval = config.metrics.healthSnapshotInterval;
    this.semaphore.limit = config.maxConcurrent;
    if (config.isolation !== 'adaptive') this.adaptive = null;
    else if (this.adaptive === null) this.adaptive = new AdaptiveBulkhead(config.adaptive);
    else this.adaptive.reconfigure(config.adaptive);
    this.fallbackSemaphore.limit = config.fallbackMaxConcurrent;
    this.applyBudget(config);
  }

  /**
   * @internal the plan of an execution with `config`: the one made when the config was applied (an identity check
   * per call), or, for a class instance built with other own options than the latest one, a plan of its own.
   */
  planFor(config: CommandConfig): ExecutionPlan {
    return this.plan.config === config ? this.plan : this.planOf(config);
  }

  private planOf(config: CommandConfig): ExecutionPlan {
    return new ExecutionPlan(config, this.metrics.recordsLatency, this.metrics.windowless);
  }

  /** @internal the adaptive bulkhead of an `isolation: 'adaptive'` execution (created if this runtime has none yet). */
  adaptiveFor(config: CommandConfig): AdaptiveBulkhead {
    return (this.adaptive ??= new AdaptiveBulkhead(config.adaptive));
  }

  /**
   * A shared, frozen error describing a rejection, timeout or short-circuit, handed to fallbacks as their `error`.
   * Built once per key and type, so the rejection + fallback path allocates no Error per call.
   */
  rejection(failureType: FailureType, message: string): CommandError {
    // an open circuit or a full bulkhead rejects call after call for the same reason: a repeat takes no Map and no
    // call (small enough to inline into the short-circuit path)
    return failureType === this.lastRejectionType ? this.lastRejection! : this.rejectionOf(failureType, message);
  }

  private rejectionOf(failureType: FailureType, message: string): CommandError {
    let error = (this.rejections ??= new Map()).get(failureType);
    if (error === undefined) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        error = new CommandError(this.config.key, failureType, `${this.config.key} ${message}`, undefined);
      } finally {
        Error.stackTraceLimit = limit;
      }
      Object.freeze(error);
      this.rejections.set(failureType, error);
    }
    this.lastRejectionType = failureType;
    this.lastRejection = error;
    return error;
  }

  /**
   * True when the key may be released at `now`: no execution for `expiry` ms and for its longest metrics window,
   * nothing in flight (an execution, a run that outlived its timeout, a fallback), a CLOSED circuit that is not
   * forced (a forced or tripped circuit is state the user relies on), and no listener on its own `events`.
   */
  isIdle(now: number, expiry: number): boolean {
    // a key without a rolling window may be used by clockless calls, which leave lastUsedAt as it was: a sweep that
    // finds new events takes its own time as the last use (so such a key expires up to one sweep period later)
    if (this.metrics.usedSinceLastAsked()) this.lastUsedAt = now;
    const m = this.metrics.config;
    const idleFor = Math.max(expiry, rollingWindowOf(m), m.percentileWindow);
    return (
      now - this.lastUsedAt >= idleFor &&
      this.inFlight === 0 &&
      this.metrics.current === 0 &&
      this.semaphore.inUse === 0 &&
      this.fallbackSemaphore.inUse === 0 &&
      this.breaker.isReleasable &&
      !hasOwnListeners(this.emitter) &&
      ownLimiterIdle(this.config.key, now)
    );
  }

  /** Detaches this runtime from everything it shares (its pool, its breaker's timer): the key expired. */
  release(): void {
    this.released = true;
    this.breaker.dispose();
    if (this.config.isolation === 'pool') removePoolUser(this.config.poolKey, true);
    releaseOwnLimiter(this.config.key);
  }
}

function hasOwnListeners(emitter: EventEmitter<CommandEvents> | null): boolean {
  return emitter !== null && (emitter as unknown as { _eventsCount: number })._eventsCount !== 0;
}

const runtimes = new KeyedRegistry<CommandRuntime>();

/** @internal the one sweep that releases idle keys (see `configure({ keyExpiry })`). */
export const keySweep = new KeySweep<CommandRuntime>(runtimes, releaseRuntime);

onConfigChange((change: ConfigChange) => {
  // new defaults touch every key; a per-key override touches that key only (configure() is O(keys it touches))
  if (change.all || change.defaults) for (const rt of runtimes.values()) rt.reconfigure();
  else for (const key of change.commands) runtimes.get(key)?.reconfigure();
  if (change.all || change.clock || change.keyExpiry) keySweep.restart();
});

/** @internal the runtime of a key, created with `config` on first use. */
export function runtimeFor(config: CommandConfig): CommandRuntime {
  let rt = runtimes.get(config.key);
  if (rt === undefined) {
    rt = new CommandRuntime(config);
    runtimes.set(config.key, rt);
    keySweep.arm();
  }
  return rt;
}

/** @internal drops an idle key from the registry and detaches its runtime. */
export function releaseRuntime(rt: CommandRuntime): void {
  if (runtimes.get(rt.config.key) === rt) runtimes.delete(rt.config.key);
  rt.release();
}

/** @internal */
export function existingRuntime(key: string): CommandRuntime | undefined {
  return runtimes.get(key);
}

/** @internal every runtime (for the stream and Prometheus). */
export function allRuntimes(): CommandRuntime[] {
  return [...runtimes.values()];
}

/** @internal forgets every runtime; handles that still hold one start afresh on their next call. */
export function clearRuntimes(): void {
  keySweep.stop();
  for (const rt of runtimes.values()) {
    rt.released = true;
    rt.breaker.dispose();
  }
  runtimes.clear();
}
