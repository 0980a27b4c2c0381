/**
 * One instance of a fleet sharing a circuit through Redis, run as its own process by
 * test/store/sharedBreaker.test.ts. It reads commands as JSON lines on stdin and writes events as JSON lines on
 * stdout: `ready`, each circuit transition, each `run` (with the breaker's state when it started: a HALF_OPEN run
 * is the trial) and `store` status events.
 */
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { circuitBreakerFor, command, redisStore } from '../../../src/index.js';

const client = new Redis({ port: Number(process.env.REDIS_PORT), host: '127.0.0.1' });
client.on('error', () => undefined);
// The store deadline bounds a wait here, it is not what the test claims: 1 s, so a loaded machine does not make an
// instance give up on the store (and run a trial of its own) in the middle of the fleet test.
const store = redisStore(client, { prefix: process.env.PREFIX!, timeout: 1000, trialLockTtl: Number(process.env.TRIAL_LOCK_TTL ?? 1500) });
const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...o, t: Date.now() })}\n`);

let mode: 'ok' | 'fail' | 'hang' = 'ok';
const shared = command({
  key: 'Shared',
  timeout: false,
  circuitBreaker: { store, requestVolumeThreshold: 5, errorThresholdPercentage: 50, sleepWindow: Number(process.env.SLEEP_WINDOW ?? 1000) },
  metrics: { healthSnapshotInterval: 10 },
  run: async () => {
    say({ event: 'run', state: circuitBreakerFor('Shared').state, mode });
    if (mode === 'fail') throw new Error('down');
    if (mode === 'hang') return new Promise<string>(() => undefined);
    return 'ok';
  },
  fallback: () => 'fallback',
});
for (const name of ['circuitOpen', 'circuitHalfOpen', 'circuitClosed', 'circuitStoreUnavailable', 'circuitStoreRecovered'] as const) {
  shared.events.on(name, () => say({ event: name }));
}

let looping: ReturnType<typeof setInterval> | null = null;
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { mode?: typeof mode; call?: number; loop?: boolean; state?: boolean };
  if (cmd.mode !== undefined) mode = cmd.mode;
  if (cmd.call !== undefined) {
    void (async () => {
      const results: unknown[] = [];
      for (let i = 0; i < cmd.call!; i++) results.push(await shared.execute());
      say({ event: 'called', results });
    })();
  }
  if (cmd.loop === true && looping === null) looping = setInterval(() => void shared.execute(), 20);
  if (cmd.loop === false && looping !== null) {
    clearInterval(looping);
    looping = null;
  }
  if (cmd.state === true) say({ event: 'state', state: circuitBreakerFor('Shared').state, snapshot: circuitBreakerFor('Shared').toJSON() });
});
await client.ping();
say({ event: 'ready', state: circuitBreakerFor('Shared').state });
