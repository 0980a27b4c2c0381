/**
 * @internal `breakwater demo`: a simulated service whose outbound calls go through breakwater commands against
 * fake dependencies that misbehave on a schedule, with the dashboard serving it all.
 *
 * The schedule (seconds since start, repeating) is chosen so that a visitor sees every kind of trouble within
 * a minute: Payments has an outage that trips its circuit and recovers, Catalog (pool-isolated) has latency
 * spikes that fill its pool and get calls rejected, Recommendations has error bursts below the trip threshold,
 * Inventory times out now and then, Geo is rate-limited, and Users is simply healthy.
 */
import { command, type CommandHandle } from '../command/functional.js';
import type { RunContext } from '../command/executor.js';
import type { CommandSettings } from '../config/options.js';
import { startDashboard, type Dashboard } from '../dashboard/startDashboard.js';
import type { AllowedHosts } from '../stream/hostCheck.js';
import { systemClock } from '../time/Clock.js';

/** @internal options of {@link startDemo}. */
export interface DemoOptions {
  readonly port?: number;
  readonly host?: string;
  /** Extra Host header names the dashboard answers (`allowedHosts` of `startDashboard`). */
  readonly allowedHosts?: AllowedHosts;
  /** Stream sampling interval (ms). @defaultValue 500 */
  readonly intervalMs?: number;
}

/** @internal a running demo. */
export interface Demo {
  readonly url: string;
  readonly port: number;
  readonly dashboard: Dashboard;
  /** Stops the load, lets in-flight calls settle (bounded), and closes the dashboard. */
  close(): Promise<void>;
}

/** How a fake dependency behaves at one moment. */
interface Behaviour {
  /** Latency of this call, ms. */
  readonly latencyMs: number;
  /** Whether this call fails. */
  readonly fails: boolean;
}

interface Scenario {
  /** Calls per second, before the slow wave that makes the sparklines move. */
  readonly rate: number;
  readonly handle: CommandHandle<[], string>;
}

const TICK_MS = 100;
const DRAIN_LIMIT_MS = 2500;

function between(lo: number, hi: number): number {
  return lo + Math.random() * (hi - lo);
}

function chance(p: number): boolean {
  return Math.random() < p;
}

function inWindow(t: number, period: number, from: number, to: number): boolean {
  const x = t % period;
  return x >= from && x < to;
}

/** A fake remote call: settles after `latencyMs`, or as soon as the command aborts it (timeout). */
function fakeCall(behaviour: Behaviour, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      if (behaviour.fails) reject(new Error('dependency error'));
      else resolve('ok');
    }, Math.max(1, Math.round(behaviour.latencyMs)));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function scenario(
  elapsed: () => number,
  key: string,
  group: string,
  rate: number,
  settings: CommandSettings,
  behave: (t: number) => Behaviour,
  fallback?: (error: unknown) => string,
): Scenario {
  const run = (ctx: RunContext): Promise<string> => fakeCall(behave(elapsed()), ctx.signal);
  const handle = command({
    key,
    ...settings,
    group,
    run,
    ...(fallback === undefined ? {} : { fallback }),
  }) as unknown as CommandHandle<[], string>;
  return { rate, handle };
}

function buildScenarios(elapsed: () => number): Scenario[] {
  return [
    scenario(elapsed, 'Users.GetProfile', 'Users', 40, { timeout: 1000 }, () => ({
      latencyMs: chance(0.03) ? between(180, 420) : between(12, 55),
      fails: chance(0.002),
    })),
    scenario(
      elapsed,
      'Payments.Charge',
      'Payments',
      12,
      { timeout: 800, circuitBreaker: { requestVolumeThreshold: 10, errorThresholdPercentage: 50, sleepWindow: 3000 } },
      (t) =>
        inWindow(t, 60, 12, 32)
          ? { latencyMs: between(3, 12), fails: true } // outage: connection refused
          : { latencyMs: between(60, 160), fails: chance(0.01) },
      () => 'queued for retry',
    ),
    scenario(
      elapsed,
      'Catalog.Search',
      'Catalog',
      20,
      { isolation: 'pool', pool: { key: 'CatalogPool', coreSize: 8, maxQueueSize: 10, queueSizeRejectionThreshold: 4 }, timeout: 1500 },
      (t) =>
        inWindow(t, 45, 25, 33)
          ? { latencyMs: between(500, 1100), fails: chance(0.02) } // slow index: the pool fills up
          : { latencyMs: between(40, 180), fails: chance(0.005) },
      () => 'cached results',
    ),
    scenario(
      elapsed,
      'Recommendations.ForUser',
      'Recommendations',
      25,
      { timeout: 600 },
      (t) => ({ latencyMs: between(25, 90), fails: chance(inWindow(t, 30, 5, 12) ? 0.3 : 0.01) }),
      () => 'popular items',
    ),
    scenario(
      elapsed,
      'Inventory.Check',
      'Inventory',
      15,
      { timeout: 300 },
      () => ({ latencyMs: chance(0.06) ? between(350, 600) : between(30, 120), fails: false }),
      () => 'in stock (cached)',
    ),
    scenario(
      elapsed,
      'Geo.Lookup',
      'Geo',
      15,
      { timeout: 500, rateLimit: { capacity: 10, refillPerSecond: 12 } },
      () => ({ latencyMs: between(5, 25), fails: false }),
      () => 'unknown region',
    ),
  ];
}

/**
 * @internal starts the simulated service and its dashboard. The load runs on real timers until `close()`.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const startedAt = systemClock.now();
  const elapsed = (): number => (systemClock.now() - startedAt) / 1000;
  const scenarios = buildScenarios(elapsed);
  const dashboard = await startDashboard({
    port: options.port ?? 7979,
    host: options.host ?? '127.0.0.1',
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
  });
  let inFlight = 0;
  let onDrained: (() => void) | null = null;
  const settle = (): void => {
    inFlight--;
    if (inFlight === 0 && onDrained !== null) onDrained();
  };
  const fire = (s: Scenario): void => {
    inFlight++;
    s.handle.execute().then(settle, settle);
  };
  const tick = (): void => {
    const t = elapsed();
    scenarios.forEach((s, i) => {
      // A slow wave (different phase per command) keeps the rate sparklines alive.
      const expected = ((s.rate * TICK_MS) / 1000) * (1 + 0.35 * Math.sin((2 * Math.PI * t) / 40 + i));
      let n = Math.floor(expected) + (chance(expected - Math.floor(expected)) ? 1 : 0);
      while (n-- > 0) fire(s);
    });
  };
  const timer = setInterval(tick, TICK_MS);
  tick();

  let closing: Promise<void> | undefined;
  return {
    url: dashboard.url,
    port: dashboard.port,
    dashboard,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            const limit = setTimeout(resolve, DRAIN_LIMIT_MS);
            onDrained = () => {
              clearTimeout(limit);
              resolve();
            };
          });
        }
        await dashboard.close();
      })();
      return closing;
    },
  };
}
