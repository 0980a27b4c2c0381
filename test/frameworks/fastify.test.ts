/**
 * breakwater/fastify against the real Fastify 5 on 127.0.0.1.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { breakwaterFastify } from '../../src/frameworks/fastify.js';
import { command, requestLog } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { openStream } from '../integration/support/http.js';

let app: FastifyInstance | undefined;

beforeEach(() => resetBreakwater());
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(options: Parameters<typeof breakwaterFastify>[1]): Promise<string> {
  app = Fastify();
  await app.register(breakwaterFastify, options);
  const hello = command({ key: 'Fastify.Hello', cacheKey: (name: string) => name, run: async (name: string) => `hello ${name}` });
  app.get('/hello/:name', async (req) => {
    const name = (req.params as { name: string }).name;
    await hello.execute(name);
    return { text: await hello.execute(name), log: String(requestLog()) };
  });
  return app.listen({ port: 0, host: '127.0.0.1' });
}

describe('breakwater/fastify', () => {
  it('guards the stream with an async authorize: 403 without the token, a stream with it', async () => {
    const url = await start({
      stream: {
        intervalMs: 100,
        authorize: async (req) => {
          await new Promise((resolve) => setImmediate(resolve)); // decided after Fastify's handler returned
          return req.headers.authorization === 'Bearer s3cret';
        },
      },
    });
    await fetch(`${url}/hello/ann`);
    const refused = await fetch(`${url}/hystrix.stream`);
    expect(refused.status).toBe(403);
    const stream = await openStream(`${url}/hystrix.stream`, { Authorization: 'Bearer s3cret' });
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toMatch(/^text\/event-stream/);
    await stream.waitFor((t) => t.includes('"name":"Fastify.Hello"'), 3000);
    stream.res.destroy();
  });

  it('runs every request in its own RequestContext (the hook covers routes outside the plugin)', async () => {
    const url = await start({});
    for (let i = 0; i < 2; i++) {
      const body = (await (await fetch(`${url}/hello/bo`)).json()) as { text: string; log: string };
      expect(body.text).toBe('hello bo');
      expect(body.log).toMatch(/^Fastify\.Hello\[SUCCESS\]\[\d+ms\], Fastify\.Hello\[SUCCESS, RESPONSE_FROM_CACHE\]\[\d+ms\]$/);
    }
  });

  it('serves /metrics', async () => {
    const url = await start({ streamPath: false });
    await fetch(`${url}/hello/cy`);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/breakwater_\w+\{[^}]*command="Fastify\.Hello"/);
    expect((await fetch(`${url}/hystrix.stream`)).status).toBe(404);
  });

  it('closes within 2 s with a dashboard connected (the streams end in preClose)', async () => {
    const url = await start({ stream: { intervalMs: 100 } });
    const stream = await openStream(`${url}/hystrix.stream`);
    await stream.waitFor((t) => t.length > 0, 3000);
    const started = performance.now();
    await app!.close();
    app = undefined;
    await stream.ended;
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses bad options when registered, naming the option', async () => {
    app = Fastify();
    await expect(app.register(breakwaterFastify, { requestContext: 'yes' as never })).rejects.toThrow(
      /`breakwater\/fastify.requestContext` must be a boolean, got "yes"/,
    );
  });
});
