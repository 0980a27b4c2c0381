import { getClock, onConfigChange, store } from '../config/store.js';
import type { TimerHandle } from '../time/Clock.js';
import { monitorDelaySource, type DelaySource } from './eventLoopDelay.js';
import type { LoadSheddingConfig } from '../config/options.js';
import { SheddingState, type SheddingLevel } from './SheddingState.js';
import type { SheddablePriority } from '../config/options.js';

/** A point-in-time view of the process's load shedding (`loadSheddingSnapshot()`). */
export interface LoadSheddingSnapshot {
  /** Whether `configure({ loadShedding })` switched it on. */
  readonly enabled: boolean;
  /** Whether any commands and HTTP requests are refused now (the `'low'` priority is). */
  readonly shedding: boolean;
  /** The highest priority being shed now: `'none'`, `'low'`, `'normal'` or `'high'` (`'critical'` never is). */
  readonly level: SheddingLevel;
  /** The priorities being shed now, lowest first: `[]`, `['low']`, `['low', 'normal']` or all three. */
  readonly shedPriorities: readonly SheddablePriority[];
  /** The latest event-loop delay sample, ms (0 while disabled). */
  readonly eventLoopDelayMs: number;
  /** How many times shedding started since it was switched on. */
  readonly episodes: number;
  /** HTTP requests the middleware answered with 503 since it was switched on. */
  readonly httpRequestsShed: number;
}

/**
 * @internal the one load shedder of the process: a shared delay source and one unref'd sampling timer, both started
 * only while `configure({ loadShedding })` is on. The executor reads {@link shedder}.state.active (a field: no call)
 * for commands marked `sheddable`, then `state.shed[priority]`.
 */
class LoadShedder {
  readonly state = new SheddingState();
  config: LoadSheddingConfig | false = false;
  httpShed = 0;
  private source: DelaySource = monitorDelaySource();
  private timer: TimerHandle | null = null;
  private expectedAt = 0;
  private readonly tick = (): void => {
    this.timer = null;
    const config = this.config;
    if (config === false) return;
    const clock = getClock();
    const now = clock.now();
    // a loop blocked for longer than the interval may record nothing in the histogram: the sampler's own
    // lateness is a delay sample too
    const late = Math.max(0, now - this.expectedAt);
    this.state.sample(Math.max(this.source.read(), late), now, config);
    this.arm(now, config);
  };

  /** Applies `store.loadShedding` (after every `configure()`). */
  apply(config: LoadSheddingConfig | false): void {
    const was = this.config;
    this.config = config;
    if (config === false) {
      if (was === false) return;
      this.stop();
      this.state.clear();
      return;
    }
    if (was === false) {
      this.httpShed = 0;
      this.state.episodes = 0;
      this.source.start();
    }
    if (this.timer === null || was === false || was.sampleInterval !== config.sampleInterval) {
      this.timer?.cancel();
      this.arm(getClock().now(), config);
    }
  }

  /** Replaces the delay source (tests); `null` restores the real monitor. */
  useSource(source: DelaySource | null): void {
    this.source.stop();
    this.source = source ?? monitorDelaySource();
    if (this.config !== false) this.source.start();
  }

  snapshot(): LoadSheddingSnapshot {
    return {
      enabled: this.config !== false,
      shedding: this.state.active,
      level: this.state.level,
      shedPriorities: SHED_LISTS[this.state.levelCount]!,
      eventLoopDelayMs: this.state.delayMs,
      episodes: this.state.episodes,
      httpRequestsShed: this.httpShed,
    };
  }

  private arm(now: number, config: LoadSheddingConfig): void {
    this.expectedAt = now + config.sampleInterval;
    this.timer = getClock().setTimer(this.tick, config.sampleInterval);
  }

  private stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.source.stop();
  }
}

const SHED_LISTS: readonly (readonly SheddablePriority[])[] = [[], ['low'], ['low', 'normal'], ['low', 'normal', 'high']].map((l) =>
  Object.freeze(l as SheddablePriority[]),
);

/** @internal */
export const shedder = new LoadShedder();

onConfigChange(() => shedder.apply(store.loadShedding));

/**
 * The process's load-shedding state: whether it is on, whether it sheds now, the latest event-loop delay sample and
 * the counts.
 *
 * @example
 * ```ts
 * configure({ loadShedding: { maxEventLoopDelay: 100 } });
 * if (loadSheddingSnapshot().shedding) console.warn('event loop overloaded');
 * ```
 * @see {@link loadSheddingMiddleware}
 */
export function loadSheddingSnapshot(): LoadSheddingSnapshot {
  return shedder.snapshot();
}
