import { beforeEach, describe, expect, it } from 'vitest';
import {
  CommandError,
  allPools,
  command,
  configure,
  metricsFor,
  Pool,
  poolFor,
  POOL_DEFAULTS,
  RequestContext,
  type RunContext,
} from '../../src/index.js';
import { ADMITTED, QUEUED, REJECTED, type Waiter } from '../../src/bulkhead/Bulkhead.js';
import { useFakeClock, type FakeClock } from '../../src/testing.js';
import { deadlinesFor } from '../../src/time/deadlinesFor.js';

let clock: FakeClock;
beforeEach(() => {
  clock = useFakeClock();
});

function deferred<T = unknown>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** A pool-isolated command whose runs the test finishes by hand, in any order. */
function manual(key: string, settings: Record<string, unknown> = {}) {
  const started: string[] = [];
  const pending = new Map<string, (v: string) => void>();
  const cmd = command({
    key,
    isolation: 'pool',
    timeout: false,
    ...settings,
    run: (id: string, _ctx: RunContext) => {
      started.push(id);
      const d = deferred<string>();
      pending.set(id, d.resolve);
      return d.promise;
    },
  });
  const finish = (id: string) => {
    pending.get(id)!(`done:${id}`);
    pending.delete(id);
  };
  return { cmd, started, finish };
}

function waiter(log: string[], name: string): Waiter {
  return {
    qNext: null,
    admitted: () => log.push(name),
  };
}

describe('Pool (unit)', () => {
  it('admits up to coreSize, then rejects with no queue (maxQueueSize -1, the default)', () => {
    const pool = new Pool('P', { ...POOL_DEFAULTS, coreSize: 2 });
    const log: string[] = [];
    expect(pool.admit(waiter(log, 'a'), 0)).toBe(ADMITTED);
    expect(pool.admit(waiter(log, 'b'), 0)).toBe(ADMITTED);
    expect(pool.admit(waiter(log, 'c'), 0)).toBe(REJECTED);
    expect(pool.snapshot(0)).toMatchObject({ active: 2, queued: 0, rollingRejected: 1, cumulativeRejected: 1 });
  });

  it('queues FIFO and admits from the head as slots free', () => {
    const pool = new Pool('P', { ...POOL_DEFAULTS, coreSize: 1, maxQueueSize: 10, queueSizeRejectionThreshold: 10 });
    const log: string[] = [];
    expect(pool.admit(waiter(log, 'a'), 0)).toBe(ADMITTED);
    for (const name of ['b', 'c', 'd']) expect(pool.admit(waiter(log, name), 0)).toBe(QUEUED);
    pool.release(1);
    pool.release(2);
    expect(log).toEqual(['b', 'c']);
    expect(pool.snapshot(2)).toMatchObject({ active: 1, queued: 1, completed: 2 });
  });

  it('rejects at min(queueSizeRejectionThreshold, maxQueueSize) queued', () => {
    const byThreshold = new Pool('T', { ...POOL_DEFAULTS, coreSize: 1, maxQueueSize: 10, queueSizeRejectionThreshold: 2 });
    const byMax = new Pool('M', { ...POOL_DEFAULTS, coreSize: 1, maxQueueSize: 1, queueSizeRejectionThreshold: 5 });
    const log: string[] = [];
    const answers = (pool: Pool) => [0, 1, 2, 3].map((i) => pool.admit(waiter(log, String(i)), 0));
    expect(answers(byThreshold)).toEqual([ADMITTED, QUEUED, QUEUED, REJECTED]);
    expect(answers(byMax)).toEqual([ADMITTED, QUEUED, REJECTED, REJECTED]);
  });

  it('never queues a caller that cannot wait (null waiter), and counts the rejection', () => {
    const pool = new Pool('P', { ...POOL_DEFAULTS, coreSize: 1, maxQueueSize: 5 });
    const log: string[] = [];
    expect(pool.admit(null, 0)).toBe(ADMITTED);
    expect(pool.admit(null, 0)).toBe(REJECTED);
    expect(pool.snapshot(0)).toMatchObject({ queued: 0, rollingRejected: 1 });
    expect(log).toEqual([]);
  });

  it('removes a waiter from anywhere in the queue', () => {
    const pool = new Pool('P', { ...POOL_DEFAULTS, coreSize: 1, maxQueueSize: 5 });
    const log: string[] = [];
    const ws = ['a', 'b', 'c', 'd'].map((n) => waiter(log, n));
    for (const w of ws) pool.admit(w, 0);
    expect(pool.dequeue(ws[2]!)).toBe(true);
    expect(pool.dequeue(ws[2]!)).toBe(false);
    expect(pool.dequeue(ws[3]!)).toBe(true); // the tail
    pool.release(0);
    pool.release(0);
    expect(log).toEqual(['b']);
    expect(pool.dequeue(ws[1]!)).toBe(false);
    expect(pool.queueSize).toBe(0);
  });
});

describe('pool isolation (commands)', () => {
  it('runs queued calls in FIFO order', async () => {
    const { cmd, started, finish } = manual('Fifo', { pool: { coreSize: 1, maxQueueSize: 10, queueSizeRejectionThreshold: 10 } });
    const results = ['a', 'b', 'c', 'd'].map((id) => cmd.execute(id));
    expect(started).toEqual(['a']);
    expect(poolFor('Fifo').queueSize).toBe(3);
    for (const id of ['a', 'b', 'c', 'd']) {
      finish(id);
      await flush();
    }
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(await Promise.all(results)).toEqual(['done:a', 'done:b', 'done:c', 'done:d']);
    expect(poolFor('Fifo').snapshot()).toMatchObject({ active: 0, queued: 0, completed: 4, largest: 1 });
    expect(metricsFor('Fifo').snapshot().rolling.SUCCESS).toBe(4);
  });

  it('takes a queued call whose deadline passes out of the queue with TIMEOUT: it never runs', async () => {
    const { cmd, started, finish } = manual('QueueTimeout', { timeout: 100, pool: { coreSize: 1, maxQueueSize: 5 } });
    const fallbackSeen: string[] = [];
    const withFallback = command({
      key: 'QueueTimeoutFb',
      isolation: 'pool',
      pool: 'QueueTimeout',
      timeout: 100,
      run: async () => 'ran',
      fallback: (error: unknown) => {
        fallbackSeen.push((error as CommandError).failureType);
        return 'fallback';
      },
    });
    const first = cmd.execute('a');
    clock.advance(50);
    const queued = withFallback.execute();
    expect(poolFor('QueueTimeout').queueSize).toBe(1);
    clock.advance(100); // queued at 50 with timeout 100: its deadline is 150 (and the first one's, 100, passed too)
    expect(await queued).toBe('fallback');
    expect(fallbackSeen).toEqual(['TIMEOUT']);
    expect(poolFor('QueueTimeout').queueSize).toBe(0);
    finish('a'); // the first run settles late; its slot frees, and nothing queued runs late
    await expect(first).rejects.toMatchObject({ failureType: 'TIMEOUT' });
    await flush();
    expect(started).toEqual(['a']);
    const m = metricsFor('QueueTimeoutFb').snapshot();
    expect(m.rolling.TIMEOUT).toBe(1);
    expect(m.rolling.FALLBACK_SUCCESS).toBe(1);
    expect(m.concurrency.current).toBe(0);
    expect(poolFor('QueueTimeout').snapshot()).toMatchObject({ active: 0, queued: 0, completed: 1 });
    expect(deadlinesFor(clock).size).toBe(0);
  });

  it('rejects when every slot is busy and there is no queue: THREAD_POOL_REJECTED → fallback', async () => {
    const { cmd, finish } = manual('NoQueue', { pool: { key: 'NoQueuePool', coreSize: 2 } });
    const reject = command({
      key: 'NoQueueFb',
      isolation: 'pool',
      pool: 'NoQueuePool',
      run: async () => 'ran',
      fallback: (e: unknown) => `fallback:${(e as CommandError).failureType}`,
    });
    const running = [cmd.execute('a'), cmd.execute('b')];
    expect(await reject.execute()).toBe('fallback:REJECTED_THREAD_EXECUTION');
    const m = metricsFor('NoQueueFb').snapshot();
    expect(m.rolling.THREAD_POOL_REJECTED).toBe(1);
    expect(m.rolling.FALLBACK_SUCCESS).toBe(1);
    finish('a');
    finish('b');
    await Promise.all(running);
    expect(poolFor('NoQueuePool').snapshot()).toMatchObject({ active: 0, completed: 2, rollingRejected: 1, cumulativeRejected: 1 });
  });

  it('gives CommandError REJECTED_THREAD_EXECUTION without a fallback, counted as a health error', async () => {
    const { cmd, finish } = manual('NoFb', { pool: { coreSize: 1 } });
    const first = cmd.execute('a');
    const error = await cmd.execute('b').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ failureType: 'REJECTED_THREAD_EXECUTION', commandKey: 'NoFb' });
    expect((error as Error).message).toBe('NoFb could not be queued for execution and no fallback available.');
    finish('a');
    await first;
    clock.advance(500); // next health snapshot
    const m = metricsFor('NoFb').snapshot();
    expect(m.rolling.THREAD_POOL_REJECTED).toBe(1);
    expect(m.rolling.FALLBACK_MISSING).toBe(1);
    expect(m.health).toMatchObject({ requestCount: 2, errorCount: 1 });
  });

  it('rejects at the threshold with a queue, and at maxQueueSize when that is smaller', async () => {
    const t = manual('ByThreshold', { pool: { coreSize: 1, maxQueueSize: 10, queueSizeRejectionThreshold: 2 } });
    const calls = ['a', 'b', 'c', 'd'].map((id) => t.cmd.execute(id).catch((e: CommandError) => e.failureType));
    const m = manual('ByMax', { pool: { coreSize: 1, maxQueueSize: 1, queueSizeRejectionThreshold: 5 } });
    const calls2 = ['a', 'b', 'c'].map((id) => m.cmd.execute(id).catch((e: CommandError) => e.failureType));
    expect(poolFor('ByThreshold').snapshot()).toMatchObject({ active: 1, queued: 2, rollingRejected: 1 });
    expect(poolFor('ByMax').snapshot()).toMatchObject({ active: 1, queued: 1, rollingRejected: 1 });
    for (const id of ['a', 'b', 'c']) {
      t.finish(id);
      if (id !== 'c') m.finish(id);
      await flush();
    }
    expect(await Promise.all(calls)).toEqual(['done:a', 'done:b', 'done:c', 'REJECTED_THREAD_EXECUTION']);
    expect(await Promise.all(calls2)).toEqual(['done:a', 'done:b', 'REJECTED_THREAD_EXECUTION']);
  });

  it('applies configure({ pools }) live: a larger coreSize drains the queue at once', async () => {
    const { cmd, started, finish } = manual('Grow', { pool: { key: 'GrowPool', coreSize: 1, maxQueueSize: 10, queueSizeRejectionThreshold: 10 } });
    const calls = ['a', 'b', 'c', 'd'].map((id) => cmd.execute(id));
    expect(started).toEqual(['a']);
    configure({ pools: { GrowPool: { coreSize: 3 } } });
    expect(started).toEqual(['a', 'b', 'c']);
    expect(poolFor('GrowPool').snapshot()).toMatchObject({ active: 3, queued: 1, coreSize: 3, largest: 3 });
    configure({ pools: { GrowPool: { coreSize: 1, queueSizeRejectionThreshold: 0 } } }); // shrinking never cancels
    expect(poolFor('GrowPool').snapshot()).toMatchObject({ active: 3, queued: 1 });
    await expect(cmd.execute('e')).rejects.toMatchObject({ failureType: 'REJECTED_THREAD_EXECUTION' });
    for (const id of ['a', 'b', 'c', 'd']) {
      finish(id);
      await flush();
    }
    await Promise.all(calls);
    expect(started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reports Hystrix pool metrics: active, queued, completed, largest, rolling executed, max active, rejections', async () => {
    const { cmd, finish } = manual('Metrics', { pool: { coreSize: 2, maxQueueSize: 1, rollingWindow: 1000, rollingBuckets: 10 } });
    const calls = ['a', 'b', 'c', 'd'].map((id) => cmd.execute(id).catch(() => 'rejected'));
    expect(poolFor('Metrics').snapshot()).toEqual({
      poolKey: 'Metrics',
      active: 2,
      queued: 1,
      completed: 0,
      largest: 2,
      coreSize: 2,
      maxQueueSize: 1,
      queueSizeRejectionThreshold: 5,
      rollingExecuted: 0,
      rollingRejected: 1,
      rollingMaxActive: 2,
      cumulativeExecuted: 0,
      cumulativeRejected: 1,
      rollingWindow: 1000,
    });
    clock.advance(100);
    finish('a');
    await flush();
    finish('b');
    finish('c');
    await Promise.all(calls);
    expect(poolFor('Metrics').snapshot()).toMatchObject({ active: 0, queued: 0, completed: 3, largest: 2, rollingExecuted: 3, rollingMaxActive: 2 });
    clock.advance(1000); // the rolling window has passed
    expect(poolFor('Metrics').snapshot()).toMatchObject({ completed: 3, largest: 2, rollingExecuted: 0, rollingRejected: 0, rollingMaxActive: 0, cumulativeRejected: 1 });
  });

  it('shares a pool by key: the group by default, or the pool option', async () => {
    const a = manual('SharedA', { group: 'Users', pool: undefined });
    const b = manual('SharedB', { group: 'Users' });
    const c = manual('Alone', { group: 'Users', pool: 'Other' });
    const d = manual('NoGroup');
    const calls = [a.cmd.execute('1'), b.cmd.execute('2'), c.cmd.execute('3'), d.cmd.execute('4')];
    expect(poolFor('Users').activeCount).toBe(2);
    expect(poolFor('Other').activeCount).toBe(1);
    expect(poolFor('NoGroup').activeCount).toBe(1);
    expect(allPools().map((p) => p.key).sort()).toEqual(['NoGroup', 'Other', 'Users']);
    a.finish('1');
    b.finish('2');
    c.finish('3');
    d.finish('4');
    await Promise.all(calls);
    expect(poolFor('Users').snapshot().completed).toBe(2);
  });

  it('takes a cancelled queued observable out of the queue: CANCELLED, never runs', async () => {
    const { cmd, started, finish } = manual('CancelQueued', { pool: { coreSize: 1, maxQueueSize: 10, queueSizeRejectionThreshold: 1 } });
    const first = cmd.execute('a');
    const values: unknown[] = [];
    const subscription = cmd.toObservable('b').subscribe({ next: (v) => values.push(v), error: (e) => values.push(e) });
    expect(poolFor('CancelQueued').queueSize).toBe(1);
    subscription.unsubscribe();
    expect(poolFor('CancelQueued').queueSize).toBe(0);
    finish('a');
    expect(await first).toBe('done:a');
    await flush();
    expect(started).toEqual(['a']);
    expect(values).toEqual([]);
    const m = metricsFor('CancelQueued').snapshot();
    expect(m.rolling.CANCELLED).toBe(1);
    expect(m.rolling.SUCCESS).toBe(1);
    expect(deadlinesFor(clock).size).toBe(0);
  });

  it('rejects a synchronous call rather than queue it, and the pool counts that rejection', async () => {
    const { cmd, finish } = manual('SyncPool', { pool: { coreSize: 1, maxQueueSize: 5 } });
    const sync = command({ key: 'SyncPoolSync', isolation: 'pool', pool: 'SyncPool', run: () => 'sync', fallback: () => 'fallback' });
    const first = cmd.execute('a');
    expect(sync.executeSync()).toBe('fallback');
    expect(metricsFor('SyncPoolSync').snapshot().rolling.THREAD_POOL_REJECTED).toBe(1);
    expect(poolFor('SyncPool').snapshot()).toMatchObject({ queued: 0, rollingRejected: 1 });
    finish('a');
    await first;
    expect(sync.executeSync()).toBe('sync');
  });

  it('starts a queued run inside its own caller’s request context, not the releasing call’s', async () => {
    const seen: string[] = [];
    const d = deferred();
    const cmd = command({
      key: 'CtxQueued',
      isolation: 'pool',
      pool: { coreSize: 1, maxQueueSize: 5 },
      timeout: false,
      run: async (name: string) => {
        seen.push(`${name}:${(RequestContext.current() as unknown as { name?: string })?.name}`);
        if (name === 'first') await d.promise;
        return name;
      },
    });
    const inRequest = (name: string) =>
      RequestContext.run(() => {
        Object.assign(RequestContext.current()!, { name });
        return cmd.execute(name);
      });
    const first = inRequest('first');
    const second = inRequest('second');
    d.resolve(undefined);
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
    expect(seen).toEqual(['first:first', 'second:second']);
  });

  it('holds the slot of a timed-out run until the work really settles', async () => {
    const { cmd, started, finish } = manual('HoldSlot', { timeout: 100, pool: { coreSize: 1, maxQueueSize: 5 } });
    const first = cmd.execute('a').catch((e: CommandError) => e.failureType);
    clock.advance(100);
    expect(await first).toBe('TIMEOUT');
    expect(poolFor('HoldSlot').activeCount).toBe(1);
    const second = cmd.execute('b');
    expect(started).toEqual(['a']);
    finish('a');
    await flush();
    expect(started).toEqual(['a', 'b']);
    finish('b');
    expect(await second).toBe('done:b');
  });

  it('keeps one configuration when commands share inline pool settings, however often they run', async () => {
    const a = command({ key: 'InlineA', isolation: 'pool', pool: { key: 'Inline', coreSize: 4 }, run: () => 1 });
    await a.execute();
    const before = poolFor('Inline').config;
    const b = command({ key: 'InlineB', isolation: 'pool', pool: { key: 'Inline', coreSize: 4 }, run: () => 2 });
    await b.execute();
    await a.execute();
    expect(poolFor('Inline').config).toBe(before); // same settings: not re-resolved
    const c = command({ key: 'InlineC', isolation: 'pool', pool: { key: 'Inline', coreSize: 6 }, run: () => 3 });
    await c.execute();
    await a.execute(); // A's settings were applied before: the newer ones stay
    expect(poolFor('Inline').config.coreSize).toBe(6);
    configure({ pools: { Inline: { coreSize: 8 } } }); // configure() wins over inline settings
    await c.execute();
    expect(poolFor('Inline').config.coreSize).toBe(8);
  });
});
