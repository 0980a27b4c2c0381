import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  circuitBreakerFor,
  command,
  CommandError,
  configure,
  dashboardEvents,
  isCommandError,
  isConfigError,
  metricsFor,
  poolFor,
  registerPrometheus,
  RequestContext,
  requestLog,
  TokenBucket,
} from '../../src/index.js';
import { existingRuntime } from '../../src/command/CommandRuntime.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

const sym = Symbol('thrown symbol');
const THROWABLES: [string, unknown][] = [
  ['a string', 'plain string'],
  ['undefined', undefined],
  ['null', null],
  ['a plain object', { code: 'E_WEIRD' }],
  ['a symbol', sym],
  ['a number', 42],
  ['a function', function thrown() {}],
];

describe('hostile: non-Error throwables', () => {
  it.each(THROWABLES)('run throwing %s: FAILURE, the fallback receives it, and without a fallback it is the CommandError cause', async (_name, thrown) => {
    let seen: unknown = 'not called';
    const withFb = command({ key: 'Throws', run: async () => { throw thrown; }, fallback: (e) => { seen = e; return 'fb'; } });
    await expect(withFb.execute()).resolves.toBe('fb');
    expect(Object.is(seen, thrown)).toBe(true);

    const bare = command({ key: 'ThrowsBare', run: async () => { throw thrown; } });
    const error = await bare.execute().then(() => 'resolved', (e: unknown) => e);
    expect(isCommandError(error)).toBe(true);
    expect((error as CommandError).failureType).toBe('COMMAND_EXCEPTION');
    expect(Object.is((error as CommandError).cause, thrown)).toBe(true);
    expect(typeof (error as CommandError).message).toBe('string');

    const sync = command({ key: 'ThrowsSync', run: () => { throw thrown; } });
    let syncError: unknown;
    try {
      sync.executeSync();
    } catch (e) {
      syncError = e;
    }
    expect(Object.is((syncError as CommandError).cause, thrown)).toBe(true);

    const rejects = command({ key: 'Rejects', run: () => Promise.reject(thrown) });
    await expect(rejects.execute()).rejects.toSatisfy((e: unknown) => isCommandError(e) && Object.is(e.cause, thrown));

    for (const key of ['Throws', 'ThrowsBare', 'ThrowsSync', 'Rejects']) {
      const s = metricsFor(key).snapshot();
      expect(s.cumulative.FAILURE).toBe(1);
      expect(existingRuntime(key)!.semaphore.inUse).toBe(0);
    }
  });

  it('the observable modes carry a thrown string to the subscriber as the cause too', async () => {
    const c = command({ key: 'ThrowsObs', run: async () => { throw 'obs string'; } });
    const error = await new Promise<unknown>((resolve) => c.toObservable().subscribe({ error: resolve }));
    expect((error as CommandError).cause).toBe('obs string');
  });
});

describe('hostile: command keys', () => {
  const unicode = '🔥 Ключ/键 "quoted" \\ back\nslash <script>alert(1)</script> \u2028';
  const long = 'K'.repeat(10_000);

  it.each([
    ['unicode, quotes, newlines and markup', unicode],
    ['10,000 characters', long],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['hasOwnProperty', 'hasOwnProperty'],
  ])('a key of %s works end to end: breaker, metrics, request log, stream JSON and Prometheus', async (_name, key) => {
    const c = command({ key, run: async (fail: boolean) => { if (fail) throw new Error('x'); return 1; }, fallback: () => 0 });
    await RequestContext.run(async () => {
      await c.execute(false);
      await c.execute(true);
      expect(requestLog()[0]!.key).toBe(key);
    });
    expect(circuitBreakerFor(key).state).toBe('CLOSED');
    expect(metricsFor(key).snapshot().commandKey).toBe(key);
    expect(metricsFor(key).snapshot().cumulative.SUCCESS).toBe(1);
    // The stream's JSON round-trips the name exactly.
    const sample = await new Promise<Record<string, unknown>[]>((resolve) => {
      const objects: Record<string, unknown>[] = [];
      const sub = dashboardEvents({ intervalMs: 100 }).subscribe((o) => {
        objects.push(o as unknown as Record<string, unknown>);
      });
      clock.advance(100);
      sub.unsubscribe();
      resolve(objects);
    });
    const mine = sample.find((o) => o.type === 'HystrixCommand' && o.name === key);
    expect(mine).toBeDefined();
    expect(JSON.parse(JSON.stringify(mine)).name).toBe(key);
    // Prometheus: every exposition line stays one line (label values escaped).
    const registry = new Registry();
    registerPrometheus(registry);
    const text = await registry.metrics();
    const escaped = key.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
    expect(text).toContain(`"${escaped}"`);
    for (const line of text.split('\n')) expect(line.startsWith('#') || line === '' || /^[a-zA-Z_:][a-zA-Z0-9_:]*[{ ]/.test(line)).toBe(true);
  });

  it('an empty or non-string key is refused, naming the option', () => {
    for (const key of ['', 42, undefined, null, {}]) {
      let error: unknown;
      try {
        command({ key: key as string, run: () => 1 });
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error), String(key)).toBe(true);
      expect((error as Error).message).toContain('`key`');
    }
  });
});

/** Calls `build` and returns the ConfigError it throws. */
function refusal(build: () => unknown): Error & { option: string; value: unknown } {
  try {
    build();
  } catch (e) {
    if (isConfigError(e)) return e as Error & { option: string; value: unknown };
    throw new Error(`expected a ConfigError, got ${String(e)}`);
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

const BAD_NUMBERS: [string, number][] = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['negative', -1],
];

/** Option paths of a command's settings and a builder of the settings object holding `value` there. */
const COMMAND_NUMBERS: [string, (v: number) => Record<string, unknown>][] = [
  ['timeout', (v) => ({ timeout: v })],
  ['maxConcurrent', (v) => ({ maxConcurrent: v })],
  ['fallbackMaxConcurrent', (v) => ({ fallbackMaxConcurrent: v })],
  ['circuitBreaker.requestVolumeThreshold', (v) => ({ circuitBreaker: { requestVolumeThreshold: v } })],
  ['circuitBreaker.errorThresholdPercentage', (v) => ({ circuitBreaker: { errorThresholdPercentage: v } })],
  ['circuitBreaker.sleepWindow', (v) => ({ circuitBreaker: { sleepWindow: v } })],
  ['metrics.rollingWindow', (v) => ({ metrics: { rollingWindow: v } })],
  ['metrics.rollingBuckets', (v) => ({ metrics: { rollingBuckets: v } })],
  ['metrics.percentileWindow', (v) => ({ metrics: { percentileWindow: v } })],
  ['metrics.percentileBuckets', (v) => ({ metrics: { percentileBuckets: v } })],
  ['metrics.healthSnapshotInterval', (v) => ({ metrics: { healthSnapshotInterval: v } })],
  ['pool.coreSize', (v) => ({ isolation: 'pool', pool: { coreSize: v } })],
  ['pool.maxQueueSize', (v) => ({ isolation: 'pool', pool: { maxQueueSize: v - 1 } })],
  ['pool.queueSizeRejectionThreshold', (v) => ({ isolation: 'pool', pool: { queueSizeRejectionThreshold: v } })],
  ['rateLimit.capacity', (v) => ({ rateLimit: { capacity: v, refillPerSecond: 1 } })],
  ['rateLimit.refillPerSecond', (v) => ({ rateLimit: { capacity: 1, refillPerSecond: v } })],
  ['rateLimit.maxWait', (v) => ({ rateLimit: { capacity: 1, refillPerSecond: 1, maxWait: v } })],
];

function expectNamed(error: Error & { option: string; value: unknown }, option: string, value: number): void {
  expect(error).toBeInstanceOf(error instanceof TypeError ? TypeError : RangeError);
  expect(error.option.endsWith(option), `${error.option} ends with ${option}`).toBe(true);
  expect(error.message).toContain(`\`${error.option}\``);
  expect(error.message).toContain(String(value));
}

describe('hostile: NaN, Infinity and negative numbers are refused with the option and value named', () => {
  for (const [path, build] of COMMAND_NUMBERS) {
    for (const [name, value] of BAD_NUMBERS) {
      const v = path === 'pool.maxQueueSize' && name === 'negative' ? -1 : value; // -1 is legal there ("no queue"); -2 is not
      it(`${path} = ${name}: command(), configure({ defaults }) and configure({ commands }) refuse it`, () => {
        const settings = build(v);
        expectNamed(refusal(() => command({ key: 'Bad', run: () => 1, ...settings })), path, path === 'pool.maxQueueSize' ? v - 1 : v);
        expectNamed(refusal(() => configure({ defaults: settings })), path, path === 'pool.maxQueueSize' ? v - 1 : v);
        expectNamed(refusal(() => configure({ commands: { Bad: settings } })), path, path === 'pool.maxQueueSize' ? v - 1 : v);
      });
    }
  }

  it('a refused configure() changes nothing, even when other parts of the call were valid', async () => {
    const c = command({ key: 'Kept', timeout: 100, run: () => new Promise<string>(() => {}), fallback: () => 'fb' });
    refusal(() => configure({ defaults: { maxConcurrent: 3 }, commands: { Kept: { timeout: 50 }, Other: { timeout: Number.NaN } } }));
    const pending = c.execute();
    clock.advance(99);
    let done = false;
    void pending.then(() => (done = true));
    await new Promise<void>((r) => setImmediate(r));
    expect(done).toBe(false); // still the 100 ms timeout
    clock.advance(1);
    await expect(pending).resolves.toBe('fb');
    expect(existingRuntime('Kept')!.semaphore.limit).toBe(10);
  });

  for (const [name, value] of BAD_NUMBERS) {
    it(`pools: configure({ pools }) and poolFor(key, options) refuse coreSize = ${name}`, () => {
      expectNamed(refusal(() => configure({ pools: { P: { coreSize: value } } })), 'coreSize', value);
      expectNamed(refusal(() => poolFor('P', { coreSize: value })), 'coreSize', value);
    });

    it(`TokenBucket and configure({ limiters }) refuse capacity and refillPerSecond = ${name}`, () => {
      expectNamed(refusal(() => new TokenBucket({ capacity: value, refillPerSecond: 1 })), 'capacity', value);
      expectNamed(refusal(() => new TokenBucket({ capacity: 1, refillPerSecond: value })), 'refillPerSecond', value);
      expectNamed(refusal(() => configure({ limiters: { L: { capacity: value, refillPerSecond: 1 } } })), 'capacity', value);
    });
  }

  it('tryTake/take refuse a NaN, infinite, zero or negative count', async () => {
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 1 });
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, 0, -1, 6]) {
      expect(() => bucket.tryTake(n), String(n)).toThrow(/n/);
      expect(() => bucket.take(n), String(n)).toThrow(/n/);
    }
    expect(bucket.available()).toBe(5);
  });

  it('strings, booleans and objects where numbers belong are TypeErrors', () => {
    for (const value of ['10', true, {}, [], null]) {
      const e = refusal(() => command({ key: 'Typed', run: () => 1, timeout: value as number }));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.option).toBe('timeout');
    }
  });
});

describe('hostile: prototype-polluting option objects', () => {
  const parse = (json: string) => JSON.parse(json) as Record<string, unknown>;
  const pristine = () => {
    const probe = {} as Record<string, unknown>;
    expect(probe.polluted).toBeUndefined();
    expect(probe.timeout).toBeUndefined();
    expect(probe.forceOpen).toBeUndefined();
    expect(probe.coreSize).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  };

  it('__proto__, constructor and prototype keys in command() options have no effect and pollute nothing', async () => {
    const options = parse('{"__proto__": {"polluted": true, "timeout": 1, "forceOpen": true}, "constructor": {"prototype": {"polluted": true}}, "prototype": {"polluted": true}}');
    const c = command({ key: 'Proto', run: async () => 'ok', ...options });
    await expect(c.execute()).resolves.toBe('ok');
    expect(c.config.timeout).toBe(1000);
    pristine();
  });

  it('… in nested circuitBreaker / metrics / pool / rateLimit objects too', async () => {
    const c = command({
      key: 'ProtoNested',
      run: async () => 'ok',
      circuitBreaker: parse('{"__proto__": {"forceOpen": true, "polluted": true}}'),
      metrics: parse('{"__proto__": {"rollingWindow": 7}}'),
      isolation: 'pool',
      pool: parse('{"key": "ProtoPool", "__proto__": {"coreSize": 1, "polluted": true}}'),
      rateLimit: parse('{"capacity": 5, "refillPerSecond": 5, "__proto__": {"capacity": 1e9}}') as { capacity: number; refillPerSecond: number },
    });
    await expect(c.execute()).resolves.toBe('ok');
    expect(circuitBreakerFor('ProtoNested').state).toBe('CLOSED');
    expect(c.config.circuitBreaker.forceOpen).toBe(false);
    expect(c.config.metrics.rollingWindow).toBe(10_000);
    expect(poolFor('ProtoPool').config.coreSize).toBe(10);
    pristine();
  });

  it('… in configure(): top level, defaults, per-key maps, pools and limiters', async () => {
    const c = command({ key: 'ProtoConf', run: async () => 'ok' });
    configure(parse('{"__proto__": {"polluted": true}, "defaults": {"__proto__": {"timeout": 1}}}'));
    configure({ commands: parse('{"__proto__": {"timeout": 1, "circuitBreaker": {"forceOpen": true}}, "ProtoConf": {"circuitBreaker": {"__proto__": {"forceOpen": true}}}}') as never });
    configure({ pools: parse('{"__proto__": {"coreSize": 1}}') as never, limiters: parse('{"__proto__": {"capacity": 1, "refillPerSecond": 1}}') as never });
    await expect(c.execute()).resolves.toBe('ok');
    expect(c.config.timeout).toBe(1000);
    expect(c.config.circuitBreaker.forceOpen).toBe(false);
    expect(circuitBreakerFor('ProtoConf').state).toBe('CLOSED');
    pristine();
  });

  it('a TokenBucket built from a polluting object keeps its own capacity', () => {
    const bucket = new TokenBucket(parse('{"capacity": 2, "refillPerSecond": 1, "__proto__": {"capacity": 1000000}}') as never);
    expect(bucket.options.capacity).toBe(2);
    expect(bucket.tryTake(2)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
    pristine();
  });

  it('options whose values sit on a prototype (Object.create) are not read: only own keys count', async () => {
    const inherited = Object.create({ timeout: 1, circuitBreaker: { forceOpen: true } }) as Record<string, unknown>;
    const c = command({ key: 'ProtoInherited', run: async () => 'ok', ...inherited });
    await expect(c.execute()).resolves.toBe('ok');
    expect(c.config.timeout).toBe(1000);
  });
});

