/**
 * Load-shedding priorities ('low' < 'normal' < 'high', 'critical' never shed), on a FakeClock with an injected
 * delay source: each level's start and stop at its edge values, the derived and given bounds and their validation,
 * `sheddable` as the shorthand for 'low', a seeded model run against a plain reference, the HTTP middleware's
 * per-request priority on a real loopback server, and the level in the snapshot and in Prometheus.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  circuitBreakerFor,
  command,
  configure,
  isCommandError,
  loadSheddingMiddleware,
  loadSheddingSnapshot,
  metricsFor,
  type LoadSheddingOptions,
  type ShedPriority,
} from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { shedder } from '../../src/shedding/loadShedding.js';
import { resetBreakwater, useEventLoopDelay, useFakeClock, type FakeClock } from '../../src/testing.js';
import { seededRandom } from '../support/seededRandom.js';
import { httpGet } from './support/httpGet.js';

const PRIORITIES: readonly ShedPriority[] = ['low', 'normal', 'high', 'critical'];

let clock: FakeClock;
let delay = 0;
beforeEach(() => {
  clock = useFakeClock();
  delay = 0;
  useEventLoopDelay(() => delay);
});
afterEach(() => resetBreakwater());

/** Sets the delay the next sample reads and takes that sample. */
function sample(ms: number): void {
  delay = ms;
  clock.advance(100);
}

/** One command per priority; each answers its priority, or the failure type through the fallback. */
function commands(prefix: string) {
  return Object.fromEntries(
    PRIORITIES.map((priority) => [
      priority,
      command({
        key: `${prefix}.${priority}`,
        priority,
        circuitBreaker: { requestVolumeThreshold: 1 },
        run: async () => 'ran',
        fallback: (error: unknown) => (isCommandError(error) ? error.failureType : 'other'),
      }),
    ]),
  ) as unknown as Record<ShedPriority, { execute(): Promise<string> }>;
}

/** Which priorities the commands say are shed now. */
async function shedNow(cmds: Record<ShedPriority, { execute(): Promise<string> }>): Promise<ShedPriority[]> {
  const out: ShedPriority[] = [];
  for (const p of PRIORITIES) if ((await cmds[p].execute()) === 'LOAD_SHED') out.push(p);
  return out;
}

describe('load-shedding priorities: levels and their bounds', () => {
  it('derives the higher levels from maxEventLoopDelay: normal at twice it, high at twice normal, recovering at the same fraction', () => {
    configure({ loadShedding: { maxEventLoopDelay: 100, recoverEventLoopDelay: 40 } });
    expect(shedder.config !== false && shedder.config.levels).toEqual([
      { priority: 'low', maxEventLoopDelay: 100, recoverEventLoopDelay: 40 },
      { priority: 'normal', maxEventLoopDelay: 200, recoverEventLoopDelay: 80 },
      { priority: 'high', maxEventLoopDelay: 400, recoverEventLoopDelay: 160 },
    ]);
    configure({ loadShedding: { maxEventLoopDelay: 50, priorities: { normal: { maxEventLoopDelay: 300 } } } });
    expect(shedder.config !== false && shedder.config.levels.map((l) => [l.maxEventLoopDelay, l.recoverEventLoopDelay])).toEqual([
      [50, 25],
      [300, 150],
      [600, 300], // high: twice the given normal bound
    ]);
  });

  it('sheds each priority above its own bound and serves it again at or below its recovery bound, lowest first', async () => {
    configure({
      loadShedding: {
        maxEventLoopDelay: 100,
        recoverEventLoopDelay: 50,
        priorities: { normal: { maxEventLoopDelay: 200, recoverEventLoopDelay: 80 }, high: { maxEventLoopDelay: 400, recoverEventLoopDelay: 150 } },
      },
    });
    const cmds = commands('Levels');
    const steps: [number, ShedPriority[], string][] = [
      [100, [], 'none'], // at low's bound: not above
      [100.5, ['low'], 'low'],
      [200, ['low'], 'low'], // at normal's bound
      [200.5, ['low', 'normal'], 'normal'],
      [400, ['low', 'normal'], 'normal'], // at high's bound
      [400.5, ['low', 'normal', 'high'], 'high'],
      [10_000, ['low', 'normal', 'high'], 'high'], // critical: never
      [150.5, ['low', 'normal', 'high'], 'high'], // just above high's recovery: all still shed
      [150, ['low', 'normal'], 'normal'], // at high's recovery bound: high served again
      [399, ['low', 'normal'], 'normal'], // between high's bounds from below: high stays served
      [80.5, ['low', 'normal'], 'normal'],
      [80, ['low'], 'low'], // at normal's recovery bound
      [199, ['low'], 'low'],
      [50.5, ['low'], 'low'],
      [50, [], 'none'], // at low's recovery bound
      [99, [], 'none'],
      [1000, ['low', 'normal', 'high'], 'high'], // one sample can pass every bound at once
      [10, [], 'none'], // and one can recover every level at once
    ];
    for (const [ms, expected, level] of steps) {
      sample(ms);
      expect(await shedNow(cmds), `after a sample of ${ms} ms`).toEqual(expected);
      expect(loadSheddingSnapshot()).toMatchObject({ level, shedPriorities: expected, shedding: expected.length > 0, eventLoopDelayMs: ms });
    }
    expect(loadSheddingSnapshot().episodes).toBe(2);
  });

  it('follows a plain reference model over 2,000 seeded samples: per level hysteresis, and only ever the lowest levels shed', async () => {
    const options: LoadSheddingOptions = { maxEventLoopDelay: 60, recoverEventLoopDelay: 30 }; // normal 120/60, high 240/120
    configure({ loadShedding: options });
    const levels = [
      [60, 30],
      [120, 60],
      [240, 120],
    ] as const;
    const model = [false, false, false];
    const random = seededRandom(17);
    const cmds = commands('Model');
    let walk = 50;
    for (let i = 0; i < 2000; i++) {
      // a random walk with jumps, often landing exactly on a bound
      walk = Math.max(0, walk + (random() - 0.5) * 80 + (random() < 0.05 ? (random() - 0.3) * 400 : 0));
      const ms = random() < 0.15 ? levels[Math.floor(random() * 3)]![Math.floor(random() * 2)]! : walk;
      sample(ms);
      levels.forEach(([max, recover], l) => {
        if (!model[l] && ms > max) model[l] = true;
        else if (model[l] && ms <= recover) model[l] = false;
      });
      const expected = (['low', 'normal', 'high'] as const).filter((_, l) => model[l]);
      expect(loadSheddingSnapshot().shedPriorities, `sample ${i}: ${ms} ms`).toEqual(expected);
      expect(model.indexOf(false) === -1 || model.slice(model.indexOf(false)).every((s) => !s)).toBe(true);
      if (i % 50 === 0) expect(await shedNow(cmds)).toEqual(expected);
    }
  });

  it('validates the priorities naming the option and the value', () => {
    const bad: [unknown, RegExp][] = [
      [{ maxEventLoopDelay: 100, priorities: { normal: { maxEventLoopDelay: 100 } } }, /loadShedding\.priorities\.normal\.maxEventLoopDelay.*'low'.*100 ms.*got 100/],
      [{ maxEventLoopDelay: 100, priorities: { high: { maxEventLoopDelay: 150 } } }, /loadShedding\.priorities\.high\.maxEventLoopDelay.*'normal'.*200 ms.*got 150/],
      [{ maxEventLoopDelay: 100, priorities: { normal: { maxEventLoopDelay: 200, recoverEventLoopDelay: 40 } } }, /priorities\.normal\.recoverEventLoopDelay.*at or above.*50 ms.*got 40/],
      [{ maxEventLoopDelay: 100, priorities: { normal: { maxEventLoopDelay: 200, recoverEventLoopDelay: 200 } } }, /priorities\.normal\.recoverEventLoopDelay.*below.*200 ms.*got 200/],
      [{ maxEventLoopDelay: 100, priorities: { low: { maxEventLoopDelay: 50 } } }, /loadShedding\.priorities\.low/],
      [{ maxEventLoopDelay: 100, priorities: { critical: { maxEventLoopDelay: 900 } } }, /loadShedding\.priorities\.critical/],
      [{ maxEventLoopDelay: 100, priorities: { normal: 300 } }, /loadShedding\.priorities\.normal/],
      [{ maxEventLoopDelay: 100, priorities: { normal: { maxEventLoopDelay: 1e9 } } }, /priorities\.normal\.maxEventLoopDelay/],
    ];
    for (const [loadShedding, message] of bad) {
      expect(() => configure({ loadShedding } as never), JSON.stringify(loadShedding)).toThrow(message);
      expect(() => configure({ loadShedding } as never)).toThrow(expect.objectContaining({ code: 'BW_CONFIG' }));
    }
    expect(loadSheddingSnapshot().enabled).toBe(false); // nothing half-applied
    // a recovery bound equal to the level below's is allowed (never served before it)
    configure({ loadShedding: { maxEventLoopDelay: 100, priorities: { normal: { maxEventLoopDelay: 200, recoverEventLoopDelay: 50 } } } });
  });
});

describe('load-shedding priorities: commands', () => {
  it('keeps the default at never shed, and makes sheddable: true the low priority and sheddable: false critical', () => {
    const resolved = (settings: object) => command({ key: `P.${JSON.stringify(settings)}`, run: () => 1, ...settings });
    const config = (settings: object) => {
      resolved(settings);
      return existingRuntime(`P.${JSON.stringify(settings)}`)!.config;
    };
    expect(config({})).toMatchObject({ priority: 'critical', sheddable: false });
    expect(config({ sheddable: true })).toMatchObject({ priority: 'low', sheddable: true });
    expect(config({ sheddable: false })).toMatchObject({ priority: 'critical', sheddable: false });
    expect(config({ priority: 'high' })).toMatchObject({ priority: 'high', sheddable: true });
    expect(config({ priority: 'critical' })).toMatchObject({ priority: 'critical', sheddable: false });
  });

  it('resolves across layers: a later layer\'s priority or sheddable wins', () => {
    configure({ defaults: { priority: 'normal' }, commands: { Overridden: { sheddable: false }, Raised: { priority: 'high' } } });
    for (const [key, expected] of [
      ['Plain', 'normal'],
      ['Overridden', 'critical'],
      ['Raised', 'high'],
    ] as const) {
      command({ key, run: () => 1 });
      expect(existingRuntime(key)!.config.priority).toBe(expected);
    }
    command({ key: 'OwnLow', sheddable: true, run: () => 1 });
    expect(existingRuntime('OwnLow')!.config.priority).toBe('low');
  });

  it('rejects a bad priority and priority beside sheddable in one layer, naming the path', () => {
    expect(() => command({ key: 'Bad1', run: () => 1, priority: 'urgent' as never })).toThrow(/`priority` must be one of 'critical', 'high', 'normal', 'low', got "urgent"/);
    expect(() => command({ key: 'Bad2', run: () => 1, priority: 'low', sheddable: true })).toThrow(/`priority` must be given without `sheddable`/);
    expect(() => configure({ commands: { Bad3: { priority: 2 as never } } })).toThrow(/commands\.Bad3\.priority/);
  });

  it('sheds a normal-priority command only above its bound: LOAD_SHED to the fallback, counted per key, no health error', async () => {
    configure({ loadShedding: { maxEventLoopDelay: 100 } });
    const cmds = commands('Counted');
    sample(150); // low only
    expect(await cmds.normal.execute()).toBe('ran');
    sample(250); // normal too (bound 200)
    for (let i = 0; i < 3; i++) expect(await cmds.normal.execute()).toBe('LOAD_SHED');
    clock.advance(10);
    const normal = metricsFor('Counted.normal').snapshot();
    expect(normal.rolling.LOAD_SHED).toBe(3);
    expect(normal.rolling.SUCCESS).toBe(1);
    expect(normal.health.errorCount).toBe(0);
    expect(circuitBreakerFor('Counted.normal').state).toBe('CLOSED');
    expect(metricsFor('Counted.low').snapshot().rolling.LOAD_SHED).toBe(0); // counts stay per key
  });
});

describe('load-shedding priorities: HTTP middleware', () => {
  let server: Server | null = null;
  afterEach(async () => {
    if (server !== null) await new Promise((resolve) => server!.close(resolve));
    server = null;
  });

  it('answers 503 + Retry-After by the request priority the function gives, on a real loopback server', async () => {
    const shed = loadSheddingMiddleware({ filter: (req) => req.url !== '/health', priority: (req) => req.url!.slice(1) as ShedPriority });
    server = createServer((req, res) => {
      if (shed(req, res)) return;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const refused = async () => {
      const out: string[] = [];
      for (const path of ['low', 'normal', 'high', 'critical', 'health']) {
        const answer = await httpGet(port, `/${path}`);
        if (answer.status === 503) {
          expect(answer.retryAfter).toBe('2');
          out.push(path);
        } else expect(answer).toMatchObject({ status: 200, body: 'ok' });
      }
      return out;
    };
    configure({ loadShedding: { maxEventLoopDelay: 50, retryAfter: 2 } }); // normal 100, high 200
    expect(await refused()).toEqual([]);
    sample(60);
    expect(await refused()).toEqual(['low']);
    sample(150);
    expect(await refused()).toEqual(['low', 'normal']);
    sample(250);
    expect(await refused()).toEqual(['low', 'normal', 'high']);
    sample(40);
    expect(await refused()).toEqual(['low']); // high (recovers at 100) and normal (at 50) served again, low (25) not yet
    sample(0);
    expect(await refused()).toEqual([]);
    expect(loadSheddingSnapshot().httpRequestsShed).toBe(7);
  });

  it('takes one priority for every request, defaults to low, and rejects a bad priority at construction or from the function', () => {
    configure({ loadShedding: { maxEventLoopDelay: 50 } });
    sample(60); // low only
    const reply = { code: () => reply, header: () => reply, send: () => undefined };
    const req = { url: '/' } as never;
    expect(loadSheddingMiddleware()(req, reply)).toBe(true);
    expect(loadSheddingMiddleware({ priority: 'normal' })(req, reply)).toBe(false);
    expect(() => loadSheddingMiddleware({ priority: 'urgent' as never })).toThrow(/loadSheddingMiddleware\.priority.*got "urgent"/);
    const badFn = loadSheddingMiddleware({ priority: () => 'urgent' as never });
    expect(() => badFn(req, reply)).toThrow(/loadSheddingMiddleware\.priority\(req\).*got "urgent"/);
    sample(0);
    expect(badFn(req, reply)).toBe(false); // the function is not called while nothing is shed
  });
});

describe('load-shedding priorities: Prometheus', () => {
  it('exposes the level (how many priorities are shed) beside the 0/1 shedding gauge', async () => {
    const { Registry } = await import('prom-client');
    const { registerPrometheus } = await import('../../src/index.js');
    const registry = new Registry();
    registerPrometheus(registry);
    expect(await registry.metrics()).toMatch(/^breakwater_load_shedding_level 0$/m);
    configure({ loadShedding: { maxEventLoopDelay: 100 } });
    for (const [ms, level, shedding] of [
      [150, 1, 1],
      [250, 2, 1],
      [450, 3, 1],
      [0, 0, 0],
    ] as const) {
      sample(ms);
      const text = await registry.metrics();
      expect(text).toMatch(new RegExp(`^breakwater_load_shedding_level ${level}$`, 'm'));
      expect(text).toMatch(new RegExp(`^breakwater_load_shedding ${shedding}$`, 'm'));
    }
  });
});
