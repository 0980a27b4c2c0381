import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/index.js';
import { startRedis, type RedisServer } from './support/redisServer.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Line {
  event: string;
  t: number;
  state?: string;
  mode?: string;
  results?: unknown[];
  snapshot?: { state: string; openedAt: number | null };
}

/** A fleet instance (test/store/support/breakerWorker.ts): send it commands, wait for its event lines. */
function instance(name: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/support/breakerWorker.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Line[] = [];
  let buffer = '';
  let stderr = '';
  const waiters: { test: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const line = JSON.parse(buffer.slice(0, nl)) as Line;
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (!w.test(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  return {
    name,
    child,
    lines,
    send: (cmd: Record<string, unknown>) => child.stdin!.write(`${JSON.stringify(cmd)}\n`),
    /** The first line (seen already or to come) passing `test`, within `ms`. */
    next(test: (l: Line) => boolean, ms = 10_000, from = 0): Promise<Line> {
      const seen = lines.slice(from).find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no matching line within ${ms} ms; got ${JSON.stringify(lines)}; stderr ${stderr}`)), ms);
        waiters.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
    trials: () => lines.filter((l) => l.event === 'run' && l.state === 'HALF_OPEN').length,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the shared circuit’s scripts on a real redis-server', () => {
  it('gives the trial lock only while the fleet’s record is OPEN, to one owner, and a close removes any lock', async () => {
    const prefix = `scripts-${process.pid}:`;
    const store = redisStore(redis.client(), { prefix, timeout: 2000, trialLockTtl: 60_000 });
    const open = { state: 'OPEN' as const, openedAt: 1_000, origin: 'A' };
    try {
      expect(await store.acquireTrial('K', 'A')).toBe('notOpen'); // nothing to trial
      expect(await redis.client().keys(`${prefix}*`)).toEqual([]); // and no lock taken for it
      await store.publishCircuit('K', open, 60_000, 'A');
      expect(await store.acquireTrial('K', 'A')).toBe('taken');
      expect(await store.acquireTrial('K', 'A')).toBe('taken'); // its own lock again
      expect(await store.acquireTrial('K', 'B')).toBe('busy');
      await store.publishCircuit('K', { ...open, origin: 'B' }, 60_000, 'B'); // another's opening keeps A's trial lock
      expect(await store.acquireTrial('K', 'B')).toBe('busy');
      await store.publishCircuit('K', { state: 'CLOSED', openedAt: null, origin: 'B' }, 60_000, 'B'); // closed by B
      expect(await redis.client().keys(`${prefix}*`)).toEqual([]); // record and A's lock gone
      expect(await store.acquireTrial('K', 'B')).toBe('notOpen');
    } finally {
      store.close();
    }
  });
});

describe('one circuit for the fleet, through a real redis-server', () => {
  it('opens on every instance after one trips, runs exactly one trial across them, and survives the trial holder being killed', async () => {
    const env = { REDIS_PORT: String(redis.port), PREFIX: `breaker-${process.pid}:`, SLEEP_WINDOW: '1000', TRIAL_LOCK_TTL: '1500' };
    const fleet = ['A', 'B', 'C'].map((n) => instance(n, env));
    await Promise.all(fleet.map((i) => i.next((l) => l.event === 'ready', 30_000)));
    const [a, b, c] = fleet as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];

    // A's dependency fails: A trips; B and C, which saw nothing, open within 1 s.
    a.send({ mode: 'fail', call: 6 });
    const opened = await a.next((l) => l.event === 'circuitOpen');
    const others = await Promise.all([b, c].map((i) => i.next((l) => l.event === 'circuitOpen', 5000)));
    console.log(`shared breaker: B and C opened ${others.map((o) => o.t - opened.t).join(' and ')} ms after A`);
    for (const o of others) expect(o.t - opened.t).toBeLessThan(1000);
    b.send({ call: 1 });
    expect((await b.next((l) => l.event === 'called')).results).toEqual(['fallback']); // short-circuited

    // A newcomer reads the open circuit on connect, keeping the opened-at (and so the remaining sleep window).
    const d = instance('D', env);
    await d.next((l) => l.event === 'ready', 30_000);
    d.send({ state: true });
    const dState = await d.next((l) => l.event === 'state');
    expect(dState.state).toBe('OPEN');
    a.send({ state: true });
    const aState = await a.next((l) => l.event === 'state');
    // the same opening (wall ↔ monotonic conversions round to the ms on each host: ±2 ms)
    expect(Math.abs(dState.snapshot!.openedAt! - aState.snapshot!.openedAt!)).toBeLessThanOrEqual(2);

    // After the sleep window everyone keeps calling; the trial hangs: exactly one instance runs it.
    const all = [a, b, c, d];
    for (const i of all) i.send({ mode: 'hang', loop: true });
    const holderLine = await Promise.race(all.map((i) => i.next((l) => l.event === 'run' && l.state === 'HALF_OPEN', 10_000).then(() => i)));
    await sleep(1000); // others keep asking for the lock meanwhile
    expect(all.reduce((n, i) => n + i.trials(), 0)).toBe(1);

    // The holder dies mid-trial: its lock expires (1.5 s) and another instance takes the trial over; it succeeds.
    holderLine.child.kill('SIGKILL');
    const rest = all.filter((i) => i !== holderLine);
    for (const i of rest) i.send({ mode: 'ok' });
    const closed = await Promise.all(rest.map((i) => i.next((l) => l.event === 'circuitClosed', 10_000)));
    const secondTrials = rest.reduce((n, i) => n + i.trials(), 0);
    expect(secondTrials).toBe(1);
    expect(Math.max(...closed.map((l) => l.t)) - Math.min(...closed.map((l) => l.t))).toBeLessThan(1000);
    for (const i of rest) i.send({ loop: false });
    const keys = await redis.client().keys(`breaker-${process.pid}:*`);
    expect(keys).toEqual([]); // closed: no record, no lock left behind
  }, 90_000);
});
