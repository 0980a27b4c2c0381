import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promClient } from '../internal/lazyModules.js';
import { readKnown, expectBoolean, expectFunction, expectNumber } from '../config/validate.js';
import { registerPrometheus } from '../prometheus/registerPrometheus.js';
import { HOST_REFUSED, isHostAllowed, parseAllowedHosts, type AllowedHosts } from '../stream/hostCheck.js';
import { NOSNIFF, plainReply } from '../stream/plainReply.js';
import { hystrixStreamHandler } from '../stream/sseHandler.js';
import { expectWriteTimeout } from '../stream/writeWatch.js';
import { expectHost, listenServer, pathOf } from './listen.js';
import { pageCsp, renderPage, type PageStream } from './page/pageHtml.js';
import { parseUpstreams, streamLabel, StreamProxy } from './streamProxy.js';
import { writeExposition } from '../prometheus/writeExposition.js';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** TCP port; 0 picks a free one (read it from the result). @defaultValue 7979 */
  readonly port?: number;
  /**
   * Interface to bind. The default keeps the dashboard on this machine; bind another address only behind
   * `authorize` or a trusted network. @defaultValue '127.0.0.1'
   */
  readonly host?: string;
  /** Sampling interval of `/hystrix.stream` in ms (a client may ask for another with `?delay=`). @defaultValue 500 */
  readonly intervalMs?: number;
  /** Concurrent `/hystrix.stream` connections (and concurrent relays per upstream); 503 beyond. @defaultValue 20 */
  readonly maxConnections?: number;
  /**
   * Guards every route (the page, the stream, metrics and relays): called with each request before anything is
   * served; `false` (or a promise of it) answers `403`, a throw or rejection answers `500` (details are not sent).
   * Without it every request is allowed — which is why the default host is 127.0.0.1.
   */
  readonly authorize?: (req: IncomingMessage) => boolean | PromiseLike<boolean>;
  /**
   * Hystrix-compatible streams (absolute http(s) URLs) for the page to show instead of this process's own
   * `/hystrix.stream`. The server relays each at `/proxy/<n>` so the page stays same-origin.
   */
  readonly streams?: readonly (string | URL)[];
  /**
   * Treat `streams` as instances of one service: the page merges each command (and pool) across them into one
   * card, showing how many hosts report it, the circuit as "Open on 2 of 5 hosts" when they disagree, and each
   * instance's own error % and state in the card's details. Without it each stream's commands get their own cards.
   * @defaultValue false
   */
  readonly aggregate?: boolean;
  /**
   * A stream or relay client that takes no byte for this long (ms) is disconnected and its slot freed (see
   * {@link HystrixStreamOptions.writeTimeout}). @defaultValue 30000
   */
  readonly writeTimeout?: number;
  /**
   * `Host` names answered besides loopback names, `host` and the address a request arrived on (a leading dot
   * admits subdomains), or `'all'` to switch the check off. Other hosts get `403` on every route, which keeps web
   * pages on other sites from reaching the dashboard, `/metrics` and the relays through DNS rebinding.
   * @defaultValue []
   */
  readonly allowedHosts?: AllowedHosts;
}

/** A running dashboard, as returned by {@link startDashboard}. */
export interface Dashboard {
  /** The page's URL, e.g. `http://127.0.0.1:7979/`. */
  readonly url: string;
  /** The port it listens on (useful with `port: 0`). */
  readonly port: number;
  /** The underlying Node HTTP server. */
  readonly server: Server;
  /** Stops listening and ends every open connection, live streams included. Safe to call twice. */
  close(): Promise<void>;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  ...NOSNIFF,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

const PROXY_PATH = /^\/proxy\/(\d{1,4})$/;

/**
 * Starts one HTTP server with breakwater's own dashboard page at `/`, the Hystrix-compatible stream at
 * `/hystrix.stream` and Prometheus metrics at `/metrics`. Resolves once it is listening. It binds 127.0.0.1 unless
 * `host` says otherwise; everything it serves holds command, group and pool names and numbers only.
 *
 * @example
 * ```ts
 * import { startDashboard } from 'breakwater';
 * const dashboard = await startDashboard({ port: 0 });
 * console.log(dashboard.url);      // http://127.0.0.1:53127/
 * // …
 * await dashboard.close();
 * ```
 * @example Showing other processes' streams, each relayed at /proxy/n
 * ```ts
 * await startDashboard({ streams: ['http://10.0.0.5:8080/hystrix.stream', 'http://10.0.0.6:8080/hystrix.stream'] });
 * ```
 * @see {@link hystrixStreamHandler} and {@link registerPrometheus} to mount the stream or metrics in your own server.
 */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const raw = readKnown(options, 'startDashboard', ['port', 'host', 'intervalMs', 'maxConnections', 'authorize', 'streams', 'writeTimeout', 'allowedHosts', 'aggregate']);
  const port = raw.port === undefined ? 7979 : expectNumber(raw.port, 'startDashboard.port', { min: 0, max: 65535, integer: true });
  const host = raw.host === undefined ? '127.0.0.1' : expectHost(raw.host);
  const maxConnections =
    raw.maxConnections === undefined ? 20 : expectNumber(raw.maxConnections, 'startDashboard.maxConnections', { min: 1, max: 10_000, integer: true });
  const intervalMs =
    raw.intervalMs === undefined ? undefined : expectNumber(raw.intervalMs, 'startDashboard.intervalMs', { min: 1, max: 2 ** 31 - 1, integer: true, unit: 'ms' });
  const authorize =
    raw.authorize === undefined ? undefined : (expectFunction(raw.authorize, 'startDashboard.authorize') as (req: IncomingMessage) => boolean | PromiseLike<boolean>);
  const upstreams = parseUpstreams(raw.streams, 'startDashboard.streams');
  const writeTimeout = expectWriteTimeout(raw.writeTimeout, 'startDashboard.writeTimeout');
  const hosts = parseAllowedHosts(raw.allowedHosts, 'startDashboard.allowedHosts', [host]);
  const aggregate = raw.aggregate === undefined ? false : expectBoolean(raw.aggregate, 'startDashboard.aggregate');

  // The server checks every route's Host below, so the stream handler need not check it again.
  const stream = hystrixStreamHandler({ maxConnections, writeTimeout, allowedHosts: 'all', ...(intervalMs === undefined ? {} : { intervalMs }) });
  const proxy = new StreamProxy(upstreams, maxConnections, writeTimeout);
  const registry = new (promClient().Registry)();
  const prometheus = registerPrometheus(registry);
  const pageStreams: PageStream[] =
    upstreams.length === 0
      ? [{ url: 'hystrix.stream', label: 'this process' }]
      : upstreams.map((u, i) => ({ url: `proxy/${i}`, label: streamLabel(u) }));
  const page = renderPage({ streams: pageStreams, aggregate });

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const path = pathOf(req.url);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return plain(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { ...PAGE_HEADERS, 'content-security-policy': pageCsp(), 'content-length': Buffer.byteLength(page) });
      res.end(req.method === 'HEAD' ? undefined : page);
      return;
    }
    if (path === '/hystrix.stream') return stream(req, res);
    if (path === '/metrics') {
      // Written family by family as the text is ready (HEAD: headers only, no scrape).
      writeExposition(registry, req, res, { 'cache-control': 'no-store', ...NOSNIFF }, () => plain(res, 500, 'metrics unavailable\n'));
      return;
    }
    const proxied = PROXY_PATH.exec(path);
    if (proxied !== null) return proxy.handle(Number(proxied[1]), req, res);
    plain(res, 404, 'not found\n');
  };

  const server = createServer((req, res) => {
    if (!isHostAllowed(req, hosts)) return plain(res, HOST_REFUSED.status, `${HOST_REFUSED.message}\n`);
    if (authorize === undefined) return route(req, res);
    let verdict: boolean | PromiseLike<boolean>;
    try {
      verdict = authorize(req);
    } catch {
      return plain(res, 500, 'internal server error\n');
    }
    if (typeof verdict === 'boolean') return verdict ? route(req, res) : plain(res, 403, 'forbidden\n');
    Promise.resolve(verdict).then(
      (ok) => (ok === true ? route(req, res) : plain(res, 403, 'forbidden\n')),
      () => plain(res, 500, 'internal server error\n'),
    );
  });

  const listening = await listenServer(server, port, host, () => {
    stream.close();
    proxy.close();
    prometheus.unregister();
  });
  return { url: listening.baseUrl, port: listening.port, server, close: listening.close };
}

function plain(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  if (!plainReply(res, status, body, extra) && res.headersSent && !res.writableEnded) res.end();
}
