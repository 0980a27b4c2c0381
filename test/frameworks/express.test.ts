/**
 * breakwater/express against the real Express 5 (and the real compression middleware) on 127.0.0.1.
 */
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { breakwater, type BreakwaterMiddleware } from '../../src/frameworks/express.js';
import { circuitBreakerFor, command, metricsFor, requestLog } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { openStream } from '../integration/support/http.js';

class NotFoundError extends Error {
  readonly status = 404;
}

let server: Server | undefined;
let bw: BreakwaterMiddleware | undefined;

beforeEach(() => resetBreakwater());
afterEach(async () => {
  bw?.close();
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  }
  server = undefined;
  bw = undefined;
});

async function listen(app: express.Express): Promise<string> {
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server!.once('listening', resolve);
    server!.once('error', reject);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const getUser = () =>
  command({
    key: 'Express.GetUser',
    ignoreExceptions: [NotFoundError],
    cacheKey: (id: string) => id,
    run: async (id: string) => {
      if (id === 'missing') throw new NotFoundError(`no user ${id}`);
      return { id };
    },
  });

function appWith(middleware: BreakwaterMiddleware): express.Express {
  const app = express();
  app.use(compression());
  app.use(middleware);
  const users = getUser();
  app.get('/users/:id', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const first = await users.execute(id);
    await users.execute(id); // the same request: a cache hit
    res.json({ user: first, log: String(requestLog()) });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status((error as { status?: number }).status ?? 500).json({ error: (error as Error).message });
  });
  return app;
}

describe('breakwater/express', () => {
  it('streams frames through compression() to a client that accepts gzip, flushed as they come', async () => {
    bw = breakwater({ stream: { intervalMs: 100 } });
    const url = await listen(appWith(bw));
    await fetch(`${url}/users/1`);
    const stream = await openStream(`${url}/hystrix.stream`, { 'Accept-Encoding': 'gzip' });
    expect(stream.res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.res.headers['content-encoding']).toBeUndefined(); // compression() honoured no-transform
    const text = await stream.waitFor((t) => t.includes('"name":"Express.GetUser"'), 3000);
    expect(text).toMatch(/^data: \{"type":"HystrixCommand"/m);
    stream.res.destroy();
  });

  it('runs each request in its own RequestContext, so the request cache and log work per request', async () => {
    bw = breakwater();
    const url = await listen(appWith(bw));
    for (let i = 0; i < 2; i++) {
      const body = (await (await fetch(`${url}/users/7`)).json()) as { log: string };
      expect(body.log).toMatch(/^Express\.GetUser\[SUCCESS\]\[\d+ms\], Express\.GetUser\[SUCCESS, RESPONSE_FROM_CACHE\]\[\d+ms\]$/);
    }
    expect(metricsFor('Express.GetUser').snapshot().rolling).toMatchObject({ SUCCESS: 2, RESPONSE_FROM_CACHE: 2 });
  });

  it('lets an ignored error reach Express’s error handler as itself: a 404, and no health error', async () => {
    bw = breakwater();
    const url = await listen(appWith(bw));
    const res = await fetch(`${url}/users/missing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no user missing' });
    const { rolling, health } = metricsFor('Express.GetUser').snapshot();
    expect(rolling.BAD_REQUEST).toBe(1);
    expect(health.errorCount).toBe(0);
    expect(circuitBreakerFor('Express.GetUser').state).toBe('CLOSED');
  });

  it('serves /metrics under the mount path, and answers HEAD without a body', async () => {
    bw = breakwater();
    const app = express();
    app.use('/ops', bw);
    const url = await listen(app);
    await command({ key: 'Express.Metrics', run: async () => 1 }).execute();
    const res = await fetch(`${url}/ops/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/breakwater_\w+\{[^}]*command="Express\.Metrics"/);
    const head = await fetch(`${url}/ops/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${url}/metrics`)).status).toBe(404); // not mounted there
  });

  it('shuts down within 2 s with a dashboard connected when close() comes before server.close()', async () => {
    bw = breakwater({ stream: { intervalMs: 100 } });
    const url = await listen(appWith(bw));
    const stream = await openStream(`${url}/hystrix.stream`);
    await stream.waitFor((t) => t.length > 0, 3000);
    const started = performance.now();
    bw.close();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await stream.ended;
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses bad options at set-up, naming the option and the value', () => {
    expect(() => breakwater({ streamPath: 'hystrix.stream' })).toThrow(/`breakwater\/express.streamPath` must be a path starting with "\/", or false, got "hystrix.stream"/);
    expect(() => breakwater({ metricsPath: 3 as never })).toThrow(/`breakwater\/express.metricsPath`/);
    expect(() => breakwater({ streamPth: '/x' } as never)).toThrow(/streamPth/);
  });
});
