/**
 * breakwater for Fastify (4 and 5): `import { breakwaterFastify } from 'breakwater/fastify'`. This entry does not
 * load Fastify itself; the plugin is registered with your instance.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from '../request/RequestContext.js';
import { frameworkRoutes, type FrameworkRoutesOptions } from './routes.js';

export type { FrameworkRoutesOptions } from './routes.js';

/** The parts of a Fastify request the plugin reads. */
export interface FastifyRequestLike {
  /** Node's request. */
  readonly raw: IncomingMessage;
}
/** The parts of a Fastify reply the plugin uses. */
export interface FastifyReplyLike {
  /** Node's response. */
  readonly raw: ServerResponse;
  /** Takes the response out of Fastify's hands (the stream writes it itself). */
  hijack(): unknown;
}
/** The parts of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  /** Adds the hook that runs each request in its own `RequestContext`. */
  addHook(name: 'onRequest', hook: (req: FastifyRequestLike, reply: FastifyReplyLike, done: () => void) => void): unknown;
  /** Adds the hook that ends live streams before the server closes. */
  addHook(name: 'preClose', hook: (done: () => void) => void): unknown;
  /** Adds a GET route (Fastify adds HEAD beside it). */
  get(path: string, handler: (req: FastifyRequestLike, reply: FastifyReplyLike) => unknown): unknown;
}

/** The plugin's type: `app.register(breakwaterFastify, options)`. */
export interface BreakwaterFastifyPlugin {
  (instance: FastifyInstanceLike, options: FrameworkRoutesOptions): Promise<void>;
}

/**
 * A Fastify plugin that serves the Hystrix dashboard stream and the Prometheus exposition and runs every request
 * inside its own `RequestContext`:
 * - the stream route calls `reply.hijack()` before streaming, so Fastify neither answers an async route early
 *   (an empty `200`) nor touches the response while `authorize` (sync or async) decides;
 * - live streams are ended in `preClose`, before the server waits for its connections, so `app.close()` returns
 *   with a dashboard connected (`onClose` would be too late);
 * - it is not encapsulated (as `fastify-plugin` does), so the request-context hook covers the whole app.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { breakwaterFastify } from 'breakwater/fastify';
 *
 * const app = Fastify();
 * await app.register(breakwaterFastify, { stream: { authorize: async (req) => isAdmin(req) } });
 * await app.listen({ port: 8080, host: '127.0.0.1' });
 * ```
 */
export const breakwaterFastify: BreakwaterFastifyPlugin = async function breakwaterFastify(instance, options) {
  const routes = frameworkRoutes(options, 'breakwater/fastify');
  if (routes.requestContext) {
    instance.addHook('onRequest', (_req, _reply, done) => {
      if (RequestContext.active) done();
      else RequestContext.run(done);
    });
  }
  const stream = routes.stream;
  if (stream !== null && routes.streamPath !== false) {
    instance.get(routes.streamPath, (req, reply) => {
      reply.hijack();
      stream(req.raw, reply.raw);
    });
  }
  if (routes.metricsPath !== false) {
    instance.get(routes.metricsPath, async (req, reply) => {
      reply.hijack();
      await routes.metrics(req.raw, reply.raw);
    });
  }
  instance.addHook('preClose', (done) => {
    routes.close();
    done();
  });
};

// As fastify-plugin marks a plugin: not encapsulated (its hook applies to the whole app), and a display name.
Object.defineProperty(breakwaterFastify, Symbol.for('skip-override'), { value: true });
Object.defineProperty(breakwaterFastify, Symbol.for('fastify.display-name'), { value: 'breakwater' });
