/**
 * loadSheddingMiddleware in the real Express 5 and Fastify 5 on 127.0.0.1, with a priority per request: 503 +
 * Retry-After for the priorities the process sheds now (event-loop delay injected, FakeClock), the route served
 * otherwise.
 */
import express from 'express';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configure, loadSheddingMiddleware, loadSheddingSnapshot, type ShedPriority } from '../../src/index.js';
import { resetBreakwater, useEventLoopDelay, useFakeClock, type FakeClock } from '../../src/testing.js';

let clock: FakeClock;
let delay = 0;
let server: Server | undefined;
let fastify: FastifyInstance | undefined;
beforeEach(() => {
  clock = useFakeClock();
  delay = 0;
  useEventLoopDelay(() => delay);
  configure({ loadShedding: { maxEventLoopDelay: 50, retryAfter: 4 } }); // 'normal' above 100 ms, 'high' above 200 ms
});
afterEach(async () => {
  if (server !== undefined) await new Promise((resolve) => server!.close(resolve));
  await fastify?.close();
  server = undefined;
  fastify = undefined;
  resetBreakwater();
});

function sample(ms: number): void {
  delay = ms;
  clock.advance(100);
}

/** `/api/<priority>` carries its priority in the path; `/health` is never shed. */
const shed = () =>
  loadSheddingMiddleware({
    filter: (req) => req.url !== '/health',
    priority: (req) => (req.url ?? '').split('/')[2] as ShedPriority,
  });

/** The paths answered 503 (each with Retry-After: 4) at the current state; the others must be served. */
async function refused(base: string): Promise<string[]> {
  const out: string[] = [];
  for (const path of ['/api/low', '/api/normal', '/api/high', '/api/critical', '/health']) {
    const res = await fetch(base + path);
    const body = await res.text();
    if (res.status === 503) {
      expect(res.headers.get('retry-after')).toBe('4');
      out.push(path);
    } else expect([res.status, body]).toEqual([200, 'served']);
  }
  return out;
}

async function walk(base: string): Promise<void> {
  expect(await refused(base)).toEqual([]);
  sample(75);
  expect(await refused(base)).toEqual(['/api/low']);
  sample(150);
  expect(await refused(base)).toEqual(['/api/low', '/api/normal']);
  sample(1_000);
  expect(await refused(base)).toEqual(['/api/low', '/api/normal', '/api/high']);
  sample(0);
  expect(await refused(base)).toEqual([]);
  expect(loadSheddingSnapshot().httpRequestsShed).toBe(6);
}

describe('loadSheddingMiddleware with per-request priorities', () => {
  it('in Express 5: app.use(shed) answers 503 + Retry-After for the shed priorities and calls next() for the rest', async () => {
    const app = express();
    app.use(shed());
    app.get(/.*/, (_req, res) => void res.send('served'));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server!.once('listening', resolve));
    await walk(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  it("in Fastify 5: an onRequest hook answers through reply.code().header().send() and lets the rest reach the route", async () => {
    fastify = Fastify();
    // typed for Fastify's own request object (FastifyRequest.url is a string)
    const hook = loadSheddingMiddleware<FastifyRequest>({ filter: (req) => req.url !== '/health', priority: (req) => req.url.split('/')[2] as ShedPriority });
    fastify.addHook('onRequest', hook);
    fastify.get('/*', async () => 'served');
    await walk(await fastify.listen({ port: 0, host: '127.0.0.1' }));
  });
});
