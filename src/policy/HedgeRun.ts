import { ADMITTED, type Bulkhead } from '../bulkhead/Bulkhead.js';
import { Pool } from '../bulkhead/Pool.js';
import { CancelledError } from '../errors.js';
import type { CommandMetrics } from '../metrics/CommandMetrics.js';
import type { HedgeConfig } from '../config/options.js';
import type { Clock } from '../time/Clock.js';
import type { DeadlineList, DeadlineNode, Deadlines } from '../time/Deadlines.js';
import { deadlinesFor } from '../time/deadlinesFor.js';
import { AttemptContext } from './AttemptContext.js';
import type { HedgeDelay } from './hedgeDelay.js';
import type { RetryBudget } from './RetryBudget.js';

/** @internal what hedging needs from the execution it belongs to. */
export interface HedgeHost {
  /** The hedge delay passed without a result: start one more attempt if the circuit, a permit and the budget allow. */
  hedgeNow(): void;
}

interface LiveAttempt {
  readonly context: AttemptContext;
  readonly startedAt: number;
  readonly bulkhead: Bulkhead;
}

/**
 * The hedging state of one execution of a command with `hedge`: the hedge timer (a node in the shared deadline
 * timer, armed when an attempt starts, so no Node timer per call) and the extra attempts in flight, each with its
 * own signal and its own bulkhead permit, held until that attempt really settles.
 *
 * @internal
 */
export class HedgeRun implements DeadlineNode {
  deadlineAt = 0;
  dlPrev: DeadlineNode | null = null;
  dlNext: DeadlineNode | null = null;
  dlList: DeadlineList | null = null;
  /** Hedge timer firings so far (a skipped hedge uses its turn too): at most `maxExtra`. */
  private fired = 0;
  private readonly live: LiveAttempt[] = [];

  constructor(
    private readonly host: HedgeHost,
    private readonly config: HedgeConfig,
    private readonly delay: HedgeDelay,
    private readonly metrics: CommandMetrics,
    private readonly clock: Clock,
    private readonly commandKey: string,
  ) {}

  /** An attempt started at `now`: the next hedge is due after the key's hedge delay. */
  arm(now: number): void {
    if (this.fired >= this.config.maxExtra) return;
    const deadlines = deadlinesFor(this.clock);
    deadlines.remove(this);
    deadlines.add(this, now, this.delay.delayMs(this.config, this.metrics, now));
  }

  onDeadline(): void {
    this.fired++;
    this.host.hedgeNow();
  }

  /**
   * Takes a permit from `bulkhead` (never queueing, never counting a rejection) and one extra attempt from the
   * budget; returns the new attempt's context, or null when either says no (the hedge is skipped). Re-arms the
   * timer for the next hedge either way.
   */
  tryStart(bulkhead: Bulkhead, budget: RetryBudget, now: number): AttemptContext | null {
    if (this.fired < this.config.maxExtra) deadlinesFor(this.clock).add(this, now, this.delay.delayMs(this.config, this.metrics, now));
    if (!budget.allows(now)) return null;
    if (bulkhead instanceof Pool && (bulkhead.activeCount >= bulkhead.config.coreSize || bulkhead.queueSize > 0)) return null;
    if (bulkhead.admit(null, now) !== ADMITTED) return null;
    budget.withdraw(now);
    const context = new AttemptContext(this.commandKey, this.live.length + 2);
    this.live.push({ context, startedAt: now, bulkhead });
    return context;
  }

  /** Extra attempts in flight, plus the execution's own when `ownSettled` is false. */
  inFlight(ownSettled: boolean): number {
    return this.live.length + (ownSettled ? 0 : 1);
  }

  /** An extra attempt settled: its permit goes back. Returns when it started. */
  settle(context: AttemptContext, now: number): number {
    const i = this.live.findIndex((a) => a.context === context);
    if (i < 0) return now;
    const [attempt] = this.live.splice(i, 1);
    attempt!.bulkhead.release(now);
    return attempt!.startedAt;
  }

  /** The execution ended: no more hedges, and every extra attempt still running is abandoned (signal aborted). */
  stop(deadlines: Deadlines, reason: unknown): void {
    deadlines.remove(this);
    this.fired = this.config.maxExtra;
    if (this.live.length === 0) return;
    const why = reason ?? new CancelledError(this.commandKey);
    for (const attempt of this.live) attempt.context.abort(why);
  }
}
