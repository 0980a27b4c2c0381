import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { shedder } from './loadShedding.js';
import { SHED_PRIORITIES } from '../config/defaults.js';
import { expectOneOf } from '../config/validate.js';
import type { ShedPriority } from '../config/options.js';

/**
 * What {@link loadSheddingMiddleware} needs of a request: node:http's `IncomingMessage`, Express's `Request` and
 * Fastify's `FastifyRequest` all fit.
 */
export interface ShedRequest {
  /** The request target. */
  readonly url?: string | undefined;
  /** The method. */
  readonly method?: string | undefined;
  /** The headers. */
  readonly headers: IncomingHttpHeaders;
}

/**
 * Options of {@link loadSheddingMiddleware}. `Req` is the request type your framework hands the callbacks
 * (`IncomingMessage` for node:http and Express; write `loadSheddingMiddleware<FastifyRequest>({ … })` for Fastify).
 */
export interface LoadSheddingMiddlewareOptions<Req extends ShedRequest = IncomingMessage> {
  /**
   * Which requests may be shed; return false to always serve one (health checks, the stream, `/metrics`).
   * @defaultValue every request
   */
  filter?(req: Req): boolean;
  /**
   * The requests' load-shedding priority, the same as commands' `priority`: one for every request, or a function
   * of the request (e.g. by route or by a header set by a trusted proxy). A request is answered 503 while its
   * priority is shed: `'low'` first (delay above `loadShedding.maxEventLoopDelay`), `'normal'` and `'high'` above
   * their own bounds, `'critical'` never. Called only while something is shed, after `filter`.
   * @defaultValue 'low' (every request is shed as soon as shedding starts, like a `sheddable: true` command)
   */
  readonly priority?: ShedPriority | RequestPriority<Req>;
}

/** A function giving a request's load-shedding priority (see {@link LoadSheddingMiddlewareOptions.priority}). */
export type RequestPriority<Req extends ShedRequest = IncomingMessage> = (req: Req) => ShedPriority;

/** A Fastify-style reply, as {@link loadSheddingMiddleware} answers through it: `code(n).header(k, v).send(body)`. */
export interface ReplyLike {
  /** Sets the status code. */
  code(statusCode: number): ReplyLike;
  /** Sets a header. */
  header(name: string, value: string): ReplyLike;
  /** Sends the body. */
  send(body: string): unknown;
}

/**
 * The handler {@link loadSheddingMiddleware} returns. Call it first in a request handler: it returns true after
 * answering `503 Service Unavailable` with `Retry-After` (the request is done), false after calling `next` (if
 * given) when the request may go on.
 */
export type LoadSheddingHandler = (req: ShedRequest, res: ServerResponse | ReplyLike, next?: (error?: never) => void) => boolean;

const BODY = 'Service Unavailable: overloaded, retry later\n';

/**
 * HTTP load shedding by the same rule as commands: while the process sheds a request's priority
 * (`configure({ loadShedding })`, `'low'` unless `priority` says otherwise), it is answered at once with `503` and `Retry-After:
 * loadShedding.retryAfter` seconds, before any work is done for them. One function fits node:http handlers, Express
 * (and Connect) middleware, and Fastify `onRequest` hooks; with load shedding off it only calls `next`.
 *
 * @example
 * ```ts
 * const shed = loadSheddingMiddleware({
 *   filter: (req) => req.url !== '/health',                          // never shed
 *   priority: (req) => (req.url?.startsWith('/checkout') ? 'high' : 'low'),
 * });
 * http.createServer((req, res) => { if (shed(req, res)) return; handle(req, res); });  // node:http
 * app.use(shed);                                                                       // Express
 * fastify.addHook('onRequest', shed);                                                  // Fastify
 * ```
 * @see {@link loadSheddingSnapshot}
 */
export function loadSheddingMiddleware<Req extends ShedRequest = IncomingMessage>(options: LoadSheddingMiddlewareOptions<Req> = {}): LoadSheddingHandler {
  const filter = options.filter;
  if (filter !== undefined && typeof filter !== 'function') {
    throw new TypeError(`breakwater: \`loadSheddingMiddleware.filter\` must be a function, got ${typeof filter}`);
  }
  const priority = options.priority ?? 'low';
  if (typeof priority !== 'function') expectOneOf(priority, 'loadSheddingMiddleware.priority', SHED_PRIORITIES);
  const state = shedder.state;
  return (req, res, next) => {
    const config = shedder.config;
    // the framework's own request object, as the callbacks are typed for it (Req)
    const r = req as Req;
    if (config === false || !state.active || (filter !== undefined && !filter.call(options, r)) || !state.shed[priorityOf(priority, r)]) {
      next?.();
      return false;
    }
    shedder.httpShed++;
    const retryAfter = String(config.retryAfter);
    if (isReply(res)) {
      res.code(503).header('Retry-After', retryAfter).header('Content-Type', 'text/plain; charset=utf-8').send(BODY);
      return true;
    }
    res.statusCode = 503;
    res.setHeader('Retry-After', retryAfter);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(BODY);
    return true;
  };
}

function priorityOf<Req extends ShedRequest>(priority: ShedPriority | RequestPriority<Req>, req: Req): ShedPriority {
  if (typeof priority !== 'function') return priority;
  return expectOneOf(priority(req), 'loadSheddingMiddleware.priority(req)', SHED_PRIORITIES);
}

function isReply(res: ServerResponse | ReplyLike): res is ReplyLike {
  return typeof (res as Partial<ReplyLike>).code === 'function' && typeof (res as Partial<ReplyLike>).send === 'function';
}
