/**
 * NestJS 12 (on Express) with breakwater as docs/frameworks.md sets it up, over real HTTP on 127.0.0.1.
 */
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { circuitBreakerFor, metricsFor } from '../../src/index.js';
import { resetBreakwater } from '../../src/testing.js';
import { openStream } from '../integration/support/http.js';
import type { BreakwaterMiddleware } from '../../src/frameworks/express.js';

// The app uses Nest's legacy decorators, so it is compiled with its own tsconfig (test/fixtures/nest, checked by
// `npm run typecheck`); a computed specifier keeps this project's compiler from checking it as TC39 decorators.
const FIXTURE = '../fixtures/nest/app.js';
const { AppModule } = (await import(FIXTURE)) as { AppModule: new () => { readonly bw: BreakwaterMiddleware } };

let app: INestApplication | undefined;

beforeEach(async () => {
  resetBreakwater();
  app = await NestFactory.create(AppModule, { logger: false });
  app.use(app.get(AppModule).bw);
  await app.listen(0, '127.0.0.1');
});
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const base = async () => (await app!.getUrl()).replace('[::1]', '127.0.0.1');

describe('NestJS with breakwater', () => {
  it('a NotFoundException under ignoreExceptions gives the client its 404 and leaves the circuit’s errors unchanged', async () => {
    const url = await base();
    const ok = await fetch(`${url}/users/42`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { log: string }).log).toMatch(/^Nest\.FindUser\[SUCCESS\]\[\d+ms\]$/); // request scope
    const missing = await fetch(`${url}/users/7`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ statusCode: 404, message: 'no user 7' });
    const { rolling, health } = metricsFor('Nest.FindUser').snapshot();
    expect(rolling).toMatchObject({ SUCCESS: 1, BAD_REQUEST: 1, FAILURE: 0 });
    expect(health.errorCount).toBe(0);
    expect(circuitBreakerFor('Nest.FindUser').state).toBe('CLOSED');
  });

  it('hands Nest the method’s own error when there is no fallback (unwrapErrors, the decorator’s default)', async () => {
    const res = await fetch(`${await base()}/users/flaky`);
    expect(res.status).toBe(502); // Nest mapped its own HttpException, not a 500 for a wrapper
    expect(metricsFor('Nest.Flaky').snapshot().rolling).toMatchObject({ FAILURE: 1, FALLBACK_MISSING: 1 });
  });

  it('serves the stream and shuts down within 2 s with a dashboard connected (beforeApplicationShutdown)', async () => {
    const url = await base();
    await fetch(`${url}/users/42`);
    const stream = await openStream(`${url}/hystrix.stream`);
    await stream.waitFor((t) => t.includes('"name":"Nest.FindUser"'), 3000);
    const started = performance.now();
    await app!.close();
    app = undefined;
    await stream.ended;
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
