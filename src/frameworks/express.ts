/**
 * breakwater for Express (4 and 5) and Connect-style servers: `import { breakwater } from 'breakwater/express'`.
 * This entry does not load Express itself; it returns plain `(req, res, next)` middleware.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from '../request/RequestContext.js';
import { frameworkRoutes, type FrameworkRoutesOptions } from './routes.js';

export type { FrameworkRoutesOptions } from './routes.js';

/** Connect/Express middleware: `(req, res, next)`. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** What {@link breakwater} returns: middleware to `app.use()`, with a `close()` for shutdown. */
export interface BreakwaterMiddleware extends Middleware {
  /**
   * Ends live dashboard streams. Call it **before** `server.close()`: a stream never ends by itself, so a server
   * closing with a dashboard connected waits for ever (Nest: `beforeApplicationShutdown`, not
   * `onApplicationShutdown`).
   */
  close(): void;
}

/**
 * Middleware that serves the Hystrix dashboard stream (`GET /hystrix.stream`), the Prometheus exposition
 * (`GET /metrics`) and runs every other request inside its own `RequestContext` (request cache and request log),
 * then passes it on. Mount it first, before compression: the stream sends `Cache-Control: no-transform`, which
 * `compression()` honours, and flushes each frame where the response offers `flush()`.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { breakwater } from 'breakwater/express';
 *
 * const app = express();
 * const bw = breakwater({ stream: { authorize: (req) => req.headers.authorization === `Bearer ${token}` } });
 * app.use(bw); // or app.use('/ops', bw) for /ops/hystrix.stream and /ops/metrics
 * const server = app.listen(8080, '127.0.0.1');
 * process.on('SIGTERM', () => { bw.close(); server.close(); });
 * ```
 */
export function breakwater(options?: FrameworkRoutesOptions): BreakwaterMiddleware {
  const routes = frameworkRoutes(options, 'breakwater/express');
  const middleware = ((req, res, next) => {
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') {
      const path = pathOf(req.url);
      if (routes.stream !== null && path === routes.streamPath) {
        routes.stream(req, res);
        return;
      }
      if (path === routes.metricsPath) {
        routes.metrics(req, res).catch(next);
        return;
      }
    }
    if (routes.requestContext && !RequestContext.active) RequestContext.run(() => next());
    else next();
  }) as BreakwaterMiddleware;
  middleware.close = routes.close;
  return middleware;
}

/**
 * Middleware that runs each request inside its own `RequestContext`, for apps that serve the stream elsewhere
 * (`breakwater()` already does this).
 */
export function requestContext(): Middleware {
  return (_req, _res, next) => {
    if (RequestContext.active) next();
    else RequestContext.run(() => next());
  };
}

/** The path of a request URL (relative to where the middleware is mounted, as Express rewrites `req.url`). */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
