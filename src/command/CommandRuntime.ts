import type { EventEmitter } from 'eventemitter3';
import { CircuitBreaker } from '../circuit/CircuitBreaker.js';
import { Semaphore } from '../bulkhead/Semaphore.js';
import type { CommandConfig } from '../config/options.js';
import { getClock, onConfigChange, store } from '../config/store.js';
import { resolveCommandConfig, type SettingsLayer } from '../config/resolve.js';
import { CommandError, type FailureType } from '../errors.js';
import { KeyedRegistry } from '../internal/KeyedRegistry.js';
import { CommandMetrics } from '../metrics/CommandMetrics.js';
import type { CommandEvents } from './events.js';
import { emitBoth, hasListeners, SafeEmitter } from './globalEvents.js';

/**
 * @internal everything shared by the executions of one command key, as Hystrix keeps per key: metrics, circuit
 * breaker, execution and fallback semaphores, the key's event emitter, and the latest resolved config (which the
 * stream and Prometheus report).
 */
export class CommandRuntime {
  readonly metrics: CommandMetrics;
  readonly breaker: CircuitBreaker;
  readonly semaphore: Semaphore;
  readonly fallbackSemaphore: Semaphore;
  readonly events: EventEmitter<CommandEvents> = new SafeEmitter<CommandEvents>();
  /** The config of the latest execution (or of the command that created this runtime). */
  config: CommandConfig;
  private readonly rejections = new Map<FailureType, CommandError>();
  private lastRejectionType: FailureType | null = null;
  private lastRejection: CommandError | null = null;

  constructor(config: CommandConfig) {
    this.config = config;
    this.metrics = new CommandMetrics(config.key, config.group, config.metrics, () => this.breaker.state);
    this.breaker = new CircuitBreaker(
      config.key,
      this.metrics,
      config.circuitBreaker,
      config.metrics.healthSnapshotInterval,
      getClock,
      (name, payload) => {
        if (hasListeners(this.events, name)) emitBoth(this.events, name, payload);
      },
    );
    this.semaphore = new Semaphore(config.maxConcurrent);
    this.fallbackSemaphore = new Semaphore(config.fallbackMaxConcurrent);
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
    this.config = config;
    this.metrics.group = config.group;
    this.breaker.config = config.circuitBreaker;
    this.breaker.healthInterval = config.metrics.healthSnapshotInterval;
    this.semaphore.limit = config.maxConcurrent;
    this.fallbackSemaphore.limit = config.fallbackMaxConcurrent;
  }

  /**
   * A shared, frozen error describing a rejection, timeout or short-circuit, handed to fallbacks as their `error`.
   * Built once per key and type, so the rejection + fallback path allocates no Error per call.
   */
  rejection(failureType: FailureType, message: string): CommandError {
    // an open circuit or a full bulkhead rejects call after call for the same reason: skip the Map for a repeat
    if (failureType === this.lastRejectionType) return this.lastRejection!;
    let error = this.rejections.get(failureType);
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
}

const runtimes = new KeyedRegistry<CommandRuntime>();

onConfigChange(() => {
  for (const rt of runtimes.values()) rt.reconfigure();
});

/** @internal the runtime of a key, created with `config` on first use. */
export function runtimeFor(config: CommandConfig): CommandRuntime {
  return runtimes.getOrCreate(config.key, () => new CommandRuntime(config));
}

/** @internal */
export function existingRuntime(key: string): CommandRuntime | undefined {
  return runtimes.get(key);
}

/** @internal every runtime (for the stream and Prometheus). */
export function allRuntimes(): CommandRuntime[] {
  return [...runtimes.values()];
}

/** @internal */
export function clearRuntimes(): void {
  runtimes.clear();
}
