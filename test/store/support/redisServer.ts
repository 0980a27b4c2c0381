import { Redis } from 'ioredis';
import { freePort, pollUntil, startProcess, type Child } from '../../integration/support/processes.js';

/** A real redis-server on a free loopback port, without persistence, started and stopped by the test. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** A new client (closed by `stop()` if still open). */
  client(options?: { maxRetriesPerRequest?: number | null }): Redis;
  /** SIGKILL, as a crash: nothing is flushed or closed politely. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill()`). */
  restart(): Promise<void>;
  /** Stops the server (bounded: SIGKILL after 2 s) and disconnects every client made here. */
  stop(): Promise<void>;
}

async function launch(port: number): Promise<Child> {
  const child = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning']);
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await pollUntil(async () => {
      if (child.process.exitCode !== null) throw new Error(`redis-server exited: ${child.output()}`);
      try {
        if (probe.status !== 'ready') await probe.connect();
        return (await probe.ping()) === 'PONG' ? true : undefined;
      } catch {
        probe.disconnect();
        return undefined;
      }
    }, 10_000, 50);
  } finally {
    probe.disconnect();
  }
  return child;
}

/** Starts a redis-server for this test file. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let server: Child | null = await launch(port);
  const clients: Redis[] = [];
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client(options = {}) {
      const c = new Redis({ port, host: '127.0.0.1', ...options });
      c.on('error', () => undefined); // reconnects are expected while the server is killed
      clients.push(c);
      return c;
    },
    async kill() {
      if (server === null) return;
      server.process.kill('SIGKILL');
      await server.stop(100);
      server = null;
    },
    async restart() {
      server = await launch(port);
    },
    async stop() {
      for (const c of clients.splice(0)) c.disconnect();
      if (server !== null) await server.stop(2000);
      server = null;
    },
  };
}
